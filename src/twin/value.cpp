#include "twin/value.hpp"

#include <charconv>
#include <cstdlib>
#include <new>

namespace castor::twin {

Value::Heap* Value::make_heap(std::string_view s) {
  auto* h = static_cast<Heap*>(std::malloc(sizeof(std::uint32_t) + s.size() + 1));
  if (!h) throw std::bad_alloc();
  h->size = static_cast<std::uint32_t>(s.size());
  std::memcpy(h->data, s.data(), s.size());
  h->data[s.size()] = '\0';
  return h;
}

void Value::release() noexcept {
  if ((kind_ == Kind::string || kind_ == Kind::json) && u_.h) std::free(u_.h);
  kind_ = Kind::unset;
}

void Value::copy_from(const Value& o) {
  kind_ = o.kind_;
  tag_ = o.tag_;
  if (kind_ == Kind::string || kind_ == Kind::json) {
    u_.h = make_heap(o.as_text());
  } else {
    u_ = o.u_;
  }
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::boolean;
  v.u_.b = b;
  return v;
}

Value Value::integer(std::int64_t i) {
  Value v;
  v.kind_ = Kind::int64;
  v.u_.i = i;
  return v;
}

Value Value::real(double d) {
  Value v;
  v.kind_ = Kind::real;
  v.u_.d = d;
  return v;
}

Value Value::text(std::string_view s) {
  Value v;
  v.u_.h = make_heap(s);
  v.kind_ = Kind::string;
  return v;
}

Value Value::json_text(std::string_view compact_json) {
  Value v;
  v.u_.h = make_heap(compact_json);
  v.kind_ = Kind::json;
  return v;
}

Value Value::from_json(const json::value& j) {
  switch (j.kind()) {
    case boost::json::kind::null: {
      Value v;
      v.kind_ = Kind::null;
      return v;
    }
    case boost::json::kind::bool_: return boolean(j.get_bool());
    case boost::json::kind::int64: return integer(j.get_int64());
    case boost::json::kind::uint64: {
      Value v;
      v.kind_ = Kind::uint64;
      v.u_.u = j.get_uint64();
      return v;
    }
    case boost::json::kind::double_: return real(j.get_double());
    case boost::json::kind::string: return text(json::sv(j.get_string()));
    case boost::json::kind::array:
    case boost::json::kind::object: return json_text(json::serialize(j));
  }
  return {};
}

std::string_view Value::as_text() const noexcept {
  if ((kind_ == Kind::string || kind_ == Kind::json) && u_.h) return {u_.h->data, u_.h->size};
  return {};
}

bool Value::numeric(double& out) const noexcept {
  switch (kind_) {
    case Kind::int64: out = static_cast<double>(u_.i); return true;
    case Kind::uint64: out = static_cast<double>(u_.u); return true;
    case Kind::real: out = u_.d; return true;
    default: return false;
  }
}

json::value Value::to_json() const {
  switch (kind_) {
    case Kind::unset:
    case Kind::null: return nullptr;
    case Kind::boolean: return u_.b;
    case Kind::int64: return u_.i;
    case Kind::uint64: return u_.u;
    case Kind::real: return u_.d;
    case Kind::string: return json::value(as_text());
    case Kind::json: {
      auto parsed = json::parse(as_text());
      return parsed ? std::move(*parsed) : json::value(nullptr);
    }
  }
  return nullptr;
}

namespace {

template <class N>
void append_number(std::string& out, N n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

void Value::append_json(std::string& out) const {
  switch (kind_) {
    case Kind::unset:
    case Kind::null: out += "null"; return;
    case Kind::boolean: out += u_.b ? "true" : "false"; return;
    case Kind::int64: return append_number(out, u_.i);
    case Kind::uint64: return append_number(out, u_.u);
    case Kind::real: json::append_double(out, u_.d); return;
    case Kind::string: json::append_string(out, as_text()); return;
    case Kind::json: out += as_text(); return;
  }
}

bool Value::operator==(const Value& o) const noexcept {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::unset:
    case Kind::null: return true;
    case Kind::boolean: return u_.b == o.u_.b;
    case Kind::int64: return u_.i == o.u_.i;
    case Kind::uint64: return u_.u == o.u_.u;
    case Kind::real: return u_.d == o.u_.d;
    case Kind::string:
    case Kind::json: return as_text() == o.as_text();
  }
  return false;
}

std::size_t Value::heap_bytes() const noexcept {
  return (kind_ == Kind::string || kind_ == Kind::json) && u_.h ? sizeof(std::uint32_t) + u_.h->size + 1 : 0;
}

}  // namespace castor::twin
