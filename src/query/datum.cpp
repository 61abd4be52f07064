#include "query/datum.hpp"

#include <limits>

namespace castor::query {
namespace {

bool json_number(const json::value& v, double& out) {
  return json::as_double(v, out);
}

// Deep equality where numbers compare by value (1 == 1.0), as the query language sees them.
bool json_equal(const json::value& a, const json::value& b) {
  double x = 0;
  double y = 0;
  if (json_number(a, x) && json_number(b, y)) {
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    return x == y;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::null: return true;
    case boost::json::kind::bool_: return a.get_bool() == b.get_bool();
    case boost::json::kind::string: return a.get_string() == b.get_string();
    case boost::json::kind::array: {
      const auto& p = a.get_array();
      const auto& q = b.get_array();
      if (p.size() != q.size()) return false;
      for (std::size_t i = 0; i < p.size(); ++i) {
        if (!json_equal(p[i], q[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      const auto& p = a.get_object();
      const auto& q = b.get_object();
      if (p.size() != q.size()) return false;
      for (const auto& kv : p) {
        const json::value* other = q.if_contains(kv.key());
        if (other == nullptr || !json_equal(kv.value(), *other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

template <class T>
Truth order(const T& a, const T& b, CompareOp op) {
  switch (op) {
    case CompareOp::eq: return truth(a == b);
    case CompareOp::ne: return truth(!(a == b));
    case CompareOp::lt: return truth(a < b);
    case CompareOp::le: return truth(a < b || a == b);
    case CompareOp::gt: return truth(b < a);
    case CompareOp::ge: return truth(b < a || a == b);
  }
  return Truth::unknown;
}

Truth compare_numbers(const Datum& a, const Datum& b, CompareOp op) {
  if (a.kind == Datum::Kind::integer && b.kind == Datum::Kind::integer) {
    return order(a.integer, b.integer, op);
  }
  const double x = a.number();
  const double y = b.number();
  if (x != x || y != y) return Truth::unknown;  // NaN orders with nothing
  return order(x, y, op);
}

}  // namespace

const json::value& Scratch::keep(json::value v) {
  docs_.push_back(std::move(v));
  return docs_.back();
}

std::string_view Scratch::keep(std::string s) {
  strings_.push_back(std::move(s));
  return strings_.back();
}

void Scratch::clear() noexcept {
  if (!docs_.empty()) docs_.clear();
  if (!strings_.empty()) strings_.clear();
}

const model::ContentDef* Scratch::property(const model::InterfacePtr& m, std::string_view name) {
  for (const KnownProperty& k : known_) {
    if (k.model == m && k.name == name) return k.def;
  }
  KnownProperty& k = known_[next_known_];
  next_known_ = (next_known_ + 1) % known_.size();
  k.model = m;
  k.name.assign(name);
  k.def = m->property(name);
  return k.def;
}

Datum Datum::null() noexcept {
  Datum d;
  d.kind = Kind::null;
  return d;
}

Datum Datum::of_bool(bool b) noexcept {
  Datum d;
  d.kind = Kind::boolean;
  d.boolean = b;
  return d;
}

Datum Datum::of_int(std::int64_t i) noexcept {
  Datum d;
  d.kind = Kind::integer;
  d.integer = i;
  return d;
}

Datum Datum::of_real(double x) noexcept {
  Datum d;
  d.kind = Kind::real;
  d.real = x;
  return d;
}

Datum Datum::of_text(std::string_view s) noexcept {
  Datum d;
  d.kind = Kind::string;
  d.text = s;
  return d;
}

Datum Datum::of_json(const json::value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return null();
    case boost::json::kind::bool_: return of_bool(v.get_bool());
    case boost::json::kind::int64: return of_int(v.get_int64());
    case boost::json::kind::uint64: {
      const std::uint64_t u = v.get_uint64();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return of_int(static_cast<std::int64_t>(u));
      }
      return of_real(static_cast<double>(u));
    }
    case boost::json::kind::double_: return of_real(v.get_double());
    case boost::json::kind::string: return of_text(json::sv(v.get_string()));
    case boost::json::kind::array:
    case boost::json::kind::object: {
      Datum d;
      d.kind = v.is_array() ? Kind::array : Kind::object;
      d.doc = &v;
      return d;
    }
  }
  return {};
}

bool Datum::is_primitive() const noexcept {
  return kind == Kind::null || kind == Kind::boolean || is_number() || kind == Kind::string;
}

void Datum::append_json(std::string& out) const {
  switch (kind) {
    case Kind::undefined: return;
    case Kind::null: out += "null"; return;
    case Kind::boolean: out += boolean ? "true" : "false"; return;
    case Kind::integer: out += std::to_string(integer); return;
    case Kind::real: json::append_double(out, real); return;
    case Kind::string: json::append_string(out, text); return;
    case Kind::object:
    case Kind::array: json::serialize_to(out, *doc); return;
  }
}

json::value Datum::to_json() const {
  switch (kind) {
    case Kind::undefined:
    case Kind::null: return nullptr;
    case Kind::boolean: return boolean;
    case Kind::integer: return integer;
    case Kind::real: return real;
    case Kind::string: return json::value(text);
    case Kind::object:
    case Kind::array: return *doc;
  }
  return nullptr;
}

bool same_value(const Datum& a, const Datum& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b, CompareOp::eq) == Truth::yes;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Datum::Kind::undefined: return false;
    case Datum::Kind::null: return true;
    case Datum::Kind::boolean: return a.boolean == b.boolean;
    case Datum::Kind::string: return a.text == b.text;
    case Datum::Kind::object:
    case Datum::Kind::array: return json_equal(*a.doc, *b.doc);
    default: return false;
  }
}

Truth compare(const Datum& a, const Datum& b, CompareOp op) {
  if (!a.defined() || !b.defined()) return Truth::unknown;
  if (a.is_number() && b.is_number()) return compare_numbers(a, b, op);
  if (a.kind != b.kind) return Truth::unknown;
  switch (a.kind) {
    case Datum::Kind::null: return order(0, 0, op);
    case Datum::Kind::boolean: return order(a.boolean, b.boolean, op);
    case Datum::Kind::string: return order(a.text, b.text, op);
    case Datum::Kind::object:
    case Datum::Kind::array:
      return op == CompareOp::eq ? truth(json_equal(*a.doc, *b.doc)) : Truth::unknown;
    default: return Truth::unknown;
  }
}

Truth truth_of(const Datum& d) noexcept {
  return d.kind == Datum::Kind::boolean ? truth(d.boolean) : Truth::unknown;
}

}  // namespace castor::query
