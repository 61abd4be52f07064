// Digital Twin Model Identifiers (DTMI): syntax per DTDL version, version parts and the
// de-versioned form. Pure functions over strings; never allocates on the check path.
#pragma once

#include <string_view>

namespace castor::model {

struct DtmiParts {
  bool valid = false;
  bool has_version = false;
  unsigned major = 0;  // 1..999999999
  unsigned minor = 0;  // 0 when absent
  std::string_view path;  // everything before ';' ("dtmi:ex:foo")
};

// Syntax of a user DTMI. Version 2: a version number is required and has no minor part;
// versions 3 and 4: the version is optional and may carry a minor part (";1.2").
DtmiParts parse_dtmi(std::string_view s, int dtdl_version) noexcept;
inline bool is_dtmi(std::string_view s, int dtdl_version) noexcept {
  return parse_dtmi(s, dtdl_version).valid;
}
// "dtmi:ex:foo;3" -> "dtmi:ex:foo".
std::string_view deversioned(std::string_view dtmi) noexcept;
// Prefixes that user identifiers may not take ("dtmi:dtdl:", "dtmi:standard:").
bool has_reserved_prefix(std::string_view dtmi) noexcept;

}  // namespace castor::model
