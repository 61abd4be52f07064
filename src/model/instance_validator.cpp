#include "model/instance_validator.hpp"

#include <cfloat>
#include <cmath>

#include "common/json_patch.hpp"

namespace castor::model {
namespace {

using json::sv;

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int num(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// hh:mm:ss[.frac] starting at pos; returns the position after it or npos.
std::size_t partial_time(std::string_view s, std::size_t pos) {
  if (!digits(s, pos, 2) || pos + 8 > s.size() || s[pos + 2] != ':' || !digits(s, pos + 3, 2) ||
      s[pos + 5] != ':' || !digits(s, pos + 6, 2))
    return std::string_view::npos;
  if (num(s, pos, 2) > 23 || num(s, pos + 3, 2) > 59 || num(s, pos + 6, 2) > 60)
    return std::string_view::npos;
  pos += 8;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::string_view::npos;
  }
  return pos;
}

// Z or +hh:mm / -hh:mm at pos, ending the string.
bool offset_at_end(std::string_view s, std::size_t pos) {
  if (pos == s.size() - 1 && (s[pos] == 'Z' || s[pos] == 'z')) return true;
  return pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && digits(s, pos + 1, 2) &&
         s[pos + 3] == ':' && digits(s, pos + 4, 2) && num(s, pos + 1, 2) <= 23 &&
         num(s, pos + 4, 2) <= 59;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A decimal number as DTDL v4 writes it: a JSON string of digits with an optional sign and
// decimal point ("-12.50"); no exponent, no hexadecimal, no spaces.
bool is_decimal_text(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0, dots = 0;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') ++digits;
    else if (s[i] == '.' && ++dots == 1) continue;
    else return false;
  }
  return digits > 0;
}

bool is_base64(std::string_view s) {
  if (s.size() % 4) return false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      if (++pad > 2 || i < s.size() - 2) return false;
      continue;
    }
    if (pad || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  return true;
}

bool position(const json::value& v) {
  if (!v.is_array()) return false;
  const auto& a = v.get_array();
  if (a.size() < 2 || a.size() > 3) return false;
  double d;
  for (const auto& x : a)
    if (!json::as_double(x, d)) return false;
  return true;
}

bool positions(const json::value& v, std::size_t min) {
  if (!v.is_array() || v.get_array().size() < min) return false;
  for (const auto& p : v.get_array())
    if (!position(p)) return false;
  return true;
}

bool ring(const json::value& v) { return positions(v, 4) && v.get_array().front() == v.get_array().back(); }

bool polygon(const json::value& v) {
  if (!v.is_array() || v.get_array().empty()) return false;
  for (const auto& r : v.get_array())
    if (!ring(r)) return false;
  return true;
}

// GeoJSON geometry of the given DTDL geospatial schema.
bool geojson(const json::value& v, StdSchema s) {
  if (!v.is_object()) return false;
  const auto& o = v.get_object();
  const json::value* type = o.if_contains("type");
  const json::value* coords = o.if_contains("coordinates");
  if (!type || !type->is_string() || !coords) return false;
  std::string_view t = sv(type->get_string());
  auto each = [&](auto pred) {
    if (!coords->is_array()) return false;
    for (const auto& c : coords->get_array())
      if (!pred(c)) return false;
    return true;
  };
  switch (s) {
    case StdSchema::point: return t == "Point" && position(*coords);
    case StdSchema::multiPoint: return t == "MultiPoint" && positions(*coords, 0);
    case StdSchema::lineString: return t == "LineString" && positions(*coords, 2);
    case StdSchema::multiLineString:
      return t == "MultiLineString" && each([](const json::value& c) { return positions(c, 2); });
    case StdSchema::polygon: return t == "Polygon" && polygon(*coords);
    case StdSchema::multiPolygon: return t == "MultiPolygon" && each(polygon);
    default: return false;
  }
}

bool numbers_object(const json::value& v, std::initializer_list<const char*> required,
                    std::initializer_list<const char*> optional) {
  if (!v.is_object()) return false;
  double d;
  std::size_t seen = 0;
  for (const char* k : required) {
    const json::value* x = v.get_object().if_contains(k);
    if (!x || !json::as_double(*x, d)) return false;
    ++seen;
  }
  for (const char* k : optional) {
    const json::value* x = v.get_object().if_contains(k);
    if (x && !json::as_double(*x, d)) return false;
    if (x) ++seen;
  }
  return seen == v.get_object().size();
}

bool int_in(const json::value& v, long long lo, long long hi) {
  long long n;
  return json::as_int64(v, n) && n >= lo && n <= hi;
}

bool primitive_ok(StdSchema s, const json::value& v) {
  double d;
  switch (s) {
    case StdSchema::boolean: return v.is_bool();
    case StdSchema::integer: return int_in(v, INT32_MIN, INT32_MAX);
    case StdSchema::long_: return v.is_int64() || (v.is_uint64() && v.get_uint64() <= INT64_MAX);
    case StdSchema::double_: return json::as_double(v, d);
    case StdSchema::float_: return json::as_double(v, d) && std::fabs(d) <= FLT_MAX;
    case StdSchema::string: return v.is_string();
    case StdSchema::date: return v.is_string() && is_rfc3339_date(sv(v.get_string()));
    case StdSchema::dateTime: return v.is_string() && is_rfc3339_datetime(sv(v.get_string()));
    case StdSchema::time: return v.is_string() && is_rfc3339_time(sv(v.get_string()));
    case StdSchema::duration: return v.is_string() && is_iso8601_duration(sv(v.get_string()));
    case StdSchema::byte: return int_in(v, -128, 127);
    case StdSchema::short_: return int_in(v, -32768, 32767);
    case StdSchema::unsignedByte: return int_in(v, 0, 255);
    case StdSchema::unsignedShort: return int_in(v, 0, 65535);
    case StdSchema::unsignedInteger: return int_in(v, 0, 4294967295LL);
    case StdSchema::unsignedLong: return v.is_uint64() || (v.is_int64() && v.get_int64() >= 0);
    case StdSchema::decimal: return v.is_string() && is_decimal_text(sv(v.get_string()));
    case StdSchema::bytes: return v.is_string() && is_base64(sv(v.get_string()));
    case StdSchema::uuid: return v.is_string() && is_uuid(sv(v.get_string()));
    case StdSchema::geopoint: return numbers_object(v, {"lat", "lon"}, {"alt"});
    case StdSchema::vector: return numbers_object(v, {"x", "y", "z"}, {});
    case StdSchema::scaledDecimal:
      return v.is_object() && v.get_object().size() == 2 && v.get_object().contains("scale") &&
             int_in(v.get_object().at("scale"), INT32_MIN, INT32_MAX) &&
             v.get_object().contains("value") && v.get_object().at("value").is_string();
    default: return is_geospatial(s) && geojson(v, s);
  }
}

// A JSON Pointer built lazily: segments live on the stack and are rendered only on error, so
// successful validation allocates nothing.
struct Path {
  const Path* parent = nullptr;
  std::string_view token;
  std::size_t index = 0;
  bool is_index = false;
  std::string_view prefix;  // root only: a ready-made pointer

  std::string str() const {
    std::string out = parent ? parent->str() : std::string(prefix);
    if (parent) {
      out += '/';
      out += is_index ? std::to_string(index) : json::escape_pointer_token(token);
    }
    return out;
  }
};

Path child(const Path& p, std::string_view token) { return Path{&p, token, 0, false, {}}; }
Path child(const Path& p, std::size_t i) { return Path{&p, {}, i, true, {}}; }

Status check(const Schema& schema, const json::value& v, const Path& path);

Status mismatch(const Path& p, const Schema& schema, const json::value& v) {
  std::string path = p.str();
  std::string where = path.empty() ? std::string("value") : path;
  return invalid_argument(where + ": expected " + schema.describe() + ", got " +
                          (v.is_null() ? std::string("null") : std::string(json::kind_name(v)) +
                                                                   " " + json::serialize(v).substr(0, 60)));
}

Status validate_enum(const Schema& schema, const json::value& v, const Path& p) {
  for (const auto& e : schema.enum_values) {
    if (const auto* n = std::get_if<long long>(&e.value)) {
      long long x;
      if (json::as_int64(v, x) && x == *n) return Status::ok();
    } else if (v.is_string() && sv(v.get_string()) == std::get<std::string>(e.value)) {
      return Status::ok();
    }
  }
  std::string allowed;
  for (const auto& e : schema.enum_values) {
    if (!allowed.empty()) allowed += ", ";
    if (const auto* n = std::get_if<long long>(&e.value)) allowed += std::to_string(*n);
    else allowed += "\"" + std::get<std::string>(e.value) + "\"";
  }
  std::string path = p.str();
  return invalid_argument((path.empty() ? std::string("value") : path) + ": " +
                          json::serialize(v).substr(0, 60) + " is not one of the enum values (" +
                          allowed + ")");
}

Status check_writable(const ContentDef& c, const InstanceOptions& o) {
  if (o.enforce_writable && !c.writable)
    return failed_precondition("property '" + c.name + "' is not writable in its model");
  return Status::ok();
}

Status validate_component(const CompiledInterface& iface, std::string_view name,
                          const json::value& v, const InstanceOptions& options) {
  if (!v.is_object())
    return invalid_argument("/" + std::string(name) + ": component must be an object (it may be "
                            "empty: {\"$metadata\": {}})");
  for (const auto& kv : v.get_object()) {
    std::string_view key = sv(kv.key());
    if (key == "$metadata") continue;
    const ContentDef* c = iface.find(key);
    Path root;
    Path comp = child(root, name);
    Path at = child(comp, key);
    if (!c) return invalid_argument(at.str() + ": component model " + iface.id + " has no property '" + std::string(key) + "'");
    if (c->kind != ContentKind::property)
      return invalid_argument(at.str() + ": '" + std::string(key) + "' is not a property of " + iface.id);
    CASTOR_RETURN_IF_ERROR(check_writable(*c, options));
    if (c->schema) CASTOR_RETURN_IF_ERROR(check(*c->schema, kv.value(), at));
  }
  return Status::ok();
}

const char* kind_word(ContentKind k) {
  switch (k) {
    case ContentKind::property: return "a property";
    case ContentKind::telemetry: return "a telemetry";
    case ContentKind::relationship: return "a relationship";
    case ContentKind::component: return "a component";
    case ContentKind::command: return "a command";
  }
  return "";
}

Status check(const Schema& schema, const json::value& v, const Path& path) {
  switch (schema.kind) {
    case SchemaKind::primitive:
      return primitive_ok(schema.primitive, v) ? Status::ok() : mismatch(path, schema, v);
    case SchemaKind::enumeration:
      return validate_enum(schema, v, path);
    case SchemaKind::array: {
      if (!v.is_array()) return mismatch(path, schema, v);
      if (!schema.element) return Status::ok();
      const auto& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i)
        CASTOR_RETURN_IF_ERROR(check(*schema.element, a[i], child(path, i)));
      return Status::ok();
    }
    case SchemaKind::map: {
      if (!v.is_object()) return mismatch(path, schema, v);
      for (const auto& kv : v.get_object()) {
        std::string_view key = sv(kv.key());
        if (key.empty()) return invalid_argument(path.str() + ": map keys must not be empty");
        if (schema.element) CASTOR_RETURN_IF_ERROR(check(*schema.element, kv.value(), child(path, key)));
      }
      return Status::ok();
    }
    case SchemaKind::object: {
      if (!v.is_object()) return mismatch(path, schema, v);
      for (const auto& kv : v.get_object()) {
        std::string_view key = sv(kv.key());
        const FieldDef* f = schema.field(key);
        if (!f) {
          std::string names;
          for (const auto& fd : schema.fields) names += (names.empty() ? "" : ", ") + fd.name;
          return invalid_argument(child(path, key).str() + ": the object has no field '" +
                                  std::string(key) + "' (fields: " + names + ")");
        }
        if (f->schema) CASTOR_RETURN_IF_ERROR(check(*f->schema, kv.value(), child(path, key)));
      }
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace

bool is_rfc3339_date(std::string_view s) noexcept {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2))
    return false;
  int y = num(s, 0, 4), m = num(s, 5, 2), d = num(s, 8, 2);
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= days[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

bool is_rfc3339_datetime(std::string_view s) noexcept {
  if (s.size() < 20 || !is_rfc3339_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't'))
    return false;
  std::size_t end = partial_time(s, 11);
  return end != std::string_view::npos && offset_at_end(s, end);
}

bool is_rfc3339_time(std::string_view s) noexcept {
  std::size_t end = partial_time(s, 0);
  return end != std::string_view::npos && (end == s.size() || offset_at_end(s, end));
}

bool is_iso8601_duration(std::string_view s) noexcept {
  // P[nY][nM][nW][nD][T[nH][nM][n[.n]S]] with at least one component.
  if (s.size() < 2 || s[0] != 'P') return false;
  std::size_t i = 1;
  bool in_time = false, any = false;
  const std::string_view date_units = "YMWD", time_units = "HMS";
  std::size_t last_unit = 0;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time || i + 1 == s.size()) return false;
      in_time = true;
      last_unit = 0;
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    bool frac = false;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
      frac = true;
      ++i;
      std::size_t fs = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == fs) return false;
    }
    if (i == start || i >= s.size()) return false;
    std::string_view units = in_time ? time_units : date_units;
    std::size_t u = units.find(s[i]);
    if (u == std::string_view::npos || u + 1 <= last_unit) return false;
    if (frac && !(in_time && s[i] == 'S')) return false;
    last_unit = u + 1;
    any = true;
    ++i;
  }
  return any;
}

Status validate_value(const Schema& schema, const json::value& v, std::string_view path) {
  Path root;
  root.prefix = path;
  return check(schema, v, root);
}

Status validate_property(const CompiledInterface& model, std::string_view component,
                         std::string_view name, const json::value& v, const InstanceOptions& options) {
  const CompiledInterface* iface = &model;
  Path root;
  Path comp = child(root, component);
  const Path& base = component.empty() ? root : comp;
  if (!component.empty()) {
    auto it = model.components.find(component);
    if (it == model.components.end())
      return invalid_argument(comp.str() + ": model " + model.id + " has no component '" +
                              std::string(component) + "'");
    iface = it->second.get();
  }
  Path at = child(base, name);
  const ContentDef* c = iface->find(name);
  if (!c) return invalid_argument(at.str() + ": model " + iface->id + " has no property '" + std::string(name) + "'");
  if (c->kind != ContentKind::property)
    return invalid_argument(at.str() + ": '" + std::string(name) + "' is " + kind_word(c->kind) +
                            " of " + iface->id + ", not a property");
  CASTOR_RETURN_IF_ERROR(check_writable(*c, options));
  return c->schema ? check(*c->schema, v, at) : Status::ok();
}

Status validate_twin(const CompiledInterface& model, const json::object& twin,
                     const InstanceOptions& options) {
  for (const auto& kv : twin) {
    std::string_view key = sv(kv.key());
    if (!key.empty() && key.front() == '$') {
      if (key == "$dtId" || key == "$etag" || key == "$metadata" || key == "$lastUpdateTime") continue;
      return invalid_argument("/" + std::string(key) + ": unknown system property; only $dtId, $etag "
                              "and $metadata may appear");
    }
    const ContentDef* c = model.find(key);
    if (!c) return invalid_argument("/" + std::string(key) + ": model " + model.id + " has no property '" + std::string(key) + "'");
    if (c->kind == ContentKind::component) {
      auto it = model.components.find(key);
      if (it != model.components.end())
        CASTOR_RETURN_IF_ERROR(validate_component(*it->second, key, kv.value(), options));
      continue;
    }
    if (c->kind != ContentKind::property)
      return invalid_argument("/" + std::string(key) + ": '" + std::string(key) + "' is " + kind_word(c->kind) +
                              " of " + model.id + ", not a property; only properties and components "
                              "can be set on a twin");
    CASTOR_RETURN_IF_ERROR(check_writable(*c, options));
    if (c->schema) {
      Path root;
      CASTOR_RETURN_IF_ERROR(check(*c->schema, kv.value(), child(root, key)));
    }
  }
  if (options.require_components) {
    for (const auto& [name, iface] : model.components)
      if (!twin.contains(name))
        return invalid_argument("/" + name + ": component '" + name + "' must be present when the twin is "
                                "created (use {\"$metadata\": {}} for an empty component)");
  }
  return Status::ok();
}

Result<json::object> apply_twin_patch(const CompiledInterface& model, const json::object& twin,
                                      const json::value& patch, const InstanceOptions& options) {
  auto ops = json::parse_patch(patch);
  if (!ops) return ops.status();
  for (const auto& op : *ops) {
    if (op.path.empty()) return invalid_argument("a patch may not replace the whole twin");
    bool from_system = !op.from.empty() && !op.from.front().empty() && op.from.front().front() == '$';
    if ((!op.path.front().empty() && op.path.front().front() == '$') ||
        (op.kind == json::PatchOp::Kind::move && from_system))
      return invalid_argument(op.path_text + ": system properties ($dtId, $metadata, ...) cannot be patched");
    if (op.kind == json::PatchOp::Kind::move && op.from.empty())
      return invalid_argument(op.path_text + ": a patch may not move the whole twin");
  }
  json::value doc = twin;
  CASTOR_RETURN_IF_ERROR(json::apply_patch(doc, *ops));
  InstanceOptions o = options;
  o.require_components = true;  // a patch must not remove a component
  // Validate only what the patch touched: the top-level member of each op's path, and of the
  // source of a move (which removes it there).
  std::vector<std::string> touched;
  for (const auto& op : *ops) {
    touched.push_back(op.path.front());
    if (op.kind == json::PatchOp::Kind::move) touched.push_back(op.from.front());
  }
  for (const std::string& top : touched) {
    const json::value* now = doc.get_object().if_contains(top);
    const ContentDef* c = model.find(top);
    if (!c) return invalid_argument("/" + top + ": model " + model.id + " has no property '" + top + "'");
    if (c->kind == ContentKind::component) {
      if (!now) return invalid_argument("/" + top + ": a component cannot be removed");
      auto it = model.components.find(top);
      if (it != model.components.end()) CASTOR_RETURN_IF_ERROR(validate_component(*it->second, top, *now, o));
      continue;
    }
    if (now) CASTOR_RETURN_IF_ERROR(validate_property(model, "", top, *now, o));
    else if (c->kind != ContentKind::property)
      return invalid_argument("/" + top + ": '" + top + "' is " + kind_word(c->kind) + ", not a property");
  }
  return std::move(doc.get_object());
}

Status validate_relationship(const CompiledInterface& source, const json::object& rel,
                             const CompiledInterface* target) {
  const json::value* name = rel.if_contains("$relationshipName");
  if (!name || !name->is_string())
    return invalid_argument("/$relationshipName: a relationship needs its name as a string");
  const ContentDef* c = source.find(sv(name->get_string()));
  if (!c || c->kind != ContentKind::relationship)
    return invalid_argument("/$relationshipName: model " + source.id + " has no relationship '" +
                            std::string(sv(name->get_string())) + "'");
  const json::value* tid = rel.if_contains("$targetId");
  if (!tid || !tid->is_string() || tid->get_string().empty())
    return invalid_argument("/$targetId: a relationship needs the target twin id as a string");
  if (target && !c->target.empty() && !target->is_a(c->target))
    return invalid_argument("/$targetId: relationship '" + c->name + "' must target a twin of model " +
                            c->target + ", but the target's model is " + target->id);
  for (const auto& kv : rel) {
    std::string_view key = sv(kv.key());
    if (!key.empty() && key.front() == '$') {
      if (key == "$relationshipId" || key == "$relationshipName" || key == "$targetId" ||
          key == "$sourceId" || key == "$etag")
        continue;
      return invalid_argument("/" + std::string(key) + ": unknown system property of a relationship");
    }
    const ContentDef* p = nullptr;
    for (const auto& rp : c->properties)
      if (rp.name == key) p = &rp;
    if (!p)
      return invalid_argument("/" + std::string(key) + ": relationship '" + c->name + "' has no property '" +
                              std::string(key) + "'");
    Path root;
    if (p->schema) CASTOR_RETURN_IF_ERROR(check(*p->schema, kv.value(), child(root, key)));
  }
  return Status::ok();
}

Status validate_telemetry(const CompiledInterface& model, std::string_view component,
                          const json::object& payload) {
  const CompiledInterface* iface = &model;
  if (!component.empty()) {
    auto it = model.components.find(component);
    if (it == model.components.end())
      return invalid_argument("model " + model.id + " has no component '" + std::string(component) + "'");
    iface = it->second.get();
  }
  for (const auto& kv : payload) {
    std::string_view key = sv(kv.key());
    const ContentDef* c = iface->find(key);
    if (!c || c->kind != ContentKind::telemetry)
      return invalid_argument("/" + std::string(key) + ": model " + iface->id + " has no telemetry '" +
                              std::string(key) + "'");
    Path root;
    if (c->schema) CASTOR_RETURN_IF_ERROR(check(*c->schema, kv.value(), child(root, key)));
  }
  return Status::ok();
}

}  // namespace castor::model
