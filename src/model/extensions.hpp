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

struct AdjunctProp {
  std::string name;
  ValueKind kind;  // string, integer, unit, ... (duration is a string here)
  bool required = false;
};

struct AdjunctType {
  std::string term;
  ClsMask applies_to = 0;
  std::vector<AdjunctProp> props;
  const SemanticType* semantic = nullptr;  // unit must be one of semantic->units
  SchemaRule schema_rule = SchemaRule::none;
  std::string unit_type;  // for vector types: the unit type the optional unit must have
};

struct Extension {
  std::string context;  // e.g. "dtmi:dtdl:extension:quantitativeTypes;1"
  int min_dtdl = 3, max_dtdl = 3;
  std::vector<AdjunctType> adjuncts;
  std::vector<std::pair<std::string, StdSchema>> schemas;  // schema terms it adds
  std::vector<std::string> other_terms;  // further terms it defines (unit types, units)

  const AdjunctType* adjunct(std::string_view term) const;
  bool defines(std::string_view term) const;
};

// The extension whose context specifier is `context`, if Castor knows it for this DTDL version.
const Extension* find_extension(std::string_view context, int dtdl_version);
// Every extension Castor knows (documentation, CLI listing).
const std::vector<Extension>& known_extensions();

}  // namespace castor::model
