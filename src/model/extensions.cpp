#include "model/extensions.hpp"

namespace castor::model {
namespace {

constexpr ClsMask kQuantitativeTargets = bit(Cls::CommandRequest) | bit(Cls::CommandResponse) |
                                         bit(Cls::Field) | bit(Cls::MapValue) |
                                         bit(Cls::Property) | bit(Cls::Telemetry);
constexpr ClsMask kPropertyOrTelemetry = bit(Cls::Property) | bit(Cls::Telemetry);

Extension quantitative_types() {
  Extension e{"dtmi:dtdl:extension:quantitativeTypes;1", 3, 4, {}, {}, {}};
  for (const auto& t : quantitative_types_v1()) {
    AdjunctType a{t.term, kQuantitativeTargets, {{"unit", ValueKind::unit, false}}, &t,
                  SchemaRule::numeric, t.unit_type, ""};
    e.adjuncts.push_back(std::move(a));
    e.other_terms.push_back(t.unit_type);
    for (const auto& u : t.units) e.other_terms.push_back(u);
    bool known = false;
    for (const auto& [term, values] : e.enum_schemas) known |= term == t.unit_type;
    if (!known) e.enum_schemas.emplace_back(t.unit_type, t.units);
  }
  e.other_terms.push_back("unit");
  return e;
}

Extension iot_central() {
  Extension e{"dtmi:iotcentral:context;2", 2, 2, {}, {}, {}};
  e.adjuncts.push_back({"State", kPropertyOrTelemetry, {}, nullptr, SchemaRule::enum_schema, "", ""});
  e.adjuncts.push_back(
      {"Event", kPropertyOrTelemetry, {}, nullptr, SchemaRule::numeric_or_string, "", ""});
  e.adjuncts.push_back({"Location", kPropertyOrTelemetry, {}, nullptr, SchemaRule::geo, "", ""});
  e.adjuncts.push_back({"VelocityVector", kPropertyOrTelemetry,
                        {{"unit", ValueKind::unit, false}}, nullptr, SchemaRule::vector,
                        "VelocityUnit", ""});
  e.adjuncts.push_back({"AccelerationVector", kPropertyOrTelemetry,
                        {{"unit", ValueKind::unit, false}}, nullptr, SchemaRule::vector,
                        "AccelerationUnit", ""});
  e.schemas = {{"geopoint", StdSchema::geopoint}, {"vector", StdSchema::vector}};
  return e;
}

Extension historization() {
  Extension e{"dtmi:dtdl:extension:historization;1", 3, 4, {}, {}, {}};
  e.adjuncts.push_back({"Historized", kPropertyOrTelemetry, {}, nullptr, SchemaRule::none, "", ""});
  return e;
}

Extension annotation() {
  Extension e{"dtmi:dtdl:extension:annotation;1", 3, 4, {}, {}, {}};
  e.adjuncts.push_back({"ValueAnnotation", kPropertyOrTelemetry,
                        {{"annotates", ValueKind::string, true, Format::sibling_name}}, nullptr,
                        SchemaRule::none, "", ""});
  return e;
}

Extension overriding() {
  Extension e{"dtmi:dtdl:extension:overriding;1", 3, 4, {}, {}, {}};
  e.adjuncts.push_back({"Override", bit(Cls::Property), {{"overrides", ValueKind::string, true}},
                        nullptr, SchemaRule::none, "", "ValueAnnotation"});
  return e;
}

Extension mqtt() {
  Extension e{"dtmi:dtdl:extension:mqtt;1", 3, 4, {}, {}, {}};
  e.adjuncts.push_back({"Mqtt",
                        bit(Cls::Interface),
                        {{"payloadFormat", ValueKind::string, true},
                         {"telemetryTopic", ValueKind::string, false, Format::topic_pattern},
                         {"commandTopic", ValueKind::string, false, Format::topic_pattern}},
                        nullptr,
                        SchemaRule::none,
                        "",
                        ""});
  e.adjuncts.push_back({"Idempotent", bit(Cls::Command), {}, nullptr, SchemaRule::none, "", ""});
  e.adjuncts.push_back({"Cacheable", bit(Cls::Command),
                        {{"ttl", ValueKind::string, true, Format::duration}}, nullptr,
                        SchemaRule::none, "", ""});
  e.adjuncts.push_back({"Indexed", bit(Cls::EnumValue) | bit(Cls::Field) | bit(Cls::Telemetry),
                        {{"index", ValueKind::integer, true, Format::positive, true}}, nullptr,
                        SchemaRule::none, "", ""});
  return e;
}

}  // namespace

const AdjunctType* Extension::adjunct(std::string_view term) const {
  for (const auto& a : adjuncts)
    if (a.term == term) return &a;
  return nullptr;
}

bool Extension::defines(std::string_view term) const {
  if (adjunct(term)) return true;
  for (const auto& s : schemas)
    if (s.first == term) return true;
  for (const auto& a : adjuncts)
    for (const auto& p : a.props)
      if (p.name == term) return true;
  for (const auto& t : other_terms)
    if (t == term) return true;
  return false;
}

const std::vector<std::string>* extension_enum_schema(std::string_view term) {
  for (const auto& e : known_extensions())
    for (const auto& [t, values] : e.enum_schemas)
      if (t == term) return &values;
  return nullptr;
}

const std::vector<Extension>& known_extensions() {
  static const std::vector<Extension> all = {quantitative_types(), iot_central(), historization(),
                                             annotation(), overriding(), mqtt()};
  return all;
}

const Extension* find_extension(std::string_view context, int dtdl_version) {
  for (const auto& e : known_extensions())
    if (e.context == context && dtdl_version >= e.min_dtdl && dtdl_version <= e.max_dtdl)
      return &e;
  return nullptr;
}

}  // namespace castor::model
