// TwinReadCache: rendered twin JSON and ETag by twin id, so GET /digitaltwins/{id} is answered on
// the I/O thread without a round trip through the twin's shard. It is a twin::ShardObserver: the
// engine tells it of every twin change on the shard thread and it forgets that twin there and
// then. It must never answer with a state older than one the shard has already replaced: a fill
// that raced with a change is refused (generation check), and it never grows past its budget.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/metrics.hpp"
#include "common/strings.hpp"
#include "twin/shard_observer.hpp"

namespace castor::api {

class TwinReadCache final : public twin::ShardObserver {
 public:
  struct Entry {
    std::string json;
    std::string etag;
  };
  // A miss: what fill() needs to prove nothing changed since.
  struct Ticket {
    std::size_t stripe = 0;
    std::uint64_t generation = 0;
  };

  // `budget_bytes`: rendered JSON kept at most (default 64 MiB); 0 disables the cache.
  TwinReadCache(std::size_t budget_bytes, metrics::Registry& registry);

  // The cached rendering of `id`, or nullptr and a ticket for fill().
  std::shared_ptr<const Entry> find(std::string_view id, Ticket& ticket) const;
  // Keeps `entry` for `id` unless the twin changed since find() handed out `ticket`.
  void fill(std::string_view id, const Ticket& ticket, std::shared_ptr<const Entry> entry);

  void on_open(std::size_t shard_count) override;
  void on_twin_changed(std::size_t shard, std::string_view id, const twin::Twin* after) override;

 private:
  static constexpr std::size_t kStripes = 64;  // lock stripes: readers rarely meet
  struct Stripe {
    mutable std::mutex mu;
    StringMap<std::shared_ptr<const Entry>> entries;
    std::size_t bytes = 0;
    std::uint64_t generation = 0;  // bumped by every change of a twin in this stripe
  };
  std::size_t stripe_of(std::string_view id) const noexcept;
  static std::size_t cost(std::string_view id, const Entry& e) noexcept;

  const std::size_t stripe_budget_;
  mutable std::array<Stripe, kStripes> stripes_;
  metrics::Counter& hits_;
  metrics::Counter& misses_;
};

}  // namespace castor::api
