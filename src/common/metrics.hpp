// Metrics: counters, gauges (set or read through a callback), histograms with fixed buckets, with
// labels, rendered in the Prometheus text exposition format 0.0.4. The composition root owns one
// Registry and passes it by reference; each module keeps its handles in its own probe struct.
// There is never a global registry; updating a metric never takes a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace castor::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, strictly increasing; +Inf is implicit.
  explicit Histogram(std::span<const double> bounds);
  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const noexcept { return bounds_; }

 private:
  std::span<const double> bounds_;  // owned by the family
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Default latency buckets in seconds: 100 µs to 10 s.
std::span<const double> latency_buckets();

enum class Type : unsigned char { counter, gauge, histogram };

// A named metric with a fixed list of label names; one child per distinct list of label values.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const noexcept { return name_; }
  Type type() const noexcept { return type_; }
  const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  void render(std::string& out) const;  // HELP, TYPE and every sample

 protected:
  virtual void render_samples(std::string& out) const = 0;
  void check_arity(std::size_t n) const;

 private:
  std::string name_, help_;
  Type type_;
  std::vector<std::string> label_names_;
};

template <class M>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, Type type, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The child for these label values (in label-name order), created on first use. The returned
  // reference stays valid as long as the Registry; probes cache it for the hot path.
  M& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string>(values.begin(), values.end()));
  }
  M& with(const std::vector<std::string>& values);
  const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  void render_samples(std::string& out) const override;

  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry;

// Keeps a callback gauge registered; unregisters it when destroyed. Move-only.
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
  CallbackHandle(CallbackHandle&& o) noexcept : registry_(o.registry_), id_(o.id_) {
    o.registry_ = nullptr;
  }
  CallbackHandle& operator=(CallbackHandle&& o) noexcept;
  CallbackHandle(const CallbackHandle&) = delete;
  CallbackHandle& operator=(const CallbackHandle&) = delete;
  ~CallbackHandle() { reset(); }
  void reset();

 private:
  Registry* registry_ = nullptr;
  std::uint64_t id_ = 0;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering a name twice returns the same family when type and label names agree and throws
  // std::logic_error when they differ (a programming error found at start-up).
  CounterFamily& counter_family(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names);
  GaugeFamily& gauge_family(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names);
  HistogramFamily& histogram_family(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names,
                                    std::span<const double> bounds = latency_buckets());

  Counter& counter(std::string_view name, std::string_view help) {
    return counter_family(name, help, {}).with({});
  }
  Gauge& gauge(std::string_view name, std::string_view help) {
    return gauge_family(name, help, {}).with({});
  }
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::span<const double> bounds = latency_buckets()) {
    return histogram_family(name, help, {}, bounds).with({});
  }

  // A gauge whose value is read when /metrics is scraped (queue depths, sizes). The callback
  // runs on the scraping thread and must be thread-safe and quick. Keep the handle alive as
  // long as whatever the callback reads.
  [[nodiscard]] CallbackHandle callback_gauge(std::string_view name, std::string_view help,
                                              Labels labels, std::function<double()> read);
  // The same for a monotonic total kept elsewhere (e.g. CPU seconds); rendered as a counter.
  [[nodiscard]] CallbackHandle callback_counter(std::string_view name, std::string_view help,
                                                Labels labels, std::function<double()> read);

  // The Prometheus text exposition (version 0.0.4) of every metric, families sorted by name.
  std::string expose() const;

 private:
  friend class CallbackHandle;
  struct Callback {
    std::string name, help;
    Type type;
    Labels labels;
    std::function<double()> read;
  };
  template <class F>
  F& family(std::string_view name, std::string_view help, Type type,
            std::vector<std::string> label_names, std::vector<double> bounds);
  CallbackHandle add_callback(std::string_view name, std::string_view help, Type type,
                              Labels labels, std::function<double()> read);
  void remove_callback(std::uint64_t id);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  std::map<std::uint64_t, Callback> callbacks_;
  std::uint64_t next_callback_id_ = 1;
};

// Prometheus helpers, exposed for tests and for probes that render their own samples.
std::string format_value(double v);                                 // 1, 0.25, +Inf, NaN
void append_label_value(std::string& out, std::string_view value);  // escapes \ " and newline
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

// Standard process metrics read from /proc when scraped: process_resident_memory_bytes,
// process_open_fds, process_cpu_seconds_total, process_start_time_seconds, castor_build_info.
class ProcessProbe {
 public:
  ProcessProbe(Registry& registry, std::string_view version);

 private:
  std::vector<CallbackHandle> handles_;
};

}  // namespace castor::metrics
