// DeadLetterFile: DATA/deadletter/<endpoint>.ndjson, where events go that an endpoint would not
// take after every retry: one JSON object per line with the event, the reason and the attempts.
// Each append is flushed to disk before it returns; the file is only ever appended to.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::rules {

struct DeadLetter {
  std::string_view event;  // the CloudEvent as JSON
  std::string_view reason;
  std::uint64_t attempts = 0;
};

class DeadLetterFile {
 public:
  DeadLetterFile(std::filesystem::path dir, std::string endpoint);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  // Appends one {"time","endpoint","reason","attempts","event"} line per letter, then syncs.
  Status append(std::span<const DeadLetter> letters);
  Status append(const DeadLetter& letter) {
    return append(std::span<const DeadLetter>(&letter, 1));
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::mutex mu_;
  std::filesystem::path path_;
  std::string endpoint_;
  int fd_ = -1;  // opened on first use
};

}  // namespace castor::rules
