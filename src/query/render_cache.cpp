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

void RenderCache::append_twin(std::size_t shard, const twin::Twin& t, std::string& out) {
  if (shard >= shards_.size() || shard_budget_ == 0) return twin::render_twin(t, out);
  PerShard& p = *shards_[shard];
  if (auto it = p.where.find(std::string_view(t.id)); it != p.where.end()) {
    Entry& e = p.entries[it->second];
    if (e.etag == t.etag) {
      e.referenced = true;
      out += e.json;
      p.hits.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    drop(p, it->second);  // a change the observer was not told of cannot be served either
  }
  p.misses.fetch_add(1, std::memory_order_relaxed);
  const std::size_t start = out.size();
  twin::render_twin(t, out);
  keep(p, t, out.substr(start));
}

void RenderCache::keep(PerShard& p, const twin::Twin& t, std::string json) {
  Entry e{t.id, std::move(json), t.etag, false, true};
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
  e = Entry{};
  p.free.push_back(index);
  p.bytes.store(p.used, std::memory_order_relaxed);
}

void RenderCache::on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin*) {
  if (shard >= shards_.size()) return;
  PerShard& p = *shards_[shard];
  if (auto it = p.where.find(id); it != p.where.end()) drop(p, it->second);
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
