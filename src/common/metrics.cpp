#include "common/metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace castor::metrics {
namespace {

constexpr double kLatencyBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

std::string_view type_name(Type t) {
  switch (t) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::histogram: return "histogram";
  }
  return "untyped";
}

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// `name{a="x",b="y",extra="z"} value\n`; `extra` is used for histogram `le`.
void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& keys,
                   const std::vector<std::string>& values, std::string_view extra_key,
                   std::string_view extra_value, std::string_view value) {
  out += name;
  if (!keys.empty() || !extra_key.empty()) {
    out += '{';
    bool first = true;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!first) out += ',';
      first = false;
      out += keys[i];
      out += "=\"";
      append_label_value(out, values[i]);
      out += '"';
    }
    if (!extra_key.empty()) {
      if (!first) out += ',';
      out += extra_key;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void append_header(std::string& out, std::string_view name, std::string_view help, Type type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_help(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

void check_names(std::string_view name, const std::vector<std::string>& label_names) {
  if (!valid_metric_name(name)) {
    throw std::logic_error("invalid metric name '" + std::string(name) + "'");
  }
  for (const auto& l : label_names) {
    if (!valid_label_name(l)) {
      throw std::logic_error("invalid label name '" + l + "' on metric '" + std::string(name) +
                             "'");
    }
  }
}

}  // namespace

std::span<const double> latency_buckets() {
  return kLatencyBuckets;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, end);
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.starts_with("__") || name == "le") return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// ---- Histogram --------------------------------------------------------------------------------

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  std::size_t i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                           bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  // count is the +Inf bucket so that the exposition is self-consistent under concurrent updates.
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// ---- Families ---------------------------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {}

void FamilyBase::render(std::string& out) const {
  append_header(out, name_, help_, type_);
  render_samples(out);
}

void FamilyBase::check_arity(std::size_t n) const {
  if (n != label_names_.size()) {
    throw std::logic_error("metric '" + name_ + "' takes " + std::to_string(label_names_.size()) +
                           " label values, got " + std::to_string(n));
  }
}

template <class M>
M& Family<M>::with(const std::vector<std::string>& values) {
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
  }
  check_arity(values.size());
  std::unique_lock lock(mu_);
  auto& slot = children_[values];
  if (!slot) {
    if constexpr (std::is_same_v<M, Histogram>) {
      slot = std::make_unique<Histogram>(bounds_);
    } else {
      slot = std::make_unique<M>();
    }
  }
  return *slot;
}

template <>
void Family<Counter>::render_samples(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, c] : children_) {
    append_sample(out, name(), label_names(), values, {}, {}, std::to_string(c->value()));
  }
}

template <>
void Family<Gauge>::render_samples(std::string& out) const {
  std::shared_lock lock(mu_);
  for (const auto& [values, g] : children_) {
    append_sample(out, name(), label_names(), values, {}, {}, format_value(g->value()));
  }
}

template <>
void Family<Histogram>::render_samples(std::string& out) const {
  std::shared_lock lock(mu_);
  std::string bucket = name() + "_bucket";
  for (const auto& [values, h] : children_) {
    Histogram::Snapshot s = h->snapshot();
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      append_sample(out, bucket, label_names(), values, "le", format_value(bounds_[i]),
                    std::to_string(s.cumulative[i]));
    }
    append_sample(out, bucket, label_names(), values, "le", "+Inf", std::to_string(s.count));
    append_sample(out, name() + "_sum", label_names(), values, {}, {}, format_value(s.sum));
    append_sample(out, name() + "_count", label_names(), values, {}, {}, std::to_string(s.count));
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry ---------------------------------------------------------------------------------

template <class F>
F& Registry::family(std::string_view name, std::string_view help, Type type,
                    std::vector<std::string> label_names, std::vector<double> bounds) {
  check_names(name, label_names);
  std::lock_guard lock(mu_);
  for (const auto& [id, cb] : callbacks_) {
    if (cb.name == name) {
      throw std::logic_error("metric '" + std::string(name) + "' is already a callback metric");
    }
  }
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* f = dynamic_cast<F*>(it->second.get());
    if (f == nullptr || f->type() != type || f->label_names() != label_names ||
        f->bounds() != bounds) {
      throw std::logic_error("metric '" + std::string(name) +
                             "' registered twice with a different type, labels or buckets");
    }
    return *f;
  }
  auto f = std::make_unique<F>(std::string(name), std::string(help), type, std::move(label_names),
                               std::move(bounds));
  F& ref = *f;
  families_.emplace(std::string(name), std::move(f));
  return ref;
}

CounterFamily& Registry::counter_family(std::string_view name, std::string_view help,
                                        std::vector<std::string> label_names) {
  return family<CounterFamily>(name, help, Type::counter, std::move(label_names), {});
}

GaugeFamily& Registry::gauge_family(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names) {
  return family<GaugeFamily>(name, help, Type::gauge, std::move(label_names), {});
}

HistogramFamily& Registry::histogram_family(std::string_view name, std::string_view help,
                                            std::vector<std::string> label_names,
                                            std::span<const double> bounds) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    throw std::logic_error("histogram '" + std::string(name) +
                           "' needs strictly increasing bucket bounds");
  }
  return family<HistogramFamily>(name, help, Type::histogram, std::move(label_names),
                                 std::vector<double>(bounds.begin(), bounds.end()));
}

CallbackHandle Registry::add_callback(std::string_view name, std::string_view help, Type type,
                                      Labels labels, std::function<double()> read) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : labels) keys.push_back(k);
  check_names(name, keys);
  std::lock_guard lock(mu_);
  if (families_.count(name) != 0) {
    throw std::logic_error("metric '" + std::string(name) + "' is already registered");
  }
  for (const auto& [id, cb] : callbacks_) {
    if (cb.name == name && cb.type != type) {
      throw std::logic_error("callback metric '" + std::string(name) + "' with two types");
    }
  }
  std::uint64_t id = next_callback_id_++;
  callbacks_.emplace(
      id, Callback{std::string(name), std::string(help), type, std::move(labels), std::move(read)});
  return CallbackHandle(this, id);
}

CallbackHandle Registry::callback_gauge(std::string_view name, std::string_view help, Labels labels,
                                        std::function<double()> read) {
  return add_callback(name, help, Type::gauge, std::move(labels), std::move(read));
}

CallbackHandle Registry::callback_counter(std::string_view name, std::string_view help,
                                          Labels labels, std::function<double()> read) {
  return add_callback(name, help, Type::counter, std::move(labels), std::move(read));
}

void Registry::remove_callback(std::uint64_t id) {
  std::lock_guard lock(mu_);
  callbacks_.erase(id);
}

std::string Registry::expose() const {
  // Callbacks run under the lock: a handle being destroyed waits, so a callback never reads an
  // object that is gone. Callbacks must therefore never touch the registry themselves.
  std::lock_guard lock(mu_);
  std::map<std::string, std::string, std::less<>> rendered;
  for (const auto& [name, f] : families_) f->render(rendered[name]);
  for (const auto& [id, cb] : callbacks_) {
    std::string& text = rendered[cb.name];
    if (text.empty()) append_header(text, cb.name, cb.help, cb.type);
    std::vector<std::string> keys, values;
    for (const auto& [k, v] : cb.labels) {
      keys.push_back(k);
      values.push_back(v);
    }
    append_sample(text, cb.name, keys, values, {}, {}, format_value(cb.read()));
  }
  std::string out;
  for (const auto& [name, text] : rendered) out += text;
  return out;
}

// ---- CallbackHandle ---------------------------------------------------------------------------

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& o) noexcept {
  if (this != &o) {
    reset();
    registry_ = o.registry_;
    id_ = o.id_;
    o.registry_ = nullptr;
  }
  return *this;
}

void CallbackHandle::reset() {
  if (registry_ != nullptr) registry_->remove_callback(id_);
  registry_ = nullptr;
}

// ---- ProcessProbe -----------------------------------------------------------------------------

namespace {

// Fields of /proc/self/stat after the command name: [0] is field 3 (state).
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  auto close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::string rest = line.substr(close + 2);
  std::size_t pos = 0;
  while (pos < rest.size()) {
    auto space = rest.find(' ', pos);
    if (space == std::string::npos) space = rest.size();
    fields.push_back(rest.substr(pos, space - pos));
    pos = space + 1;
  }
  return fields;
}

double stat_field(std::size_t index) {
  auto f = proc_stat_fields();
  return index < f.size() ? std::stod(f[index]) : 0.0;
}

double resident_bytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double open_fds() {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
  }
  return 0;
}

}  // namespace

ProcessProbe::ProcessProbe(Registry& registry, std::string_view version) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  // Fields 14 and 15 (utime, stime) and 22 (starttime) of /proc/self/stat, counted from 1.
  const double start = boot_time_seconds() + stat_field(22 - 3) / ticks;
  handles_.push_back(registry.callback_gauge("process_resident_memory_bytes",
                                             "Resident memory size in bytes.", {}, resident_bytes));
  handles_.push_back(registry.callback_gauge("process_open_fds", "Number of open file descriptors.",
                                             {}, open_fds));
  handles_.push_back(registry.callback_counter(
      "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {},
      [ticks] { return (stat_field(14 - 3) + stat_field(15 - 3)) / ticks; }));
  handles_.push_back(registry.callback_gauge("process_start_time_seconds",
                                             "Start time of the process since the Unix epoch.", {},
                                             [start] { return start; }));
  handles_.push_back(
      registry.callback_gauge("castor_build_info", "Always 1; the version label names the build.",
                              {{"version", std::string(version)}}, [] { return 1.0; }));
}

}  // namespace castor::metrics
