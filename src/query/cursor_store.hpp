// The paging store: the result keys of queries with more than one page, kept server-side under
// an unguessable id until their last page is served, their time-to-live lapses (refreshed by
// every page), or memory runs short (least recently used first). A continuation token is the id
// and the offset of the next page, so a retried request gets the same page again. Thread-safe;
// holds keys and plans only, never twin data.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.hpp"
#include "query/key_list.hpp"
#include "query/planner.hpp"

namespace castor::query {

struct Cursor {
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<const KeyList> keys;
};

struct CursorToken {
  std::string id;
  std::size_t offset = 0;
};

class CursorStore {
 public:
  using Clock = std::chrono::steady_clock;

  CursorStore(std::chrono::milliseconds ttl, std::size_t memory_limit);

  // Keeps `c`; its id, or an error when the cursor alone is larger than the whole store.
  Result<std::string> put(Cursor c);
  // The cursor, its time-to-live renewed; nothing when unknown, expired or evicted.
  std::optional<Cursor> get(std::string_view id);
  void erase(std::string_view id);

  std::size_t size() const;
  std::size_t bytes() const;

  static std::string format_token(std::string_view id, std::size_t offset);
  // BadRequest when the token is not one Castor issued.
  static Result<CursorToken> parse_token(std::string_view token);

 private:
  struct Entry {
    Cursor cursor;
    Clock::time_point expires;
    std::size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  void expire(Clock::time_point now);  // with mu_ held
  void evict_one();                    // with mu_ held

  const std::chrono::milliseconds ttl_;
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  std::size_t bytes_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace castor::query
