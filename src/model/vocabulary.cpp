#include "model/vocabulary.hpp"

#include <sstream>

#include "model/vocabulary_tables.hpp"

namespace castor::model {
namespace {

std::string with_version(std::string_view prefix, std::string_view term, int version) {
  std::string s(prefix);
  s += term;
  s += ';';
  s += std::to_string(version);
  return s;
}

constexpr Cls kV2Classes[] = {Cls::Array,     Cls::Command,      Cls::CommandPayload, Cls::Component,
                              Cls::Enum,      Cls::EnumValue,    Cls::Field,          Cls::Interface,
                              Cls::Map,       Cls::MapKey,       Cls::MapValue,       Cls::Object,
                              Cls::Property,  Cls::Relationship, Cls::Telemetry};
constexpr Cls kV3Classes[] = {Cls::Array,     Cls::Command,   Cls::CommandRequest, Cls::CommandResponse,
                              Cls::Component, Cls::Enum,      Cls::EnumValue,      Cls::Field,
                              Cls::Interface, Cls::Map,       Cls::MapKey,         Cls::MapValue,
                              Cls::Object,    Cls::Property,  Cls::Relationship,   Cls::Telemetry};

constexpr StdSchema kPrimitive[] = {StdSchema::boolean, StdSchema::date,    StdSchema::dateTime,
                                    StdSchema::double_, StdSchema::duration, StdSchema::float_,
                                    StdSchema::integer, StdSchema::long_,   StdSchema::string,
                                    StdSchema::time};
constexpr StdSchema kPrimitiveV4[] = {StdSchema::byte,         StdSchema::bytes,
                                      StdSchema::decimal,      StdSchema::short_,
                                      StdSchema::uuid,         StdSchema::unsignedByte,
                                      StdSchema::unsignedInteger, StdSchema::unsignedLong,
                                      StdSchema::unsignedShort};
constexpr StdSchema kGeospatial[] = {StdSchema::lineString, StdSchema::multiLineString,
                                     StdSchema::multiPoint, StdSchema::multiPolygon,
                                     StdSchema::point,      StdSchema::polygon};

// Terms that DTDL v4 reserves beyond DTDL v3's list.
constexpr std::string_view kReservedAddedV4[] = {
    "byte",         "Byte",         "bytes",          "Bytes",          "decimal",
    "Decimal",      "short",        "Short",          "uuid",           "Uuid",
    "unsignedByte", "UnsignedByte", "unsignedInteger", "UnsignedInteger", "unsignedLong",
    "UnsignedLong", "unsignedShort", "UnsignedShort", "nullable",       "scaledDecimal",
    "ScaledDecimal", "scale",       "value"};

}  // namespace

Vocabulary::Vocabulary(int version) : version_(version) {
  context_ = "dtmi:dtdl:context;" + std::to_string(version);
  auto add_class = [&](Cls c) {
    classes_[std::string(cls_name(c))] = {c, false};
    classes_[with_version("dtmi:dtdl:class:", cls_name(c), version)] = {c, true};
  };
  if (version == 2) {
    for (Cls c : kV2Classes) add_class(c);
  } else {
    for (Cls c : kV3Classes) add_class(c);
  }
  for (int i = 0; i < kPropCount; ++i) {
    auto p = static_cast<Prop>(i);
    if (p == Prop::nullable && version < 4) continue;
    if (p == Prop::unit) continue;  // defined by semantic types (v2) or extensions (v3+)
    props_[std::string(prop_name(p))] = {p, false};
    props_[with_version("dtmi:dtdl:property:", prop_name(p), version)] = {p, true};
  }
  auto add_schema = [&](StdSchema s, std::string_view prefix) {
    schemas_[std::string(std_schema_name(s))] = {s, false};
    schemas_[with_version(prefix, std_schema_name(s), version)] = {s, true};
  };
  for (StdSchema s : kPrimitive) add_schema(s, "dtmi:dtdl:instance:Schema:");
  if (version >= 4)
    for (StdSchema s : kPrimitiveV4) add_schema(s, "dtmi:dtdl:instance:Schema:");
  for (StdSchema s : kGeospatial) add_schema(s, "dtmi:standard:schema:geospatial:");
  if (version >= 4) add_schema(StdSchema::scaledDecimal, "dtmi:standard:schema:");

  const tables::ReservedTerm* table = version == 2 ? tables::kReservedV2 : tables::kReservedV3;
  std::size_t count = version == 2 ? tables::kReservedV2_count : tables::kReservedV3_count;
  for (std::size_t i = 0; i < count; ++i) {
    reserved_.insert(table[i].term);
    std::string dtmi = table[i].dtmi;
    if (version == 4) dtmi.back() = '4';
    reserved_.insert(dtmi);
  }
  if (version == 4) {
    for (auto t : kReservedAddedV4) reserved_.insert(std::string(t));
  }

  if (version == 2) {
    for (std::size_t i = 0; i < tables::kSemanticV2_count; ++i) {
      const auto& row = tables::kSemanticV2[i];
      auto it = semantic_index_.find(row.type);
      if (it == semantic_index_.end()) {
        semantic_.push_back({row.type, "", {}});
        semantic_index_[row.type] = {semantic_.size() - 1, false};
        semantic_index_[with_version("dtmi:standard:class:", row.type, 2)] = {semantic_.size() - 1,
                                                                              true};
        it = semantic_index_.find(row.type);
      }
      semantic_[it->second.first].units.emplace_back(row.unit);
    }
  }
}

std::optional<Cls> Vocabulary::class_of(std::string_view s, TermHit* hit) const {
  auto it = classes_.find(s);
  if (it == classes_.end()) return std::nullopt;
  if (hit) hit->dtmi_form = it->second.second;
  return it->second.first;
}

std::optional<Prop> Vocabulary::property_of(std::string_view s, TermHit* hit) const {
  auto it = props_.find(s);
  if (it == props_.end()) return std::nullopt;
  if (hit) hit->dtmi_form = it->second.second;
  return it->second.first;
}

StdSchema Vocabulary::standard_schema(std::string_view s, TermHit* hit) const {
  auto it = schemas_.find(s);
  if (it == schemas_.end()) return StdSchema::none;
  if (hit) hit->dtmi_form = it->second.second;
  return it->second.first;
}

std::string Vocabulary::dtmi_of_class(Cls c) const {
  return with_version("dtmi:dtdl:class:", cls_name(c), version_);
}
std::string Vocabulary::dtmi_of_property(Prop p) const {
  return with_version("dtmi:dtdl:property:", prop_name(p), version_);
}
std::string Vocabulary::dtmi_of_value(std::string_view instance_term) const {
  return with_version("dtmi:dtdl:instance:", instance_term, version_);
}
std::string Vocabulary::dtmi_of_schema(StdSchema s) const {
  bool geo = is_geospatial(s);
  return with_version(geo ? "dtmi:standard:schema:geospatial:" : "dtmi:dtdl:instance:Schema:",
                      std_schema_name(s), version_);
}

const SemanticType* Vocabulary::semantic_type(std::string_view s, TermHit* hit) const {
  auto it = semantic_index_.find(s);
  if (it == semantic_index_.end()) return nullptr;
  if (hit) hit->dtmi_form = it->second.second;
  return &semantic_[it->second.first];
}

bool Vocabulary::is_unit_of(const SemanticType& t, std::string_view unit, TermHit* hit) const {
  for (const auto& u : t.units) {
    if (unit == u) {
      if (hit) hit->dtmi_form = false;
      return true;
    }
    if (version_ == 2 && unit == with_version("dtmi:standard:unit:", u, 2)) {
      if (hit) hit->dtmi_form = true;
      return true;
    }
  }
  return false;
}

bool is_supported_version(int version) noexcept { return version >= 2 && version <= 4; }

const Vocabulary& vocabulary(int version) {
  static const Vocabulary v2(2), v3(3), v4(4);
  return version == 2 ? v2 : version == 3 ? v3 : v4;
}

const std::vector<SemanticType>& quantitative_types_v1() {
  static const std::vector<SemanticType> types = [] {
    std::vector<SemanticType> out;
    for (std::size_t i = 0; i < tables::kQuantitativeTypesV1_count; ++i) {
      const auto& row = tables::kQuantitativeTypesV1[i];
      SemanticType t{row.type, row.unit_type, {}};
      std::istringstream units(row.units);
      for (std::string u; units >> u;) t.units.push_back(u);
      out.push_back(std::move(t));
    }
    return out;
  }();
  return types;
}

}  // namespace castor::model
