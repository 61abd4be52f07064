// Rules that span elements: resolution of dependent references, referenceability, identifier
// uniqueness, names unique across extends, Enum values, semantic types and units, and the
// limits on paths (extends depth, schema nesting, cycles). Runs after every document is read;
// reports into Diagnostics and never changes what the parser produced except resolving refs.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/diagnostics.hpp"
#include "model/element_parser.hpp"

namespace castor::model {

// All contents of an Interface including inherited ones (deduplicated, cycle-safe).
std::vector<ElementIndex> all_contents(const ParsedModel& model, ElementIndex iface);

class ModelChecker {
 public:
  ModelChecker(ParsedModel& model, Diagnostics& diag) : m_(model), diag_(diag) {}

  // Resolves dependent references within the model set. Returns false when some reference is
  // unresolved (listed in Diagnostics::unresolved()).
  bool resolve();
  void check();

 private:
  void error(std::string_view id, const Element& at, std::string message);
  void error_at(std::string_view id, const Element& at, std::string path, std::string message);
  void check_reference(ElementIndex from, const PropSpec& spec, Ref& ref);
  void check_unique_names();
  void check_extends();
  void check_counts();
  void check_schema_depth();
  void check_components();
  void check_v2_property_schemas();
  void check_enum_values();
  void check_semantic_types();
  void check_adjunct_rules();
  void check_cycles();
  int schema_depth(ElementIndex e, std::vector<int>& memo, std::vector<char>& state) const;
  bool schema_tree_has(ElementIndex root, bool (*pred)(const Element*, const Ref&)) const;
  StdSchema schema_of(const Element& e, const Element** complex) const;

  const Element& el(ElementIndex i) const { return m_.elements[i]; }
  const Element* target(const Ref& r) const {
    return r.kind == Ref::Kind::standard || r.element == kNoElement ? nullptr : &m_.elements[r.element];
  }

  ParsedModel& m_;
  Diagnostics& diag_;
  std::unordered_map<std::string, ElementIndex> ids_;
  std::unordered_set<ElementIndex> reported_cycle_;  // elements already reported in a cycle
};

}  // namespace castor::model
