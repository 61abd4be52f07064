#include "rules/outbox.hpp"

#include <charconv>
#include <cstdio>

#include "common/log.hpp"

namespace castor::rules {
namespace {

constexpr std::string_view kOutboxPrefix = "outbox/";

}  // namespace

std::string outbox_prefix(std::string_view endpoint) {
  return std::string(kOutboxPrefix) + std::string(endpoint) + "/";
}

std::string outbox_key(std::string_view endpoint, std::uint64_t sequence) {
  char digits[17];
  std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(sequence));
  return outbox_prefix(endpoint) + digits;  // fixed-width hex: byte order is sequence order
}

Result<std::map<std::string, std::vector<OutboxEntry>>> load_outbox(const store::Store& store,
                                                                    store::ColumnFamily cf) {
  std::map<std::string, std::vector<OutboxEntry>> out;
  auto it = store.scan_prefix(cf, kOutboxPrefix);
  for (; it.valid(); it.next()) {
    std::string_view key = it.key().substr(kOutboxPrefix.size());
    auto slash = key.rfind('/');
    if (slash == std::string_view::npos || key.size() - slash != 17)
      return internal_error("the outbox key '" + std::string(it.key()) + "' is corrupt");
    OutboxEntry e;
    std::string_view digits = key.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e.sequence, 16);
    if (ec != std::errc() || end != digits.data() + digits.size())
      return internal_error("the outbox key '" + std::string(it.key()) + "' is corrupt");
    e.json = std::string(it.value());
    out[std::string(key.substr(0, slash))].push_back(std::move(e));
  }
  if (Status s = it.status(); !s.is_ok()) return s;
  return out;
}

OutboxWriter::OutboxWriter(store::Store& store, store::ColumnFamily cf)
    : store_(store), cf_(cf), thread_([this] { run(); }) {}

OutboxWriter::~OutboxWriter() {
  stop();
}

void OutboxWriter::submit(OutboxSink& sink, std::string_view endpoint, std::string event) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  Job job{&sink, "", {0, std::move(event)}};
  if (auto seq = sink.reserve()) {
    job.entry.sequence = *seq;
    job.key = outbox_key(endpoint, *seq);
  }
  pending_.push_back(std::move(job));
  if (pending_.size() == 1) cv_.notify_one();
}

void OutboxWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void OutboxWriter::run() {
  std::vector<Job> jobs;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything is written
      jobs.swap(pending_);
    }
    write(jobs);
    jobs.clear();
  }
}

// One durable commit for the whole batch, then each sink gets its entries in order.
void OutboxWriter::write(std::vector<Job>& jobs) {
  store::WriteBatch batch;
  for (const auto& j : jobs)
    if (!j.key.empty()) batch.put(cf_, j.key, j.entry.json);
  Status status = Status::ok();
  if (!batch.empty()) {
    auto committed = store_.commit_sync(std::move(batch));
    if (!committed) status = committed.status();
  }
  if (!status.is_ok())
    log::error("event routing could not store events for delivery", {{"error", status.message()}});
  std::map<OutboxSink*, std::pair<std::vector<OutboxEntry>, std::vector<std::string>>> by_sink;
  for (auto& j : jobs) {
    auto& [entries, overflow] = by_sink[j.sink];
    if (j.key.empty())
      overflow.push_back(std::move(j.entry.json));
    else
      entries.push_back(std::move(j.entry));
  }
  for (auto& [sink, work] : by_sink) {
    if (!work.second.empty()) sink->overflowed(std::move(work.second));
    if (work.first.empty()) continue;
    if (status.is_ok())
      sink->taken(std::move(work.first));
    else
      sink->lost(std::move(work.first), status);
  }
}

}  // namespace castor::rules
