// ShardObserver: a hook through which a layer above keeps per-shard state derived from twins
// (the query layer's indexes). It is told of every twin a shard creates, replaces, changes in
// place, deletes or loads on recovery, on that shard's own thread, so the observer's per-shard
// state needs no lock. An observer must never block, post to a shard, or keep a Twin pointer
// past the next call for the same id.
#pragma once

#include <cstddef>
#include <string_view>

namespace castor::twin {

class Twin;

class ShardObserver {
 public:
  virtual ~ShardObserver() = default;
  // Once, when the engine opens, before recovery loads any twin.
  virtual void on_open(std::size_t shard_count) = 0;
  // `after` is the twin as it now is, or null when it was deleted. Patches change twins in
  // place, so no "before" is given: an observer remembers what it derived from a twin itself.
  virtual void on_twin_changed(std::size_t shard, std::string_view id, const Twin* after) = 0;
};

}  // namespace castor::twin
