// A parsed DTDL element: its class, identity, position in the documents, and the values of its
// members in typed form. Elements live in a vector owned by the model being parsed and point to
// each other by index; references by DTMI are resolved in place after all documents are read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "model/types.hpp"

namespace castor::model {

using ElementIndex = std::uint32_t;
inline constexpr ElementIndex kNoElement = ~ElementIndex{0};

// A value included by an element-valued member.
struct Ref {
  enum class Kind : std::uint8_t { element, reference, standard };
  Kind kind = Kind::element;
  ElementIndex element = kNoElement;  // inline element, or the resolved target of a reference
  std::string dtmi;                   // for references
  StdSchema standard = StdSchema::none;
};

struct RefList {
  Prop prop;
  std::vector<Ref> refs;
};

// Localizable text: (language code, text). Language "" means the default.
using LangString = std::vector<std::pair<std::string, std::string>>;

struct ActiveContext {
  int version = 0;
  std::vector<std::string> entries;    // the merged @context values
  std::vector<const struct Extension*> extensions;  // known extensions in effect
  bool undefined_extension = false;    // some entry names an extension Castor does not know
  bool onvif_limits = false;           // DTDL v4 with the ONVIF limit extension
};

struct Element {
  Cls cls = Cls::Interface;
  std::uint8_t version = 0;
  bool top_level = false;
  bool id_explicit = false;
  bool informally_cotyped = false;
  std::string id;
  ElementIndex parent = kNoElement;  // structural parent
  Prop parent_prop = Prop::contents;
  ElementIndex partition = kNoElement;  // root of the partition this element belongs to
  std::uint32_t doc = 0;
  std::string path;
  std::uint32_t context = 0;  // index into the model's contexts

  std::vector<std::string> cotypes;      // adjunct and semantic types (normalized terms)
  std::string name;
  std::string comment;
  LangString display_name, description;
  std::vector<RefList> members;          // element-valued members
  std::optional<bool> writable, nullable;
  std::optional<long long> min_multiplicity, max_multiplicity;
  std::string target;
  std::string command_type;
  StdSchema value_schema = StdSchema::none;  // Enum
  std::variant<std::monostate, long long, std::string> enum_value;
  std::string unit;
  std::vector<std::pair<std::string, std::string>> extension_values;  // adjunct members

  const std::vector<Ref>* refs(Prop p) const {
    for (const auto& m : members)
      if (m.prop == p) return &m.refs;
    return nullptr;
  }
  std::vector<Ref>& refs_mut(Prop p) {
    for (auto& m : members)
      if (m.prop == p) return m.refs;
    members.push_back({p, {}});
    return members.back().refs;
  }
  bool has_cotype(std::string_view t) const {
    for (const auto& c : cotypes)
      if (c == t) return true;
    return false;
  }
};

}  // namespace castor::model
