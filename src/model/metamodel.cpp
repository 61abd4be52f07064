#include "model/metamodel.hpp"

namespace castor::model {
namespace {

constexpr std::string_view kCommandTypes[] = {"asynchronous", "synchronous"};
constexpr std::string_view kEnumValueSchemas[] = {"integer", "string"};
constexpr std::string_view kMapKeySchemas[] = {"string"};

PropSpec name_prop(int version) {
  PropSpec p{Prop::name, ValueKind::string, Card::one, true};
  p.max_length = version == 2 ? 64 : 512;
  p.name_pattern = true;
  return p;
}

PropSpec elements(Prop prop, Card card, ClsMask allowed, bool required = false) {
  PropSpec p{prop, ValueKind::elements, card, required};
  p.allowed = allowed;
  return p;
}

PropSpec schema(Prop prop, bool older_ok) {
  PropSpec p{prop, ValueKind::schema, Card::one, true};
  p.allowed = kComplexSchemas;
  p.allow_older_versions = older_ok;
  return p;
}

PropSpec boolean(Prop prop) { return {prop, ValueKind::boolean, Card::optional}; }

void add_common(ClassSpec& c, int version) {
  PropSpec comment{Prop::comment, ValueKind::string, Card::optional};
  comment.max_length = 512;
  PropSpec description{Prop::description, ValueKind::lang_string, Card::many};
  description.max_length = 512;
  PropSpec display{Prop::displayName, ValueKind::lang_string, Card::many};
  display.max_length = version == 2 ? 64 : 512;
  c.props.push_back(comment);
  c.props.push_back(description);
  c.props.push_back(display);
}

}  // namespace

Metamodel::Metamodel(int version) : version_(version) {
  const bool v2 = version == 2;
  const bool later = version >= 3;  // elements may be written in an earlier DTDL version
  auto def = [&](Cls c, bool type_optional = false) -> ClassSpec& {
    ClassSpec& s = classes_[static_cast<int>(c)];
    s.cls = c;
    s.available = true;
    s.type_optional = type_optional;
    add_common(s, version);
    return s;
  };

  {
    auto& s = def(Cls::Array);
    s.id_required_in_schemas = true;
    s.props.push_back(schema(Prop::elementSchema, later));
  }
  {
    auto& s = def(Cls::Command);
    s.props.push_back(name_prop(version));
    PropSpec ct{Prop::commandType, ValueKind::specific, Card::optional};
    ct.values = kCommandTypes;
    s.props.push_back(ct);
    ClsMask req = v2 ? bit(Cls::CommandPayload) : bit(Cls::CommandRequest);
    ClsMask resp = v2 ? bit(Cls::CommandPayload) : bit(Cls::CommandResponse);
    s.props.push_back(elements(Prop::request, Card::optional, req));
    s.props.push_back(elements(Prop::response, Card::optional, resp));
  }
  auto payload = [&](Cls c) {
    auto& s = def(c, true);
    s.props.push_back(name_prop(version));
    s.props.push_back(schema(Prop::schema, later));
    if (version >= 4) s.props.push_back(boolean(Prop::nullable));
  };
  if (v2) {
    payload(Cls::CommandPayload);
  } else {
    payload(Cls::CommandRequest);
    payload(Cls::CommandResponse);
  }
  {
    auto& s = def(Cls::Component);
    s.props.push_back(name_prop(version));
    PropSpec sch = elements(Prop::schema, Card::one, bit(Cls::Interface), true);
    sch.allow_older_versions = later;
    s.props.push_back(sch);
  }
  {
    auto& s = def(Cls::Enum);
    s.id_required_in_schemas = true;
    PropSpec vs{Prop::valueSchema, ValueKind::specific, Card::one, true};
    vs.values = kEnumValueSchemas;
    s.props.push_back(vs);
    PropSpec ev = elements(Prop::enumValues, Card::many, bit(Cls::EnumValue), v2);
    if (v2) {
      ev.max_count = 100;
      ev.min_count = 1;
    }
    s.props.push_back(ev);
  }
  {
    auto& s = def(Cls::EnumValue, true);
    s.props.push_back(name_prop(version));
    s.props.push_back({Prop::enumValue, ValueKind::enum_literal, Card::one, true});
  }
  {
    auto& s = def(Cls::Field, true);
    s.props.push_back(name_prop(version));
    s.props.push_back(schema(Prop::schema, later));
  }
  {
    auto& s = def(Cls::Interface);
    PropSpec contents = elements(Prop::contents, Card::many, kContentClasses);
    contents.allow_older_versions = later;
    if (v2) contents.max_count = 300;
    PropSpec extends = elements(Prop::extends, Card::many, bit(Cls::Interface));
    extends.allow_older_versions = later;
    if (v2) extends.max_count = 2;
    s.props.push_back(contents);
    s.props.push_back(extends);
    s.props.push_back(elements(Prop::schemas, Card::many, kComplexSchemas));
  }
  {
    auto& s = def(Cls::Map);
    s.id_required_in_schemas = true;
    s.props.push_back(elements(Prop::mapKey, Card::one, bit(Cls::MapKey), true));
    s.props.push_back(elements(Prop::mapValue, Card::one, bit(Cls::MapValue), true));
  }
  {
    auto& s = def(Cls::MapKey, true);
    s.props.push_back(name_prop(version));
    PropSpec sch{Prop::schema, ValueKind::specific, Card::one, true};
    sch.values = kMapKeySchemas;
    s.props.push_back(sch);
  }
  {
    auto& s = def(Cls::MapValue, true);
    s.props.push_back(name_prop(version));
    s.props.push_back(schema(Prop::schema, later));
  }
  {
    auto& s = def(Cls::Object);
    s.id_required_in_schemas = true;
    PropSpec fields = elements(Prop::fields, Card::many, bit(Cls::Field), v2);
    if (v2) {
      fields.max_count = 30;
      fields.min_count = 1;
    }
    s.props.push_back(fields);
  }
  {
    auto& s = def(Cls::Property);
    s.props.push_back(name_prop(version));
    s.props.push_back(schema(Prop::schema, later));
    s.props.push_back(boolean(Prop::writable));
  }
  {
    auto& s = def(Cls::Relationship);
    s.props.push_back(name_prop(version));
    PropSpec maxm{Prop::maxMultiplicity, ValueKind::integer, Card::optional};
    maxm.has_min = true;
    maxm.min_value = 1;
    if (v2) {
      maxm.has_max = true;
      maxm.max_value = 500;
    }
    PropSpec minm{Prop::minMultiplicity, ValueKind::integer, Card::optional};
    minm.has_min = minm.has_max = true;
    s.props.push_back(maxm);
    s.props.push_back(minm);
    PropSpec props = elements(Prop::properties, Card::many, bit(Cls::Property));
    props.allow_older_versions = later;
    if (v2) props.max_count = 300;
    s.props.push_back(props);
    s.props.push_back({Prop::target, ValueKind::dtmi, Card::optional});
    s.props.push_back(boolean(Prop::writable));
  }
  {
    auto& s = def(Cls::Telemetry);
    s.props.push_back(name_prop(version));
    s.props.push_back(schema(Prop::schema, later));
  }
}

const Metamodel& metamodel(int version) {
  static const Metamodel v2(2), v3(3), v4(4);
  return version == 2 ? v2 : version == 3 ? v3 : v4;
}

}  // namespace castor::model
