// Datum: one value as the twin query language sees it (undefined for a missing property, null,
// boolean, number, string, object, array) and ADT's comparison rules over it: values of different
// types, and a missing value, compare as "unknown", which no WHERE clause accepts. A Datum only
// views data owned elsewhere (a twin's cell, the query text, a Scratch); it never outlives the
// evaluation of one row and never allocates by itself.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "model/compiled_model.hpp"
#include "query/ast.hpp"

namespace castor::query {

// Three-valued logic: a condition over a missing property or mismatched types is `unknown`;
// NOT unknown is unknown, so such rows never match, negated or not.
enum class Truth : std::uint8_t { no, yes, unknown };

inline Truth truth(bool b) noexcept {
  return b ? Truth::yes : Truth::no;
}

// Owns the temporaries of one row's evaluation (parsed JSON values, formatted times); cleared
// between rows. Addresses of kept values stay valid until clear().
class Scratch {
 public:
  const json::value& keep(json::value v);
  std::string_view keep(std::string s);
  void clear() noexcept;

  // m.property(name), remembered for a few (model, name) pairs: a scan reads the same paths of
  // twins of the same few models over and over. Kept across clear(); each entry holds its model,
  // and compiled models never change.
  const model::ContentDef* property(const model::InterfacePtr& m, std::string_view name);

 private:
  struct KnownProperty {
    model::InterfacePtr model;
    std::string name;
    const model::ContentDef* def = nullptr;
  };
  std::deque<json::value> docs_;
  std::deque<std::string> strings_;
  std::array<KnownProperty, 4> known_;
  std::size_t next_known_ = 0;
};

struct Datum {
  enum class Kind : std::uint8_t { undefined, null, boolean, integer, real, string, object, array };

  Kind kind = Kind::undefined;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0;
  std::string_view text;             // string
  const json::value* doc = nullptr;  // object and array

  static Datum undefined() noexcept { return {}; }
  static Datum null() noexcept;
  static Datum of_bool(bool b) noexcept;
  static Datum of_int(std::int64_t i) noexcept;
  static Datum of_real(double d) noexcept;
  static Datum of_text(std::string_view s) noexcept;
  // Views `v` (which must outlive the Datum).
  static Datum of_json(const json::value& v) noexcept;

  bool defined() const noexcept { return kind != Kind::undefined; }
  bool is_number() const noexcept { return kind == Kind::integer || kind == Kind::real; }
  bool is_primitive() const noexcept;
  double number() const noexcept {
    return kind == Kind::integer ? static_cast<double>(integer) : real;
  }

  // Compact JSON text (undefined prints nothing).
  void append_json(std::string& out) const;
  // An owned copy (undefined becomes null; callers test defined() first).
  json::value to_json() const;
};

// Same type and value: numbers by value across integer and real, strings byte for byte, objects
// and arrays deeply. Never true across types.
bool same_value(const Datum& a, const Datum& b);
// `a op b` with ADT's type rules: unknown when either side is undefined, the types differ, or an
// object or array is ordered or compared with !=.
Truth compare(const Datum& a, const Datum& b, CompareOp op);
// A value standing alone as a condition: true and false are themselves, anything else unknown.
Truth truth_of(const Datum& d) noexcept;

}  // namespace castor::query
