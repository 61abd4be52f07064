// Value: one property value of a twin, stored typed and compact (16 bytes): null, boolean,
// 64-bit integer, unsigned integer, double inline; strings and complex values (objects, maps,
// arrays, kept as compact JSON text) in one heap block. JSON exists only at the edges.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "common/json.hpp"

namespace castor::twin {

class Value {
 public:
  enum class Kind : std::uint8_t { unset, null, boolean, int64, uint64, real, string, json };

  Value() noexcept = default;
  ~Value() { release(); }
  Value(const Value& o) { copy_from(o); }
  Value(Value&& o) noexcept : kind_(o.kind_), tag_(o.tag_), u_(o.u_) { o.kind_ = Kind::unset; }
  Value& operator=(const Value& o) {
    if (this != &o) {
      release();
      copy_from(o);
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      release();
      kind_ = o.kind_;
      tag_ = o.tag_;
      u_ = o.u_;
      o.kind_ = Kind::unset;
    }
    return *this;
  }

  static Value from_json(const json::value& v);
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value real(double d);
  static Value text(std::string_view s);
  static Value json_text(std::string_view compact_json);  // an object, map or array

  Kind kind() const noexcept { return kind_; }
  // 32 spare bits inside the value's padding, for the container's bookkeeping (a twin keeps the
  // index of the property's lastUpdateTime here). Copied with the value.
  std::uint32_t tag() const noexcept { return tag_; }
  void set_tag(std::uint32_t t) noexcept { tag_ = t; }
  bool is_set() const noexcept { return kind_ != Kind::unset; }
  bool as_bool() const noexcept { return u_.b; }
  std::int64_t as_int() const noexcept { return u_.i; }
  std::uint64_t as_uint() const noexcept { return u_.u; }
  double as_double() const noexcept { return u_.d; }
  std::string_view as_text() const noexcept;  // string or json kinds
  // A number as double (int64/uint64/real); false for other kinds.
  bool numeric(double& out) const noexcept;

  json::value to_json() const;
  void append_json(std::string& out) const;  // compact JSON text
  bool operator==(const Value& o) const noexcept;
  std::size_t heap_bytes() const noexcept;
  // Where a string or json value's text lives (null for other kinds): scans prefetch it.
  const void* heap_address() const noexcept {
    return kind_ == Kind::string || kind_ == Kind::json ? static_cast<const void*>(u_.h) : nullptr;
  }

 private:
  struct Heap {
    std::uint32_t size;
    char data[1];
  };
  void release() noexcept;
  void copy_from(const Value& o);
  static Heap* make_heap(std::string_view s);

  Kind kind_ = Kind::unset;
  std::uint32_t tag_ = 0;
  union U {
    bool b;
    std::int64_t i;
    std::uint64_t u;
    double d;
    Heap* h;
  } u_{};
};

static_assert(sizeof(Value) == 16, "Value must stay 16 bytes: it is stored per property per twin");

}  // namespace castor::twin
