// TwinTable: a shard's twins by $dtId, an open-addressing hash table (linear probing,
// backward-shift erase) that owns them. A lookup reads one slot and then the twin, where a node
// map reads a bucket, a node and the twin; prefetch() lets batched readers start those reads
// early. Not synchronized: only the owning shard's thread may use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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
  static std::uint64_t hash_of(std::string_view id) noexcept;
  std::size_t locate(std::string_view id, std::uint64_t hash) const noexcept;  // slot or npos
  void grow();

  std::vector<Slot> slots_;  // a power of two long, at most 70% full
  std::size_t size_ = 0;
};

}  // namespace castor::twin
