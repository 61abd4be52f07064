// RenderCache: the ADT JSON of recently rendered twins, kept per shard, so that query rows showing
// whole twins (SELECT T, SELECT *) copy bytes instead of rendering 20 properties with their
// $metadata again; a twin is kept once it was shown twice in the same state. Each shard's part
// is owned by that shard's thread (no locks); it is a twin::ShardObserver, so every change of a
// twin drops its entry there and then, and an entry is also checked against the twin's ETag
// before use. It must never hand out a rendering of a state the twin no longer has, and never
// hold more than its byte budget (clock eviction).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.hpp"
#include "twin/shard_observer.hpp"
#include "twin/twin.hpp"
#include "twin/twin_json.hpp"

namespace castor::query {

class RenderCache final : public twin::ShardObserver {
 public:
  // `budget_bytes`: rendered JSON kept at most, over all shards; 0 keeps nothing (every row is
  // rendered). Until the engine opened with this cache among its observers, nothing is kept.
  explicit RenderCache(std::size_t budget_bytes);

  // On the thread of shard `shard` only: appends the twin's ADT JSON (twin::render_twin) to `out`,
  // from the cache when it holds the twin's current state, else rendered (and kept when this is
  // the second rendering of that state). `memo`: twin::render_twin's, for a batch of twins.
  void append_twin(std::size_t shard, const twin::Twin& t, std::string& out,
                   twin::RenderMemo* memo = nullptr);
  // On the thread of shard `shard`: starts loading what append_twin(shard, t) looks up first
  // (its place in the table of kept twins and in the table of twins seen once), for batched
  // renderers a few twins ahead. Reads only the twin's address.
  void prefetch(std::size_t shard, const twin::Twin* t) const noexcept;

  void on_open(std::size_t shard_count) override;
  void on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin* after) override;

  // Any thread (approximate while shards run).
  std::uint64_t hits() const noexcept;
  std::uint64_t misses() const noexcept;
  std::size_t bytes() const noexcept;
  std::size_t budget() const noexcept { return budget_; }

 private:
  struct Entry {
    std::string id;
    std::string json;
    const twin::Twin* twin = nullptr;  // the twin it was rendered from (compared, never read)
    std::uint64_t etag = 0;
    bool referenced = false;  // read since the clock hand last passed
    bool live = false;
  };
  // Entries by twin address, open addressing with linear probing: a read costs one hash of a
  // pointer and usually one cache line, where a lookup by id hashes and compares strings.
  class ByTwin {
   public:
    static constexpr std::uint32_t kNone = UINT32_MAX;
    std::uint32_t find(const twin::Twin* t) const noexcept;
    void prefetch(const twin::Twin* t) const noexcept {
      if (!slots_.empty()) __builtin_prefetch(&slots_[home(t)]);
    }
    void insert(const twin::Twin* t, std::uint32_t index);
    void erase(const twin::Twin* t) noexcept;

   private:
    struct Slot {
      const twin::Twin* twin = nullptr;
      std::uint32_t index = kNone;
    };
    std::size_t home(const twin::Twin* t) const noexcept;
    void grow();
    std::vector<Slot> slots_;
    std::size_t size_ = 0;
  };
  // Twins rendered once and not kept: a twin is kept the second time it is rendered in the same
  // state, so rows shown once (a scan through many twins) cost no copy and evict nothing.
  // Direct-mapped: a newer twin simply takes the place of an older one.
  struct Seen {
    const twin::Twin* twin = nullptr;
    std::uint64_t etag = 0;
  };
  static constexpr std::size_t kSeen = 16384;
  static std::size_t seen_index(const twin::Twin* t) noexcept {
    const auto address = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t));
    return ((address * 0x9E3779B97F4A7C15ULL) >> 32) & (kSeen - 1);
  }
  struct PerShard {
    std::vector<Seen> seen = std::vector<Seen>(kSeen);
    StringMap<std::uint32_t> where;  // id -> entries index (writes drop entries by id)
    ByTwin by_twin;                  // twin -> entries index (reads)
    std::vector<Entry> entries;
    std::vector<std::uint32_t> free;
    std::size_t hand = 0;
    std::size_t used = 0;  // bytes of live entries (only this shard's thread writes it)
    std::atomic<std::size_t> bytes{0};
    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
  };
  static std::size_t cost(const Entry& e) noexcept;
  void keep(PerShard& p, const twin::Twin& t, std::string json);
  void drop(PerShard& p, std::uint32_t index);
  bool make_room(PerShard& p, std::size_t need);

  const std::size_t budget_;
  std::size_t shard_budget_ = 0;
  std::vector<std::unique_ptr<PerShard>> shards_;
};

}  // namespace castor::query
