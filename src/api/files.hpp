// Small durable-file helpers for the API layer: atomic replace (write temp, fsync, rename, fsync
// the directory) with an explicit mode, and RFC 3339 timestamps. Never follows a partial write.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::api {

// Replaces `path` with `content` so that readers see the old or the new file, never a mix; the
// file gets `mode` (e.g. 0600 for secrets) before any byte is written.
Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             mode_t mode);

// Creates `dir` (and parents) if missing; `mode` applies to the last component when created.
Status ensure_directory(const std::filesystem::path& dir, mode_t mode);

Result<std::string> read_file(const std::filesystem::path& path);

// "2024-05-01T12:00:00.123Z"
std::string rfc3339_utc(std::chrono::system_clock::time_point t);

}  // namespace castor::api
