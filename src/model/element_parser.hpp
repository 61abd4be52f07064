// Reads DTDL documents into Elements: applies every rule that one element's JSON decides on its
// own (members, value shapes, co-types, identifiers, contexts). Cross-element rules (references,
// names unique across extends, limits on paths) are the ModelChecker's. Never throws on input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "model/diagnostics.hpp"
#include "model/element.hpp"
#include "model/metamodel.hpp"

namespace castor::model {

enum class UndefinedExtensions : unsigned char {
  // As each specification recommends: accepted in DTDL v2 models, rejected in v3 and later.
  by_version,
  allow,     // their adjunct types and members are tolerated unchecked
  disallow,  // a model naming one is rejected
};

struct ParseOptions {
  // What to do with @context extensions Castor does not know. Default: per DTDL version.
  UndefinedExtensions undefined_extensions = UndefinedExtensions::by_version;
  // Highest DTDL version accepted (2..4).
  int max_dtdl_version = 4;
};

struct ParsedModel {
  std::vector<Element> elements;
  std::vector<ActiveContext> contexts;
  std::vector<ElementIndex> top_level;
};

class ElementParser {
 public:
  ElementParser(const ParseOptions& options, ParsedModel& model, Diagnostics& diag)
      : options_(options), model_(model), diag_(diag) {}

  void parse_document(const json::value& doc, std::uint32_t doc_index);
  // Gives every element without an @id a synthetic one derived from its parent's: call once
  // after all documents (parents precede their children in the element vector).
  void assign_synthetic_ids();

 private:
  struct Parent {
    ElementIndex index = kNoElement;
    const PropSpec* via = nullptr;  // member that includes the element (nullptr: top level)
    int via_version = 0;
    std::uint32_t context = 0;
    ElementIndex partition = kNoElement;
  };

  void parse_top_level(const json::object& obj, const std::string& path);
  ElementIndex parse_element(const json::object& obj, const Parent& parent, const std::string& path);
  bool resolve_context(const json::object& obj, const Parent& parent, bool top_level,
                       const std::string& path, std::uint32_t& ctx);
  bool choose_class(const json::object& obj, const Parent& parent, int version,
                    const std::string& path, Cls& cls, std::vector<std::string>& others);
  void classify_cotypes(Element& e, const std::vector<std::string>& others);
  void parse_id(const json::object& obj, Element& e, const Parent& parent);
  void parse_members(const json::object& obj, ElementIndex self);
  bool parse_adjunct_member(Element& e, const std::string& key, const json::value& v,
                            const std::string& path);
  void check_undefined_member(Element& e, const std::string& key, const std::string& path);
  void parse_member(ElementIndex self, const PropSpec& spec, const json::value& v,
                    const std::string& path);
  void parse_element_values(ElementIndex self, const PropSpec& spec,
                            const std::vector<const json::value*>& items, const std::string& path);
  void check_adjuncts(Element& e, const std::vector<std::string>& seen_members);
  bool allow_undefined(int version) const;

  void error(std::string_view id, const std::string& path, std::string message);
  const Element& el(ElementIndex i) const { return model_.elements[i]; }
  Element& el(ElementIndex i) { return model_.elements[i]; }

  const ParseOptions& options_;
  ParsedModel& model_;
  Diagnostics& diag_;
  std::uint32_t doc_ = 0;
  std::string current_id_;  // nearest identified element, for error reports
};

}  // namespace castor::model
