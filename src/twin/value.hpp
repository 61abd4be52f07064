// Value: one property value of a twin, stored typed and compact (16 bytes): null, boolean,
// 64-bit integer, unsigned integer, double inline; strings and complex values (objects, maps,
// arrays, kept as compact JSON text) inline up to 10 bytes, else in one heap block. JSON exists
// only at the edges. A text view (as_text) lives as long as the value, and moves with it.
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
  Value(Value&& o) noexcept { take(o); }
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
      take(o);
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
  std::uint32_t tag() const noexcept { return load<std::uint32_t>(tag_); }
  void set_tag(std::uint32_t t) noexcept { std::memcpy(tag_, &t, sizeof t); }
  bool is_set() const noexcept { return kind_ != Kind::unset; }
  bool as_bool() const noexcept { return payload_[0] != 0; }
  std::int64_t as_int() const noexcept { return load<std::int64_t>(payload_); }
  std::uint64_t as_uint() const noexcept { return load<std::uint64_t>(payload_); }
  double as_double() const noexcept { return load<double>(payload_); }
  std::string_view as_text() const noexcept {  // string or json kinds
    if (!has_text()) return {};
    if (small_ != 0) return {reinterpret_cast<const char*>(payload_), std::size_t{small_} - 1u};
    const Heap* h = heap();
    return h != nullptr ? std::string_view(h->data, h->size) : std::string_view();
  }
  // A number as double (int64/uint64/real); false for other kinds.
  bool numeric(double& out) const noexcept;

  json::value to_json() const;
  void append_json(std::string& out) const;  // compact JSON text
  bool operator==(const Value& o) const noexcept;
  std::size_t heap_bytes() const noexcept;
  // Where a string or json value's text lives when it is not inline (null otherwise): scans
  // prefetch it.
  const void* heap_address() const noexcept {
    return has_text() && small_ == 0 ? static_cast<const void*>(heap()) : nullptr;
  }
  // Texts up to this many bytes are kept inside the value.
  static constexpr std::size_t kInlineText = 10;

 private:
  struct Heap {
    std::uint32_t size;
    char data[1];
  };
  template <class T>
  static T load(const unsigned char* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  template <class T>
  void store(T v) noexcept {
    std::memcpy(payload_, &v, sizeof v);
  }
  bool has_text() const noexcept { return kind_ == Kind::string || kind_ == Kind::json; }
  Heap* heap() const noexcept { return load<Heap*>(payload_); }
  void take(Value& o) noexcept {
    std::memcpy(static_cast<void*>(this), &o, sizeof(Value));
    o.kind_ = Kind::unset;
  }
  void release() noexcept;
  void copy_from(const Value& o);
  void set_text(Kind kind, std::string_view s);
  static Heap* make_heap(std::string_view s);
  // Bytes, not typed members, so that a text of up to kInlineText bytes sits contiguous in
  // payload_ without growing the value; numbers and the heap pointer are read with memcpy.
  Kind kind_ = Kind::unset;
  std::uint8_t small_ = 0;  // string and json kinds: 0 = text on the heap, else 1 + inline size
  unsigned char tag_[4] = {};
  unsigned char payload_[kInlineText] = {};
};

static_assert(sizeof(Value) == 16, "Value must stay 16 bytes: it is stored per property per twin");

}  // namespace castor::twin
