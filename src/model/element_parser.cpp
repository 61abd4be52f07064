#include "model/element_parser.hpp"

#include <algorithm>

#include "model/context.hpp"
#include "model/dtmi.hpp"
#include "model/extensions.hpp"
#include "model/instance_validator.hpp"
#include "model/literals.hpp"
#include "model/vocabulary.hpp"

namespace castor::model {
namespace {

std::string key_path(const std::string& base, std::string_view key) {
  std::string p = base;
  bool simple = !key.empty();
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') simple = false;
  if (simple) {
    p += '.';
    p += key;
  } else {
    p += "['";
    p += key;
    p += "']";
  }
  return p;
}

std::string index_path(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

using json::sv;

// The element-valued member names that give each ValidationID family its word.
std::string class_list(ClsMask m) {
  std::string s;
  for (int i = 0; i < kClsCount; ++i) {
    if (!has(m, static_cast<Cls>(i))) continue;
    if (!s.empty()) s += ", ";
    s += cls_name(static_cast<Cls>(i));
  }
  return s;
}

// Values included by a member: the members of an array, or the value itself.
std::vector<const json::value*> included(const json::value& v) {
  std::vector<const json::value*> out;
  if (v.is_array()) {
    for (const auto& e : v.get_array()) out.push_back(&e);
  } else {
    out.push_back(&v);
  }
  return out;
}

bool cardinality_ok(Card card, std::size_t n) {
  switch (card) {
    case Card::one: return n == 1;
    case Card::optional: return n <= 1;
    case Card::many: return true;
  }
  return true;
}

const char* cardinality_text(Card card) {
  switch (card) {
    case Card::one: return "exactly one value";
    case Card::optional: return "at most one value";
    case Card::many: return "any number of values";
  }
  return "";
}

// When a term is defined by an extension missing from @context, say which one to add.
std::string extension_hint(std::string_view term, int version) {
  for (const Extension& x : known_extensions())
    if (version >= x.min_dtdl && version <= x.max_dtdl && x.defines(term))
      return "; it is defined by the extension " + x.context + ", which you can add to @context";
  return "";
}

}  // namespace

void ElementParser::error(std::string_view id, const std::string& path, std::string message) {
  diag_.add(id, doc_, path, current_id_, std::move(message));
}

void ElementParser::parse_document(const json::value& doc, std::uint32_t doc_index) {
  doc_ = doc_index;
  current_id_.clear();
  if (doc.is_object()) {
    parse_top_level(doc.get_object(), "$");
    return;
  }
  if (doc.is_array()) {
    const auto& arr = doc.get_array();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_object()) {
        error("badDocument", index_path("$", i),
              "a DTDL document must be an object or an array of objects; this value is " +
                  std::string(json::kind_name(arr[i])));
        continue;
      }
      current_id_.clear();
      parse_top_level(arr[i].get_object(), index_path("$", i));
    }
    return;
  }
  error("badDocument", "$",
        "a DTDL document must be an object or an array of objects, but it is " +
            std::string(json::kind_name(doc)));
}

void ElementParser::parse_top_level(const json::object& obj, const std::string& path) {
  if (const auto* id = obj.if_contains("@id"); id && id->is_string()) current_id_ = sv(id->get_string());
  if (!obj.contains("@context")) {
    error("missingContext", path,
          "a top-level element needs an @context member naming the DTDL version, e.g. "
          "\"@context\": \"dtmi:dtdl:context;3\"");
    return;
  }
  ElementIndex i = parse_element(obj, Parent{}, path);
  if (i != kNoElement) model_.top_level.push_back(i);
}

bool ElementParser::resolve_context(const json::object& obj, const Parent& parent, bool top_level,
                                    const std::string& path, std::uint32_t& ctx) {
  ctx = parent.context;
  const json::value* v = obj.if_contains("@context");
  if (!v) return true;
  const ActiveContext* base = top_level ? nullptr : &model_.contexts[parent.context];
  ActiveContext merged;
  std::vector<ContextProblem> problems;
  bool ok = merge_context(*v, base, merged, problems);
  for (auto& p : problems) error(p.id, key_path(path, "@context"), std::move(p.message));
  if (!ok) return false;
  if (top_level) {
    bool has_dtdl = false;
    for (const auto& e : merged.entries)
      if (e.rfind("dtmi:dtdl:context;", 0) == 0) has_dtdl = true;
    if (!has_dtdl || merged.version == 0) {
      error("missingDtdlContext", key_path(path, "@context"),
            "the @context of a top-level element must include the DTDL context, e.g. "
            "\"dtmi:dtdl:context;3\"");
      return false;
    }
  }
  if (merged.version > options_.max_dtdl_version) {
    error("disallowedContextVersion", key_path(path, "@context"),
          "DTDL version " + std::to_string(merged.version) + " is above the highest version " +
              std::to_string(options_.max_dtdl_version) + " accepted here");
    return false;
  }
  if (merged.undefined_extension && !allow_undefined(merged.version)) {
    std::string names;
    for (const auto& e : merged.entries) {
      bool lim = false;
      (void)lim;
      if (e.rfind("dtmi:dtdl:context;", 0) == 0) continue;
      if (!find_extension(e, merged.version)) names += (names.empty() ? "" : ", ") + e;
    }
    error("undefinedExtension", key_path(path, "@context"),
          "@context names extension(s) Castor does not know (" + names +
              "); remove them, or accept unknown extensions explicitly");
    return false;
  }
  model_.contexts.push_back(std::move(merged));
  ctx = static_cast<std::uint32_t>(model_.contexts.size() - 1);
  return true;
}

bool ElementParser::choose_class(const json::object& obj, const Parent& parent, int version,
                                 const std::string& path, Cls& cls,
                                 std::vector<std::string>& others) {
  const Metamodel& mm = metamodel(version);
  const Vocabulary& voc = vocabulary(version);
  ClsMask allowed = parent.via ? parent.via->allowed : bit(Cls::Interface);
  std::vector<Cls> material;
  const json::value* type = obj.if_contains("@type");
  if (type) {
    bool ok = type->is_string() || type->is_array();
    if (type->is_array())
      for (const auto& t : type->get_array()) ok = ok && t.is_string();
    if (!ok) {
      error("badType", key_path(path, "@type"), "@type must be a string or an array of strings");
      return false;
    }
    for (const auto* t : included(*type)) {
      std::string s(sv(t->get_string()));
      auto c = voc.class_of(s);
      if (c && mm.available(*c) && has(allowed, *c) &&
          std::find(material.begin(), material.end(), *c) == material.end() && material.empty()) {
        material.push_back(*c);
      } else if (c && mm.available(*c) && has(allowed, *c) && !material.empty() && *c == material[0]) {
        // a duplicate of the material class: discouraged, harmless
      } else {
        others.push_back(std::move(s));
      }
    }
  }
  if (!material.empty()) {
    cls = material.front();
    return true;
  }
  // No allowed material class named: maybe the parent member implies it.
  std::string where = parent.via ? "member '" + std::string(prop_name(parent.via->prop)) + "'"
                                 : "the top level of a document";
  for (const auto& s : others) {
    auto c = voc.class_of(s);
    if (c && mm.available(*c)) {
      error(parent.via ? "badType" : "typeNotRootable", key_path(path, "@type"),
            with_article(*c) + " is not allowed in " + where + ", which takes " +
                class_list(allowed));
      return false;
    }
  }
  for (int i = 0; i < kClsCount; ++i) {
    auto c = static_cast<Cls>(i);
    if (!has(allowed, c) || !mm.available(c) || !mm.cls(c).type_optional) continue;
    if (type) {
      error("badType", key_path(path, "@type"),
            "@type must include \"" + std::string(cls_name(c)) + "\" (or may be omitted here)");
      return false;
    }
    cls = c;
    return true;
  }
  if (!type) {
    error("missingRequiredProperty", path,
          "element has no @type; in " + where + " it must be one of: " + class_list(allowed));
  } else {
    error("badType", key_path(path, "@type"),
          "@type must name one of " + class_list(allowed) + " in " + where);
  }
  return false;
}

void ElementParser::classify_cotypes(Element& e, const std::vector<std::string>& others) {
  const ActiveContext& ctx = model_.contexts[e.context];
  const Vocabulary& voc = vocabulary(e.version);
  const std::string path = key_path(e.path, "@type");
  std::vector<const void*> semantic;  // distinct semantic types named
  for (const std::string& s : others) {
    const AdjunctType* adj = nullptr;
    bool defined_elsewhere = false;
    for (const Extension* x : ctx.extensions) {
      if (const AdjunctType* a = x->adjunct(s); a && has(a->applies_to, e.cls)) adj = a;
      else if (x->defines(s)) defined_elsewhere = true;
    }
    if (adj) {
      if (adj->semantic && std::find(semantic.begin(), semantic.end(), adj) == semantic.end())
        semantic.push_back(adj);
      if (!e.has_cotype(adj->term)) e.cotypes.push_back(adj->term);
      continue;
    }
    if (e.version == 2 && (e.cls == Cls::Telemetry || e.cls == Cls::Property)) {
      TermHit hit;
      if (const SemanticType* st = voc.semantic_type(s, &hit)) {
        if (std::find(semantic.begin(), semantic.end(), st) == semantic.end()) semantic.push_back(st);
        if (!e.has_cotype(st->term)) e.cotypes.push_back(st->term);
        continue;
      }
    }
    bool starts_dtmi = s.rfind("dtmi:", 0) == 0;
    if (starts_dtmi && !is_dtmi(s, e.version)) {
      error("badDtmiOrTerm", path, "@type value '" + s + "' starts with 'dtmi:' but is not a valid DTMI");
    } else if (!starts_dtmi && s.find(':') != std::string::npos) {
      if (e.version == 2) e.informally_cotyped = true;
      else error("badDtmiOrTerm", path, "@type value '" + s + "' is neither a DTMI nor a DTDL term");
    } else if (defined_elsewhere || starts_dtmi || voc.is_reserved(s)) {
      if (ctx.undefined_extension) e.informally_cotyped = true;
      else error("invalidCotype", path, "'" + s + "' cannot co-type " + with_article(e.cls));
    } else {  // an undefined term
      if (e.version == 2 || ctx.undefined_extension) e.informally_cotyped = true;
      else
        error("undefinedTerm", path, "@type value '" + s +
                                         "' is not defined by DTDL or any extension in @context" +
                                         extension_hint(s, e.version));
    }
  }
  if (semantic.size() > 1)
    error("multipleSemanticTypes", path, "an element may have at most one semantic type");
  for (const Extension* x : ctx.extensions)
    for (const auto& c : e.cotypes)
      if (const AdjunctType* a = x->adjunct(c); a && !a->requires_cotype.empty() && !e.has_cotype(a->requires_cotype))
        error("invalidCotype", path, "co-type " + c + " needs the element to be co-typed " + a->requires_cotype + " too");
}

void ElementParser::parse_id(const json::object& obj, Element& e, const Parent& parent) {
  const json::value* id = obj.if_contains("@id");
  const std::string path = key_path(e.path, "@id");
  if (!id) {
    if (e.cls == Cls::Interface) {
      error("missingRequiredProperty", e.path, "an Interface needs an @id (a DTMI such as dtmi:com:example:Pump;1)");
    } else if (parent.via && parent.via->prop == Prop::schemas) {
      error("missingRequiredProperty", e.path,
            with_article(e.cls) + " in 'schemas' needs an @id so it can be referenced");
    }
    return;
  }
  if (!id->is_string()) {
    error("invalidId", path, "@id must be a single string DTMI, not " + std::string(json::kind_name(*id)));
    return;
  }
  std::string s(sv(id->get_string()));
  if (!is_dtmi(s, e.version)) {
    std::string hint;
    if (e.version == 2 && s.find(';') == std::string::npos) hint = " (DTDL v2 needs a version, e.g. dtmi:com:example:Pump;1)";
    else if (e.version == 2 && s.find('.', s.find(';')) != std::string::npos) hint = " (DTDL v2 versions have no minor part: use ;2, not ;2.1)";
    error("invalidId", path, "@id '" + s + "' is not a valid DTMI" + hint);
    return;
  }
  if (has_reserved_prefix(s)) {
    error("reservedId", path, "@id '" + s + "' uses a prefix reserved for DTDL (dtmi:dtdl: or dtmi:standard:)");
    return;
  }
  if ((e.cls == Cls::Interface && s.size() > 128) || s.size() > 2048) {
    error("idTooLong", path, std::string(e.cls == Cls::Interface ? "an Interface @id may be at most 128"
                                                                 : "an @id may be at most 2048") +
                                 " characters; this one has " + std::to_string(s.size()));
    return;
  }
  e.id = std::move(s);
  e.id_explicit = true;
  current_id_ = e.id;
}

bool ElementParser::allow_undefined(int version) const {
  switch (options_.undefined_extensions) {
    case UndefinedExtensions::allow: return true;
    case UndefinedExtensions::disallow: return false;
    case UndefinedExtensions::by_version: return version == 2;
  }
  return false;
}

ElementIndex ElementParser::parse_element(const json::object& obj, const Parent& parent,
                                          const std::string& path) {
  std::uint32_t ctx = 0;
  if (!resolve_context(obj, parent, parent.via == nullptr, path, ctx)) return kNoElement;
  int version = model_.contexts[ctx].version;
  Cls cls;
  std::vector<std::string> others;
  if (!choose_class(obj, parent, version, path, cls, others)) return kNoElement;

  const std::string saved_id = current_id_;
  ElementIndex self = static_cast<ElementIndex>(model_.elements.size());
  model_.elements.emplace_back();
  {
    Element& e = el(self);
    e.cls = cls;
    e.version = static_cast<std::uint8_t>(version);
    e.top_level = parent.via == nullptr;
    e.parent = parent.index;
    e.parent_prop = parent.via ? parent.via->prop : Prop::contents;
    e.doc = doc_;
    e.path = path;
    e.context = ctx;
    bool own_partition = e.top_level || cls == Cls::Interface;
    e.partition = own_partition ? self : parent.partition;
    parse_id(obj, e, parent);
    classify_cotypes(e, others);
  }
  parse_members(obj, self);
  current_id_ = saved_id;
  return self;
}

void ElementParser::assign_synthetic_ids() {
  // Parents precede their children, so a parent's id is always known when a child needs it.
  for (ElementIndex i = 0; i < model_.elements.size(); ++i) {
    Element& e = el(i);
    if (!e.id.empty()) continue;
    std::string base = "dtmi:castor:anonymous";
    std::string version = ";1";
    if (e.parent != kNoElement) {
      const std::string& pid = el(e.parent).id;
      std::size_t semi = pid.find(';');
      base = pid.substr(0, semi);
      version = semi == std::string::npos ? "" : pid.substr(semi);
    }
    // Segments starting with '_' cannot appear in user DTMIs: synthetic ids never collide.
    std::string tail = e.name.empty() ? std::to_string(i) : e.name;
    e.id = base + ":_" + std::string(prop_name(e.parent_prop)) + ":__" + tail + version;
  }
}

void ElementParser::parse_members(const json::object& obj, ElementIndex self) {
  const int version = el(self).version;
  const Vocabulary& voc = vocabulary(version);
  const ClassSpec& spec = metamodel(version).cls(el(self).cls);
  std::array<signed char, kPropCount> seen{};  // 0 none, 1 term, 2 dtmi, 3 both
  bool saw_unit = false, saw_unit_dtmi = false;
  std::vector<std::string> member_names;

  for (const auto& kv : obj) {
    std::string key(sv(kv.key()));
    const std::string path = key_path(el(self).path, key);
    if (key == "@context" || key == "@id" || key == "@type") continue;
    if (!key.empty() && key.front() == '@') {
      if (version >= 3 || key == "@graph")
        error("invalidKeyword", path, "member '" + key + "' is a JSON-LD keyword DTDL does not allow here");
      continue;
    }
    TermHit hit;
    auto prop = voc.property_of(key, &hit);
    const PropSpec* ps = prop ? spec.find(*prop) : nullptr;
    if (ps) {
      auto& s = seen[static_cast<int>(*prop)];
      s |= hit.dtmi_form ? 2 : 1;
      if (s == 3) {
        error("duplicateProperty", path, "member '" + std::string(prop_name(*prop)) +
                                             "' is given both as a term and as a DTMI; keep one");
        continue;
      }
      parse_member(self, *ps, kv.value(), path);
      continue;
    }
    if (version == 2 && (key == "unit" || key == "dtmi:dtdl:property:unit;2")) {
      Element& e = el(self);
      bool semantic = false;
      for (const auto& c : e.cotypes)
        if (voc.semantic_type(c)) semantic = true;
      if (semantic) {
        (key == "unit" ? saw_unit : saw_unit_dtmi) = true;
        if (saw_unit && saw_unit_dtmi) {
          error("duplicateProperty", path, "member 'unit' is given both as a term and as a DTMI");
          continue;
        }
        LiteralProblem p;
        auto items = included(kv.value());
        if (items.size() != 1 || !items[0]->is_string()) {
          error("badUnit", path, "'unit' must be a single unit name such as \"degreeCelsius\"");
          continue;
        }
        e.unit = std::string(sv(items[0]->get_string()));
        continue;
      }
    }
    if (parse_adjunct_member(el(self), key, kv.value(), path)) {
      member_names.push_back(key);
      continue;
    }
    check_undefined_member(el(self), key, path);
  }

  // Required members.
  Element& e = el(self);
  check_adjuncts(e, member_names);
  for (const auto& ps : spec.props) {
    if (ps.required && !seen[static_cast<int>(ps.prop)]) {
      error("missingRequiredProperty", e.path,
            with_article(e.cls) + " needs a '" + std::string(prop_name(ps.prop)) +
                "' member");
    }
  }
}

namespace {

// MQTT topic pattern: '/'-separated labels, each literal printable ASCII (no space, '"', '+',
// '#', '{', '}') or a {token} (letters, optionally prefixed "letters:"); no leading '$'.
bool is_topic_pattern(std::string_view t) {
  if (t.empty() || t.front() == '$') return false;
  std::size_t start = 0;
  while (start <= t.size()) {
    std::size_t slash = t.find('/', start);
    std::string_view label = t.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (label.empty()) return false;
    if (label.front() == '{') {
      if (label.size() < 3 || label.back() != '}') return false;
      std::string_view tok = label.substr(1, label.size() - 2);
      std::size_t colon = tok.find(':');
      auto letters = [](std::string_view x) {
        if (x.empty()) return false;
        for (char c : x)
          if (!std::isalpha(static_cast<unsigned char>(c))) return false;
        return true;
      };
      if (colon == std::string_view::npos ? !letters(tok) : !letters(tok.substr(0, colon)) || !letters(tok.substr(colon + 1)))
        return false;
    } else {
      for (char c : label)
        if (c <= ' ' || c > '~' || c == '"' || c == '+' || c == '#' || c == '{' || c == '}') return false;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

bool ElementParser::parse_adjunct_member(Element& e, const std::string& key, const json::value& v,
                                         const std::string& path) {
  const ActiveContext& ctx = model_.contexts[e.context];
  for (const Extension* x : ctx.extensions) {
    for (const auto& c : e.cotypes) {
      const AdjunctType* a = x->adjunct(c);
      if (!a) continue;
      for (const auto& p : a->props) {
        if (p.name != key) continue;
        auto items = included(v);
        if (items.size() != 1) {
          error("badValue", path, "'" + key + "' takes exactly one value");
          return true;
        }
        LiteralProblem lp;
        std::string text;
        long long n = 0;
        if (p.kind == ValueKind::integer) {
          if (!read_integer(*items[0], e.version, n, lp)) error(lp.id, path, "'" + key + "': " + lp.message);
          else if (p.format == Format::positive && n < 1) error("badValue", path, "'" + key + "' must be at least 1, not " + std::to_string(n));
          else e.extension_values.emplace_back(key, std::to_string(n));
        } else if (!read_string(*items[0], e.version, text, lp)) {
          error(lp.id, path, "'" + key + "': " + lp.message);
        } else if (p.format == Format::duration && !is_iso8601_duration(text)) {
          error("badValue", path, "'" + key + "' must be an ISO 8601 duration such as \"PT30S\", not '" + text + "'");
        } else if (p.format == Format::topic_pattern && !is_topic_pattern(text)) {
          error("badValue", path, "'" + key + "' must be an MQTT topic pattern: labels separated by '/', "
                                  "literal or {token}, without wildcards, spaces or a leading '$'");
        } else if (p.kind == ValueKind::unit) {
          e.unit = text;
          e.extension_values.emplace_back(key, text);
        } else {
          e.extension_values.emplace_back(key, text);
        }
        return true;
      }
    }
  }
  return false;
}

void ElementParser::check_adjuncts(Element& e, const std::vector<std::string>& seen_members) {
  const ActiveContext& ctx = model_.contexts[e.context];
  for (const Extension* x : ctx.extensions)
    for (const auto& c : e.cotypes)
      if (const AdjunctType* a = x->adjunct(c))
        for (const auto& p : a->props)
          if (p.required && std::find(seen_members.begin(), seen_members.end(), p.name) == seen_members.end())
            error("missingRequiredProperty", e.path, "co-type " + c + " needs a '" + p.name + "' member");
}

void ElementParser::check_undefined_member(Element& e, const std::string& key,
                                           const std::string& path) {
  const Vocabulary& voc = vocabulary(e.version);
  const ActiveContext& ctx = model_.contexts[e.context];
  bool starts_dtmi = key.rfind("dtmi:", 0) == 0;
  bool defined_by_extension = false;
  for (const Extension* x : ctx.extensions)
    if (x->defines(key)) defined_by_extension = true;
  if (starts_dtmi && !is_dtmi(key, e.version)) {
    if (e.version >= 3 || !e.informally_cotyped)
      error("badDtmiOrTerm", path, "member name '" + key + "' starts with 'dtmi:' but is not a valid DTMI");
    return;
  }
  if (!starts_dtmi && key.find(':') != std::string::npos) {
    if (e.version >= 3 || !e.informally_cotyped)
      error("badDtmiOrTerm", path, "member name '" + key + "' is neither a DTMI nor a DTDL term");
    return;
  }
  if (e.informally_cotyped) return;
  if (starts_dtmi || voc.is_reserved(key) || defined_by_extension) {
    error("irrelevantMember", path,
          "member '" + key + "' does not belong on " + with_article(e.cls) +
              (defined_by_extension ? " without the co-type that defines it" : ""));
  } else {
    std::string hint = extension_hint(key, e.version);
    error("undefinedTerm", path,
          "member '" + key + "' is not defined for " + with_article(e.cls) +
              (hint.empty() ? " (check the spelling; DTDL names are case-sensitive)" : hint));
  }
}

void ElementParser::parse_member(ElementIndex self, const PropSpec& spec, const json::value& v,
                                 const std::string& path) {
  const int version = el(self).version;
  const std::string pname(prop_name(spec.prop));
  if (spec.kind == ValueKind::lang_string) {
    LiteralProblem p;
    LangString out;
    if (!read_lang_string(v, version, spec.max_length, out, p)) {
      error(p.id, path, "'" + pname + "': " + p.message);
      return;
    }
    (spec.prop == Prop::description ? el(self).description : el(self).display_name) = std::move(out);
    return;
  }
  auto items = included(v);
  if (!cardinality_ok(spec.card, items.size())) {
    error("badCardinality", path, "'" + pname + "' takes " + cardinality_text(spec.card) +
                                      ", but has " + std::to_string(items.size()));
    return;
  }
  if (spec.kind == ValueKind::elements || spec.kind == ValueKind::schema) {
    parse_element_values(self, spec, items, path);
    return;
  }
  const Vocabulary& voc = vocabulary(version);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json::value& item = *items[i];
    const std::string ipath = v.is_array() ? index_path(path, i) : path;
    LiteralProblem p;
    Element& e = el(self);
    switch (spec.kind) {
      case ValueKind::string: {
        std::string s;
        if (!read_string(item, version, s, p)) {
          error(p.id, ipath, "'" + pname + "': " + p.message);
        } else if (spec.max_length && utf8_length(s) > spec.max_length) {
          error("stringTooLong", ipath, "'" + pname + "' may be at most " +
                                            std::to_string(spec.max_length) + " characters; it has " +
                                            std::to_string(utf8_length(s)));
        } else if (spec.name_pattern && !is_dtdl_name(s)) {
          error("badName", ipath, "'" + pname + "' value '" + s +
                                      "' must start with a letter and contain only letters, digits "
                                      "and underscores (not ending with an underscore)");
        } else {
          (spec.prop == Prop::name ? e.name : e.comment) = std::move(s);
        }
        break;
      }
      case ValueKind::integer: {
        long long n = 0;
        if (!read_integer(item, version, n, p)) {
          error(p.id, ipath, "'" + pname + "': " + p.message);
        } else if ((spec.has_min && n < spec.min_value) || (spec.has_max && n > spec.max_value)) {
          std::string range = spec.has_min && spec.has_max && spec.min_value == spec.max_value
                                  ? "must be " + std::to_string(spec.min_value)
                              : spec.has_max ? "must be between " + std::to_string(spec.min_value) +
                                                   " and " + std::to_string(spec.max_value)
                                             : "must be at least " + std::to_string(spec.min_value);
          error("badValue", ipath, "'" + pname + "' " + range + ", not " + std::to_string(n));
        } else {
          (spec.prop == Prop::minMultiplicity ? e.min_multiplicity : e.max_multiplicity) = n;
        }
        break;
      }
      case ValueKind::boolean: {
        bool b = false;
        if (!read_boolean(item, version, b, p)) error(p.id, ipath, "'" + pname + "': " + p.message);
        else (spec.prop == Prop::writable ? e.writable : e.nullable) = b;
        break;
      }
      case ValueKind::dtmi: {
        if (!item.is_string() || !is_dtmi(std::string_view(sv(item.get_string())), version)) {
          error("badDtmi", ipath, "'" + pname + "' must be a DTMI naming an Interface");
        } else {
          e.target = std::string(sv(item.get_string()));
        }
        break;
      }
      case ValueKind::specific: {
        std::string s = item.is_string() ? std::string(sv(item.get_string())) : std::string();
        bool ok = false;
        for (auto allowed : spec.values) {
          std::string instance = spec.prop == Prop::commandType ? "CommandType:" : "Schema:";
          instance += allowed;
          if (s == allowed || s == voc.dtmi_of_value(instance) ||
              (version >= 3 && spec.prop != Prop::commandType &&
               s == vocabulary(2).dtmi_of_value(instance))) {
            ok = true;
            s = std::string(allowed);
          }
        }
        if (!ok) {
          std::string list;
          for (auto a : spec.values) list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
          error("badValue", ipath, "'" + pname + "' must be one of " + list);
        } else if (spec.prop == Prop::commandType) {
          e.command_type = s;
        } else if (spec.prop == Prop::valueSchema) {
          e.value_schema = s == "integer" ? StdSchema::integer : StdSchema::string;
        }
        break;
      }
      case ValueKind::enum_literal: {
        long long n = 0;
        std::string s;
        LiteralProblem p2;
        if (read_integer(item, version, n, p)) e.enum_value = n;
        else if (read_string(item, version, s, p2)) e.enum_value = std::move(s);
        else error("badValue", ipath, "'enumValue' must be an integer or a string");
        break;
      }
      default:
        break;
    }
  }
}

void ElementParser::parse_element_values(ElementIndex self, const PropSpec& spec,
                                         const std::vector<const json::value*>& items,
                                         const std::string& path) {
  const int version = el(self).version;
  const Vocabulary& voc = vocabulary(version);
  const std::string pname(prop_name(spec.prop));
  const bool many = items.size() != 1 || spec.card == Card::many;
  std::vector<Ref> refs;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json::value& item = *items[i];
    std::string ipath = many ? index_path(path, i) : path;
    if (item.is_object()) {
      Parent p{self, &spec, version, el(self).context, el(self).partition};
      ElementIndex child = parse_element(item.get_object(), p, ipath);
      if (child != kNoElement) refs.push_back({Ref::Kind::element, child, {}, StdSchema::none});
      continue;
    }
    if (item.is_string()) {
      std::string s(sv(item.get_string()));
      if (spec.kind == ValueKind::schema) {
        StdSchema std_schema = voc.standard_schema(s);
        bool extension_enum = false;
        if (std_schema == StdSchema::none) {
          for (const Extension* x : model_.contexts[el(self).context].extensions) {
            for (const auto& [term, schema] : x->schemas)
              if (term == s) std_schema = schema;
            for (const auto& [term, values] : x->enum_schemas)
              if (term == s) extension_enum = true;
          }
        }
        if (std_schema != StdSchema::none || extension_enum) {
          // An extension enumeration (e.g. TemperatureUnit) is a standard ref named by its term.
          refs.push_back({Ref::Kind::standard, kNoElement, extension_enum ? s : std::string(), std_schema});
          continue;
        }
      }
      if (is_dtmi(s, version)) {
        refs.push_back({Ref::Kind::reference, kNoElement, s, StdSchema::none});
        continue;
      }
      bool wants_interface = spec.allowed == bit(Cls::Interface);
      error("badReference", ipath,
            "'" + pname + "' value '" + s + "' is neither " +
                (spec.kind == ValueKind::schema ? "a standard schema, " : "") +
                "an inline element nor a DTMI reference" +
                (wants_interface ? " (it must name or define an Interface)" : ""));
      continue;
    }
    error("badValue", ipath, "'" + pname + "' values must be objects (inline elements) or DTMI strings, not " +
                                 std::string(json::kind_name(item)));
  }
  el(self).refs_mut(spec.prop) = std::move(refs);
}

}  // namespace castor::model
