#include "api/twin_read_cache.hpp"

#include <functional>

namespace castor::api {

TwinReadCache::TwinReadCache(std::size_t budget_bytes, metrics::Registry& registry)
    : stripe_budget_(budget_bytes / kStripes),
      hits_(registry.counter("castor_twin_read_cache_hits_total",
                             "Twin reads answered from the rendered-twin cache.")),
      misses_(registry.counter("castor_twin_read_cache_misses_total",
                               "Twin reads that went to the twin's shard.")) {}

std::size_t TwinReadCache::stripe_of(std::string_view id) const noexcept {
  return std::hash<std::string_view>{}(id) % kStripes;
}

std::size_t TwinReadCache::cost(std::string_view id, const Entry& e) noexcept {
  return id.size() + e.json.size() + e.etag.size() + 64;  // 64: node and control blocks
}

std::shared_ptr<const TwinReadCache::Entry> TwinReadCache::find(std::string_view id,
                                                                Ticket& ticket) const {
  ticket.stripe = stripe_of(id);
  Stripe& s = stripes_[ticket.stripe];
  {
    std::lock_guard lock(s.mu);
    if (auto it = s.entries.find(id); it != s.entries.end()) {
      hits_.inc();
      return it->second;
    }
    ticket.generation = s.generation;
  }
  misses_.inc();
  return nullptr;
}

void TwinReadCache::fill(std::string_view id, const Ticket& ticket,
                         std::shared_ptr<const Entry> entry) {
  if (stripe_budget_ == 0 || !entry) return;
  const std::size_t c = cost(id, *entry);
  if (c > stripe_budget_) return;
  Stripe& s = stripes_[ticket.stripe];
  std::lock_guard lock(s.mu);
  // A change since the miss: `entry` may show the twin as it was before it.
  if (s.generation != ticket.generation) return;
  // Over budget: drop arbitrary entries (hash order is as good as random here).
  while (s.bytes + c > stripe_budget_ && !s.entries.empty()) {
    auto victim = s.entries.begin();
    s.bytes -= cost(victim->first, *victim->second);
    s.entries.erase(victim);
  }
  auto [it, inserted] = s.entries.try_emplace(std::string(id), entry);
  if (!inserted) {
    s.bytes -= cost(id, *it->second);
    it->second = std::move(entry);
  }
  s.bytes += c;
}

void TwinReadCache::on_open(std::size_t) {}

void TwinReadCache::on_twin_changed(std::size_t, std::string_view id, const twin::Twin*) {
  Stripe& s = stripes_[stripe_of(id)];
  std::lock_guard lock(s.mu);
  ++s.generation;
  if (auto it = s.entries.find(id); it != s.entries.end()) {
    s.bytes -= cost(id, *it->second);
    s.entries.erase(it);
  }
}

}  // namespace castor::api
