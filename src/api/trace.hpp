// Request correlation: the W3C `traceparent` header (accepted when valid, otherwise a fresh trace
// id is made) and a per-request id. Ids go into logs and the audit log; never into metrics labels.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace castor::api {

struct TraceContext {
  std::string trace_id;      // 32 lowercase hex digits
  std::string parent_id;     // 16 hex digits from the client's traceparent; "" when none
  bool from_client = false;  // true when the client sent a valid traceparent
};

// Fresh trace ids for a server's requests without a system call or a lock each: a 128-bit key
// drawn once from the system random source, and a counter mixed through it by two keyed
// bijections. Unique within the process (the counter never repeats), never all zero, and not
// guessable without the key. Thread-safe.
class TraceIds {
 public:
  TraceIds();
  std::string next();  // 32 lowercase hex digits

 private:
  std::uint64_t key_[2];
  std::atomic<std::uint64_t> counter_{0};
};

// Parses `traceparent` ("00-<trace-id>-<parent-id>-<flags>"); invalid or absent -> a fresh trace
// id from `ids`.
TraceContext trace_from_header(std::optional<std::string_view> traceparent, TraceIds& ids);
bool valid_traceparent(std::string_view header) noexcept;

}  // namespace castor::api
