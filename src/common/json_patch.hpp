// RFC 6902 JSON Patch and RFC 6901 JSON Pointer over Boost.JSON values. Used by the API for
// twin, component and relationship updates. Applies all operations or none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"

namespace castor::json {

// Splits a JSON Pointer ("/a/b~1c") into unescaped reference tokens.
Result<std::vector<std::string>> parse_pointer(std::string_view pointer);
// Escapes one reference token ("~" -> "~0", "/" -> "~1").
std::string escape_pointer_token(std::string_view token);

// The value at `pointer` inside `root`, or nullptr.
const value* find_pointer(const value& root, std::string_view pointer);

struct PatchOp {
  enum class Kind { add, remove, replace, move, copy, test } kind;
  std::vector<std::string> path;
  std::vector<std::string> from;  // move, copy
  value val;                      // add, replace, test
  std::string path_text;
};

// Parses and checks the shape of a patch document (an array of operation objects).
Result<std::vector<PatchOp>> parse_patch(const value& patch);
// Applies operations in order to `doc`; on failure `doc` is left unchanged.
Status apply_patch(value& doc, const std::vector<PatchOp>& ops);

}  // namespace castor::json
