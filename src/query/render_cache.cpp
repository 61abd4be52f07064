#include "query/render_cache.hpp"

#include "twin/twin_json.hpp"

namespace castor::query {

RenderCache::RenderCache(std::size_t budget_bytes) : budget_(budget_bytes) {}

void RenderCache::on_open(std::size_t shard_count) {
  shards_.clear();
  for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<PerShard>());
  shard_budget_ = shard_count == 0 ? 0 : budget_ / shard_count;
}

std::size_t RenderCache::cost(const Entry& e) noexcept {
  // The id twice (entry and map key), the JSON, and the map node and entry themselves.
  return 2 * e.id.size() + e.json.size() + 96;
}

void RenderCache::append_twin(std::size_t shard, const twin::Twin& t, std::string& out,
                              twin::RenderMemo* memo) {
  if (shard >= shards_.size() || shard_budget_ == 0) return twin::render_twin(t, out, memo);
  PerShard& p = *shards_[shard];
  if (const std::uint32_t index = p.by_twin.find(&t); index != ByTwin::kNone) {
    Entry& e = p.entries[index];
    if (e.etag == t.etag && e.id == t.id) {
      e.referenced = true;
      out += e.json;
      p.hits.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    drop(p, index);  // a change the observer was not told of cannot be served either
  }
  p.misses.fetch_add(1, std::memory_order_relaxed);
  const std::size_t start = out.size();
  twin::render_twin(t, out, memo);
  Seen& seen = p.seen[seen_index(&t)];
  if (seen.twin == &t && seen.etag == t.etag) {
    seen = Seen{};
    keep(p, t, out.substr(start));
  } else {
    seen = Seen{&t, t.etag};
  }
}

void RenderCache::prefetch(std::size_t shard, const twin::Twin* t) const noexcept {
  if (shard >= shards_.size() || shard_budget_ == 0) return;
  const PerShard& p = *shards_[shard];
  p.by_twin.prefetch(t);
  __builtin_prefetch(&p.seen[seen_index(t)]);
}

void RenderCache::keep(PerShard& p, const twin::Twin& t, std::string json) {
  if (auto it = p.where.find(std::string_view(t.id)); it != p.where.end()) drop(p, it->second);
  Entry e{t.id, std::move(json), &t, t.etag, false, true};
  const std::size_t need = cost(e);
  if (need > shard_budget_ || !make_room(p, need)) return;
  std::uint32_t index;
  if (!p.free.empty()) {
    index = p.free.back();
    p.free.pop_back();
    p.entries[index] = std::move(e);
  } else {
    index = static_cast<std::uint32_t>(p.entries.size());
    p.entries.push_back(std::move(e));
  }
  p.where.emplace(p.entries[index].id, index);
  p.by_twin.insert(&t, index);
  p.used += need;
  p.bytes.store(p.used, std::memory_order_relaxed);
}

// Clock: entries read since the hand last passed get a second chance; two sweeps always free
// enough unless the shard holds less than `need` in total.
bool RenderCache::make_room(PerShard& p, std::size_t need) {
  std::size_t steps = 2 * p.entries.size();
  while (p.used + need > shard_budget_ && steps-- > 0) {
    if (p.hand >= p.entries.size()) p.hand = 0;
    Entry& e = p.entries[p.hand];
    if (e.live && e.referenced) {
      e.referenced = false;
    } else if (e.live) {
      drop(p, static_cast<std::uint32_t>(p.hand));
    }
    ++p.hand;
  }
  return p.used + need <= shard_budget_;
}

void RenderCache::drop(PerShard& p, std::uint32_t index) {
  Entry& e = p.entries[index];
  p.used -= cost(e);
  p.where.erase(e.id);
  p.by_twin.erase(e.twin);
  e = Entry{};
  p.free.push_back(index);
  p.bytes.store(p.used, std::memory_order_relaxed);
}

void RenderCache::on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin*) {
  if (shard >= shards_.size()) return;
  PerShard& p = *shards_[shard];
  if (auto it = p.where.find(id); it != p.where.end()) drop(p, it->second);
}

std::size_t RenderCache::ByTwin::home(const twin::Twin* t) const noexcept {
  auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(t));
  h *= 0x9E3779B97F4A7C15ULL;  // Fibonacci hashing: the low bits of addresses are all alike
  return static_cast<std::size_t>(h >> 32) & (slots_.size() - 1);
}

std::uint32_t RenderCache::ByTwin::find(const twin::Twin* t) const noexcept {
  if (slots_.empty()) return kNone;
  for (std::size_t i = home(t);; i = (i + 1) & (slots_.size() - 1)) {
    if (slots_[i].twin == t) return slots_[i].index;
    if (slots_[i].twin == nullptr) return kNone;
  }
}

void RenderCache::ByTwin::insert(const twin::Twin* t, std::uint32_t index) {
  if (2 * (size_ + 1) > slots_.size()) grow();  // at most half full: short probes
  std::size_t i = home(t);
  while (slots_[i].twin != nullptr && slots_[i].twin != t) i = (i + 1) & (slots_.size() - 1);
  if (slots_[i].twin == nullptr) ++size_;
  slots_[i] = Slot{t, index};
}

// Backward-shift deletion: later entries of the probe run move up, so no tombstones pile up.
void RenderCache::ByTwin::erase(const twin::Twin* t) noexcept {
  if (slots_.empty()) return;
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = home(t);
  while (slots_[i].twin != t) {
    if (slots_[i].twin == nullptr) return;
    i = (i + 1) & mask;
  }
  for (std::size_t j = (i + 1) & mask; slots_[j].twin != nullptr; j = (j + 1) & mask) {
    const std::size_t k = home(slots_[j].twin);
    // Move j up to the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --size_;
}

void RenderCache::ByTwin::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.twin != nullptr) insert(s.twin, s.index);
  }
}

std::uint64_t RenderCache::hits() const noexcept {
  std::uint64_t n = 0;
  for (const auto& p : shards_) n += p->hits.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t RenderCache::misses() const noexcept {
  std::uint64_t n = 0;
  for (const auto& p : shards_) n += p->misses.load(std::memory_order_relaxed);
  return n;
}

std::size_t RenderCache::bytes() const noexcept {
  std::size_t n = 0;
  for (const auto& p : shards_) n += p->bytes.load(std::memory_order_relaxed);
  return n;
}

}  // namespace castor::query
