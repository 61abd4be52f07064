#include "api/trace.hpp"

#include <openssl/rand.h>

#include <cstdint>
#include <stdexcept>

namespace castor::api {
namespace {

bool is_lower_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) noexcept {
  return s.find_first_not_of('0') == s.npos;
}

}  // namespace

bool valid_traceparent(std::string_view h) noexcept {
  // version "00": 2-32-16-2 hex digits separated by dashes; all-zero ids are invalid.
  if (h.size() != 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  std::string_view version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16),
                   flags = h.substr(53, 2);
  return is_lower_hex(version) && version != "ff" && is_lower_hex(trace) && !all_zero(trace) &&
         is_lower_hex(parent) && !all_zero(parent) && is_lower_hex(flags);
}

namespace {

// splitmix64's finalizer: a bijection on 64-bit words.
std::uint64_t mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void append_hex(std::uint64_t v, char* out) noexcept {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
}

}  // namespace

TraceIds::TraceIds() {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key_), sizeof key_) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed: the system random source is unusable");
  }
}

std::string TraceIds::next() {
  for (;;) {
    std::uint64_t n = counter_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t high = mix(n + key_[0]);     // distinct for distinct n
    std::uint64_t low = mix(high ^ key_[1]);  // and so is the pair
    if ((high | low) == 0) continue;           // all-zero ids are invalid (W3C)
    std::string out(32, '0');
    append_hex(high, out.data());
    append_hex(low, out.data() + 16);
    return out;
  }
}

TraceContext trace_from_header(std::optional<std::string_view> traceparent, TraceIds& ids) {
  TraceContext t;
  if (traceparent && valid_traceparent(*traceparent)) {
    t.trace_id = std::string(traceparent->substr(3, 32));
    t.parent_id = std::string(traceparent->substr(36, 16));
    t.from_client = true;
  } else {
    t.trace_id = ids.next();
  }
  return t;
}

}  // namespace castor::api
