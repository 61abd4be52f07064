// Raw vocabulary tables of the DTDL language (reserved strings, semantic types and units).
// Data only; vocabulary.hpp turns them into lookups. Never mutated.
#pragma once

#include <cstddef>

namespace castor::model::tables {

struct ReservedTerm {
  const char* term;
  const char* dtmi;
};
struct SemanticRow {  // one (semantic type, unit) pair of the DTDL v2 "Semantic types" table
  const char* type;
  const char* unit;
};
struct QuantitativeType {  // one row of QuantitativeTypes v1: semantic type, unit type, units
  const char* type;
  const char* unit_type;
  const char* units;  // space-separated unit terms
};

extern const ReservedTerm kReservedV2[];
extern const std::size_t kReservedV2_count;
extern const ReservedTerm kReservedV3[];
extern const std::size_t kReservedV3_count;
extern const SemanticRow kSemanticV2[];
extern const std::size_t kSemanticV2_count;
extern const QuantitativeType kQuantitativeTypesV1[];
extern const std::size_t kQuantitativeTypesV1_count;

}  // namespace castor::model::tables
