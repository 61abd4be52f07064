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
  if (has_text() && small_ == 0) std::free(heap());
  kind_ = Kind::unset;
}

void Value::set_text(Kind kind, std::string_view s) {
  if (s.size() <= kInlineText) {
    std::memcpy(payload_, s.data(), s.size());
    small_ = static_cast<std::uint8_t>(1 + s.size());
  } else {
    store(make_heap(s));
    small_ = 0;
  }
  kind_ = kind;
}

void Value::copy_from(const Value& o) {
  std::memcpy(tag_, o.tag_, sizeof tag_);
  if (o.has_text()) {
    set_text(o.kind_, o.as_text());
  } else {
    kind_ = o.kind_;
    small_ = o.small_;
    std::memcpy(payload_, o.payload_, sizeof payload_);
  }
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::boolean;
  v.payload_[0] = b ? 1 : 0;
  return v;
}

Value Value::integer(std::int64_t i) {
  Value v;
  v.kind_ = Kind::int64;
  v.store(i);
  return v;
}

Value Value::real(double d) {
  Value v;
  v.kind_ = Kind::real;
  v.store(d);
  return v;
}

Value Value::text(std::string_view s) {
  Value v;
  v.set_text(Kind::string, s);
  return v;
}

Value Value::json_text(std::string_view compact_json) {
  Value v;
  v.set_text(Kind::json, compact_json);
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
      v.store(j.get_uint64());
      return v;
    }
    case boost::json::kind::double_: return real(j.get_double());
    case boost::json::kind::string: return text(json::sv(j.get_string()));
    case boost::json::kind::array:
    case boost::json::kind::object: return json_text(json::serialize(j));
  }
  return {};
}

bool Value::numeric(double& out) const noexcept {
  switch (kind_) {
    case Kind::int64: out = static_cast<double>(as_int()); return true;
    case Kind::uint64: out = static_cast<double>(as_uint()); return true;
    case Kind::real: out = as_double(); return true;
    default: return false;
  }
}

json::value Value::to_json() const {
  switch (kind_) {
    case Kind::unset:
    case Kind::null: return nullptr;
    case Kind::boolean: return as_bool();
    case Kind::int64: return as_int();
    case Kind::uint64: return as_uint();
    case Kind::real: return as_double();
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
    case Kind::boolean: out += as_bool() ? "true" : "false"; return;
    case Kind::int64: return append_number(out, as_int());
    case Kind::uint64: return append_number(out, as_uint());
    case Kind::real: json::append_double(out, as_double()); return;
    case Kind::string: json::append_string(out, as_text()); return;
    case Kind::json: out += as_text(); return;
  }
}

bool Value::operator==(const Value& o) const noexcept {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::unset:
    case Kind::null: return true;
    case Kind::boolean: return as_bool() == o.as_bool();
    case Kind::int64: return as_int() == o.as_int();
    case Kind::uint64: return as_uint() == o.as_uint();
    case Kind::real: return as_double() == o.as_double();
    case Kind::string:
    case Kind::json: return as_text() == o.as_text();
  }
  return false;
}

std::size_t Value::heap_bytes() const noexcept {
  if (!has_text() || small_ != 0 || heap() == nullptr) return 0;
  return sizeof(std::uint32_t) + heap()->size + 1;
}

}  // namespace castor::twin
