#include "query/cursor_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace castor::query {
namespace {

constexpr std::size_t kIdLength = 32;  // 128 random bits in hex

Status bad_token() {
  return Status(Code::invalid_argument,
                "The continuation token is not valid; pass the continuationToken of the previous "
                "page unchanged, or run the query again without one.",
                "BadRequest");
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

CursorStore::CursorStore(std::chrono::milliseconds ttl, std::size_t memory_limit)
    : ttl_(ttl), limit_(memory_limit), rng_(std::random_device{}()) {}

Result<std::string> CursorStore::put(Cursor c) {
  const std::size_t bytes = c.keys->bytes() + sizeof(Entry) + 2 * kIdLength;
  if (bytes > limit_) {
    return Status(Code::invalid_argument,
                  fmt::format("The result has {} rows, more than Castor can keep for paging "
                              "(--query-cursor-memory is {} bytes); narrow the query, or use TOP "
                              "or COUNT().",
                              c.keys->size(), limit_),
                  "SqlQueryError");
  }
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  expire(now);
  while (bytes_ + bytes > limit_ && !lru_.empty()) evict_one();
  std::string id;
  do {
    id = fmt::format("{:016x}{:016x}", rng_(), rng_());
  } while (entries_.count(id) != 0);
  lru_.push_front(id);
  entries_.emplace(id, Entry{std::move(c), now + ttl_, bytes, lru_.begin()});
  bytes_ += bytes;
  return id;
}

std::optional<Cursor> CursorStore::get(std::string_view id) {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  expire(now);
  const auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return std::nullopt;
  it->second.expires = now + ttl_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.cursor;
}

void CursorStore::erase(std::string_view id) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(std::string(id));
  if (it == entries_.end()) return;
  bytes_ -= it->second.bytes;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::size_t CursorStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::size_t CursorStore::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void CursorStore::expire(Clock::time_point now) {
  // Expiry times grow with use, so the least recently used expire first.
  while (!lru_.empty()) {
    const auto it = entries_.find(lru_.back());
    if (it->second.expires > now) return;
    evict_one();
  }
}

void CursorStore::evict_one() {
  const auto it = entries_.find(lru_.back());
  bytes_ -= it->second.bytes;
  entries_.erase(it);
  lru_.pop_back();
}

std::string CursorStore::format_token(std::string_view id, std::size_t offset) {
  return fmt::format("{}.{}", id, offset);
}

Result<CursorToken> CursorStore::parse_token(std::string_view token) {
  const std::size_t dot = token.find('.');
  if (dot != kIdLength || !is_hex(token.substr(0, dot))) return bad_token();
  CursorToken t{std::string(token.substr(0, dot)), 0};
  const std::string_view digits = token.substr(dot + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.offset);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
    return bad_token();
  }
  return t;
}

}  // namespace castor::query
