// Request correlation: the W3C `traceparent` header (accepted when valid, otherwise a fresh trace
// id is made) and a per-request id. Ids go into logs and the audit log; never into metrics labels.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace castor::api {

struct TraceContext {
  std::string trace_id;      // 32 lowercase hex digits
  std::string parent_id;     // 16 hex digits from the client's traceparent; "" when none
  bool from_client = false;  // true when the client sent a valid traceparent
};

// Parses `traceparent` ("00-<trace-id>-<parent-id>-<flags>"); invalid or absent -> fresh trace id.
TraceContext trace_from_header(std::optional<std::string_view> traceparent);
bool valid_traceparent(std::string_view header) noexcept;
std::string random_hex(std::size_t bytes);  // cryptographically random, lowercase hex

}  // namespace castor::api
