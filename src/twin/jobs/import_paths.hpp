// Where import jobs read and write: an ADT job's inputBlobUri/outputBlobUri resolved to a file
// inside Castor's import folder. Accepts file:///abs/path, file://relative/path, file:relative
// and plain paths; refuses other schemes, "..", and anything (symlinks included) that resolves
// outside the folder, with a sentence saying what to send instead. Never opens or creates files.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/status.hpp"

namespace castor::twin::jobs {

enum class PathUse : unsigned char {
  input,   // must be an existing regular file
  output,  // its folder must exist (inside the import folder); the file may not
};

// Resolves `uri` (the value of the body field `field`) against the canonical import `folder`.
// Errors are Code::invalid_argument with reason "ValidationFailed".
Result<std::filesystem::path> resolve_import_uri(std::string_view uri, std::string_view field,
                                                 const std::filesystem::path& folder, PathUse use);

// The import folder, created when missing, as a canonical path.
Result<std::filesystem::path> prepare_import_folder(const std::filesystem::path& folder);

}  // namespace castor::twin::jobs
