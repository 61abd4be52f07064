// Per-version lookups of DTDL terms and their DTMI forms: classes, properties, standard
// schemas, reserved strings, and the built-in semantic types of DTDL v2. Immutable after
// construction; obtain with vocabulary(version).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/strings.hpp"
#include "model/types.hpp"

namespace castor::model {

// A semantic type (e.g. Temperature) and the units it accepts.
struct SemanticType {
  std::string term;
  std::string unit_type;            // e.g. TemperatureUnit ("" in DTDL v2's table)
  std::vector<std::string> units;   // unit terms
};

struct TermHit {
  bool dtmi_form = false;  // the DTMI spelling was used, not the term
};

class Vocabulary {
 public:
  explicit Vocabulary(int version);

  int version() const noexcept { return version_; }
  const std::string& context() const noexcept { return context_; }  // "dtmi:dtdl:context;N"

  // A material class named by term or DTMI of this version.
  std::optional<Cls> class_of(std::string_view s, TermHit* hit = nullptr) const;
  std::optional<Prop> property_of(std::string_view s, TermHit* hit = nullptr) const;
  // A standard schema of this version (primitive or geospatial).
  StdSchema standard_schema(std::string_view s, TermHit* hit = nullptr) const;
  std::string dtmi_of_class(Cls c) const;
  std::string dtmi_of_property(Prop p) const;
  std::string dtmi_of_value(std::string_view instance_term) const;  // "dtmi:dtdl:instance:..."
  std::string dtmi_of_schema(StdSchema s) const;
  bool is_reserved(std::string_view s) const { return reserved_.find(s) != reserved_.end(); }

  // DTDL v2 only: semantic types built into the language.
  const SemanticType* semantic_type(std::string_view s, TermHit* hit = nullptr) const;
  bool is_unit_of(const SemanticType& t, std::string_view unit, TermHit* hit = nullptr) const;

 private:
  int version_;
  std::string context_;
  StringMap<std::pair<Cls, bool>> classes_;
  StringMap<std::pair<Prop, bool>> props_;
  StringMap<std::pair<StdSchema, bool>> schemas_;
  StringSet reserved_;
  std::vector<SemanticType> semantic_;
  StringMap<std::pair<std::size_t, bool>> semantic_index_;
};

const Vocabulary& vocabulary(int version);  // version 2, 3 or 4
bool is_supported_version(int version) noexcept;

// The QuantitativeTypes extension's semantic types (DTDL v3: extension version 1).
const std::vector<SemanticType>& quantitative_types_v1();

}  // namespace castor::model
