// DTDL language extensions Castor understands: QuantitativeTypes (semantic types and units in
// DTDL v3), IoT Central (v2), Historization, Annotation, Overriding and MQTT (v3). An extension
// adds adjunct types that co-type elements and the members those types bring. Immutable data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/metamodel.hpp"
#include "model/vocabulary.hpp"

namespace castor::model {

// What an adjunct type demands of the co-typed element's schema.
enum class SchemaRule : unsigned char { none, numeric, numeric_or_string, enum_schema, geo, vector };

// Extra constraints on an adjunct member's value.
enum class Format : unsigned char { none, duration, topic_pattern, positive, sibling_name };

struct AdjunctProp {
  std::string name;
  ValueKind kind;  // string, integer or unit
  bool required = false;
  Format format = Format::none;
  bool unique_among_siblings = false;  // e.g. MQTT Indexed "index"
};

struct AdjunctType {
  std::string term;
  ClsMask applies_to = 0;
  std::vector<AdjunctProp> props;
  const SemanticType* semantic = nullptr;  // unit must be one of semantic->units
  SchemaRule schema_rule = SchemaRule::none;
  std::string unit_type;  // for vector types: the unit type the optional unit must have
  std::string requires_cotype;  // another co-type the element must also have ("" = none)
};

struct Extension {
  std::string context;  // e.g. "dtmi:dtdl:extension:quantitativeTypes;1"
  int min_dtdl = 3, max_dtdl = 3;
  std::vector<AdjunctType> adjuncts;
  std::vector<std::pair<std::string, StdSchema>> schemas;  // schema terms it adds
  std::vector<std::string> other_terms;  // further terms it defines (unit types, units)
  // Enumerations usable as schemas (QuantitativeTypes unit types): term -> allowed strings.
  std::vector<std::pair<std::string, std::vector<std::string>>> enum_schemas;

  const AdjunctType* adjunct(std::string_view term) const;
  bool defines(std::string_view term) const;
};

// The values of an extension enumeration schema (e.g. "TemperatureUnit"), or nullptr.
const std::vector<std::string>* extension_enum_schema(std::string_view term);

// The extension whose context specifier is `context`, if Castor knows it for this DTDL version.
const Extension* find_extension(std::string_view context, int dtdl_version);
// Every extension Castor knows (documentation, CLI listing).
const std::vector<Extension>& known_extensions();

}  // namespace castor::model
