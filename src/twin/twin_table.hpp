// TwinTable: a shard's twins by $dtId, an open-addressing hash table (linear probing,
// backward-shift erase) that owns them. A lookup reads one slot and then the twin, where a node
// map reads a bucket, a node and the twin; prefetch() lets batched readers start those reads
// early. Not synchronized: only the owning shard's thread may use it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "twin/twin.hpp"

namespace castor::twin {

class TwinTable {
 public:
  TwinTable() = default;
  ~TwinTable();
  TwinTable(const TwinTable&) = delete;
  TwinTable& operator=(const TwinTable&) = delete;

  Twin* find(std::string_view id) const noexcept;
  // Starts loading the slot where `id` would be, for a find() of it a little later.
  void prefetch(std::string_view id) const noexcept;
  // Finds ids[i] into out[i] (null: absent) for a whole batch, pipelined: each id's slot starts
  // loading kSlotAhead ids before its lookup and its twin (and the twin's cells) kTwinAhead ids
  // before, so the cache misses of a batch of cold twins overlap instead of following each other.
  template <class Id>
  void find_all(std::span<const Id> ids, std::span<Twin*> out) const noexcept;
  // Adds `t`, replacing (and destroying) a twin with the same id.
  Twin& put(std::unique_ptr<Twin> t);
  // Adds `t`, whose id the caller knows is absent (recovery, bulk import): no lookup first.
  Twin& put_absent(std::unique_ptr<Twin> t);
  // Destroys the twin with this id (`id` may view that twin's own id); false when there is none.
  bool erase(std::string_view id);
  std::size_t size() const noexcept { return size_; }

  // Calls f(twin) for every twin, in no particular order, until it returns false.
  template <class F>
  void for_each_while(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.twin != nullptr && !f(*s.twin)) return;
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    Twin* twin = nullptr;  // owned; null: empty
  };
  // Far enough ahead for cold memory: a lookup of a cached twin takes ~15 ns, so at 16 and 8 a
  // slot or twin still in DRAM (queries between others that evict them) arrived late.
  static constexpr std::size_t kSlotAhead = 32;
  static constexpr std::size_t kTwinAhead = 16;
  static std::uint64_t hash_of(std::string_view id) noexcept;
  std::size_t locate(std::string_view id, std::uint64_t hash) const noexcept;  // slot or npos
  void prefetch_slot(std::uint64_t hash) const noexcept {
    __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  // Reads the home slot (loaded by now) and starts loading the twin there, usually the one
  // wanted, and the first line of its cells.
  void prefetch_twin(std::uint64_t hash) const noexcept;
  void grow();

  std::vector<Slot> slots_;  // a power of two long, at most 70% full
  std::size_t size_ = 0;
};

template <class Id>
void TwinTable::find_all(std::span<const Id> ids, std::span<Twin*> out) const noexcept {
  const std::size_t n = std::min(ids.size(), out.size());
  if (slots_.empty()) {
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), nullptr);
    return;
  }
  // Hashes of ids [i, i + kSlotAhead], in a ring.
  std::array<std::uint64_t, kSlotAhead + 1> ring{};
  constexpr std::size_t kRing = kSlotAhead + 1;
  for (std::size_t j = 0; j < n && j <= kSlotAhead; ++j) {
    ring[j] = hash_of(ids[j]);
    prefetch_slot(ring[j]);
  }
  for (std::size_t j = 0; j < n && j < kTwinAhead; ++j) prefetch_twin(ring[j]);
  for (std::size_t i = 0; i < n; ++i) {
    if (i + kTwinAhead < n) prefetch_twin(ring[(i + kTwinAhead) % kRing]);
    const std::size_t at = locate(ids[i], ring[i % kRing]);
    out[i] = at == SIZE_MAX ? nullptr : slots_[at].twin;
    if (i + kSlotAhead + 1 < n) {
      const std::uint64_t h = hash_of(ids[i + kSlotAhead + 1]);
      ring[(i + kSlotAhead + 1) % kRing] = h;
      prefetch_slot(h);
    }
  }
}

}  // namespace castor::twin
