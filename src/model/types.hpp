// The vocabulary of the DTDL metamodel as C++ enums: element classes, their member properties,
// and the standard schemas. Shared by the parser, the checker and instance validation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace castor::model {

// Material (concrete) DTDL classes.
enum class Cls : std::uint8_t {
  Array,
  Command,
  CommandPayload,   // v2 request/response
  CommandRequest,   // v3+
  CommandResponse,  // v3+
  Component,
  Enum,
  EnumValue,
  Field,
  Interface,
  Map,
  MapKey,
  MapValue,
  Object,
  Property,
  Relationship,
  Telemetry,
  kCount
};
inline constexpr int kClsCount = static_cast<int>(Cls::kCount);

using ClsMask = std::uint32_t;
constexpr ClsMask bit(Cls c) { return ClsMask{1} << static_cast<int>(c); }
constexpr bool has(ClsMask m, Cls c) { return (m & bit(c)) != 0; }

// Member properties defined by the core language (and "unit", which semantic types add).
enum class Prop : std::uint8_t {
  comment,
  commandType,
  contents,
  description,
  displayName,
  elementSchema,
  enumValue,
  enumValues,
  extends,
  fields,
  mapKey,
  mapValue,
  maxMultiplicity,
  minMultiplicity,
  name,
  nullable,
  properties,
  request,
  response,
  schema,
  schemas,
  target,
  unit,
  valueSchema,
  writable,
  kCount
};
inline constexpr int kPropCount = static_cast<int>(Prop::kCount);

// Primitive and geospatial schemas (standard schemas), across versions.
enum class StdSchema : std::uint8_t {
  none,
  boolean,
  date,
  dateTime,
  double_,
  duration,
  float_,
  integer,
  long_,
  string,
  time,
  // v4 additions
  byte,
  bytes,
  decimal,
  short_,
  uuid,
  unsignedByte,
  unsignedInteger,
  unsignedLong,
  unsignedShort,
  // geospatial
  lineString,
  multiLineString,
  multiPoint,
  multiPolygon,
  point,
  polygon,
  // extension schemas (IoT Central v2)
  geopoint,
  vector,
  // v4 scaledDecimal
  scaledDecimal,
  kCount
};

std::string_view cls_name(Cls c) noexcept;
// "an Array", "a Telemetry": the class name with its article, for messages.
std::string with_article(Cls c);
std::string_view prop_name(Prop p) noexcept;
std::string_view std_schema_name(StdSchema s) noexcept;
bool is_geospatial(StdSchema s) noexcept;
bool is_numeric(StdSchema s) noexcept;

}  // namespace castor::model
