#include "model/types.hpp"

namespace castor::model {

std::string_view cls_name(Cls c) noexcept {
  static constexpr std::string_view names[] = {
      "Array", "Command", "CommandPayload", "CommandRequest", "CommandResponse", "Component",
      "Enum", "EnumValue", "Field", "Interface", "Map", "MapKey", "MapValue", "Object",
      "Property", "Relationship", "Telemetry"};
  auto i = static_cast<int>(c);
  return i < kClsCount ? names[i] : "?";
}

std::string with_article(Cls c) {
  std::string_view n = cls_name(c);
  bool vowel = !n.empty() && (n[0] == 'A' || n[0] == 'E' || n[0] == 'I' || n[0] == 'O' || n[0] == 'U');
  return std::string(vowel ? "an " : "a ") + std::string(n);
}

std::string_view prop_name(Prop p) noexcept {
  static constexpr std::string_view names[] = {
      "comment", "commandType", "contents", "description", "displayName", "elementSchema",
      "enumValue", "enumValues", "extends", "fields", "mapKey", "mapValue", "maxMultiplicity",
      "minMultiplicity", "name", "nullable", "properties", "request", "response", "schema",
      "schemas", "target", "unit", "valueSchema", "writable"};
  auto i = static_cast<int>(p);
  return i < kPropCount ? names[i] : "?";
}

std::string_view std_schema_name(StdSchema s) noexcept {
  static constexpr std::string_view names[] = {
      "", "boolean", "date", "dateTime", "double", "duration", "float", "integer", "long",
      "string", "time", "byte", "bytes", "decimal", "short", "uuid", "unsignedByte",
      "unsignedInteger", "unsignedLong", "unsignedShort", "lineString", "multiLineString",
      "multiPoint", "multiPolygon", "point", "polygon", "geopoint", "vector", "scaledDecimal"};
  auto i = static_cast<int>(s);
  return i < static_cast<int>(StdSchema::kCount) ? names[i] : "?";
}

bool is_geospatial(StdSchema s) noexcept {
  return s >= StdSchema::lineString && s <= StdSchema::polygon;
}

bool is_numeric(StdSchema s) noexcept {
  switch (s) {
    case StdSchema::double_: case StdSchema::float_: case StdSchema::integer:
    case StdSchema::long_: case StdSchema::byte: case StdSchema::decimal:
    case StdSchema::short_: case StdSchema::unsignedByte: case StdSchema::unsignedInteger:
    case StdSchema::unsignedLong: case StdSchema::unsignedShort:
      return true;
    default:
      return false;
  }
}

}  // namespace castor::model
