// The DTDL metamodel per language version: for each material class, the members it requires
// or permits and the constraints on their values. Data that the element parser interprets;
// it holds no per-model state.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "model/types.hpp"

namespace castor::model {

enum class ValueKind : std::uint8_t {
  elements,     // DTDL elements or dependent references (contents, extends, fields, ...)
  schema,       // an element, a reference, or a standard schema string
  specific,     // one of a fixed list of strings (commandType, valueSchema, MapKey schema)
  string,       // representational string
  lang_string,  // localizable string
  integer,      // representational integer
  boolean,      // representational boolean
  dtmi,         // a non-dependent DTMI reference (Relationship target)
  enum_literal, // an integer or a string, as the parent Enum's valueSchema says
  unit,         // a unit term (added by semantic types)
};

enum class Card : std::uint8_t {
  one,       // a value or an array containing exactly one value
  optional,  // a value or an array containing no more than one value
  many,      // a value or an array of any number of values
};

struct PropSpec {
  Prop prop;
  ValueKind kind;
  Card card;
  bool required = false;
  std::uint16_t max_length = 0;      // strings: longest allowed (0 = none)
  bool name_pattern = false;         // must match ^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$
  ClsMask allowed = 0;               // element-valued: classes an included element may be
  bool allow_older_versions = false; // element-valued: included elements may be earlier DTDL
  int max_count = 0;                 // element-valued: most elements (DTDL v2 limits), 0 = none
  int min_count = 0;                 // element-valued: fewest elements
  std::span<const std::string_view> values;  // specific: allowed terms
  int min_value = 0, max_value = 0;  // integer bounds (when has_bounds)
  bool has_min = false, has_max = false;
};

struct ClassSpec {
  Cls cls = Cls::Interface;
  bool available = false;      // material in this version
  bool type_optional = false;  // "@type" may be omitted (implied by the parent member)
  bool id_required_in_schemas = false;
  std::vector<PropSpec> props;

  const PropSpec* find(Prop p) const noexcept {
    for (const auto& s : props)
      if (s.prop == p) return &s;
    return nullptr;
  }
};

class Metamodel {
 public:
  explicit Metamodel(int version);
  int version() const noexcept { return version_; }
  const ClassSpec& cls(Cls c) const noexcept { return classes_[static_cast<int>(c)]; }
  bool available(Cls c) const noexcept { return cls(c).available; }

 private:
  int version_;
  std::array<ClassSpec, kClsCount> classes_{};
};

const Metamodel& metamodel(int version);

inline constexpr ClsMask kComplexSchemas =
    bit(Cls::Array) | bit(Cls::Enum) | bit(Cls::Map) | bit(Cls::Object);
inline constexpr ClsMask kContentClasses = bit(Cls::Command) | bit(Cls::Component) |
                                           bit(Cls::Property) | bit(Cls::Relationship) |
                                           bit(Cls::Telemetry);

}  // namespace castor::model
