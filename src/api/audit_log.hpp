// The audit log: one JSON line per mutation in DATA/audit.log (who, what, when, result, trace id).
// A writer thread appends and fsyncs in batches, off the IO threads; a request's completion runs
// only once its line is on disk, so an acknowledged mutation never lacks its audit line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "common/metrics.hpp"
#include "common/status.hpp"

namespace castor::api {

struct AuditRecord {
  std::chrono::system_clock::time_point time;
  std::string principal;     // token name ("local" with --insecure-local, "anonymous")
  std::string principal_id;  // token id
  std::string role;
  std::string method;
  std::string path;  // raw request path (no query string: it may carry secrets)
  int status = 0;
  std::string trace_id;
  std::string remote;  // peer IP
};

std::string audit_line(const AuditRecord& record);  // one JSON object and '\n'

class AuditLog {
 public:
  struct Options {
    // Records queued or being written at most; beyond it mutations get 503 and do not run.
    // Default 8192: a few batches' worth at high load, ~2 MiB of memory at most.
    std::size_t capacity = 8192;
  };

  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& file,
                                                metrics::Registry& registry, Options options);
  static std::unique_ptr<AuditLog> open_or_throw(const std::filesystem::path& file,
                                                 metrics::Registry& registry);
  ~AuditLog();  // close()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // A reserved place in the queue; taken before a mutation runs so that its record can always be
  // queued afterwards. Dropping an unused slot gives the place back.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept : log_(std::exchange(o.log_, nullptr)) {}
    Slot& operator=(Slot&& o) noexcept;
    ~Slot();
    explicit operator bool() const noexcept { return log_ != nullptr; }

   private:
    friend class AuditLog;
    explicit Slot(AuditLog* log) : log_(log) {}
    AuditLog* log_ = nullptr;
  };

  std::optional<Slot> reserve();  // nullopt when full

  // Queues `record`; `durable` runs on the writer thread after the line is fsync'd.
  void append(Slot slot, AuditRecord record, std::function<void()> durable);

  // Writes what is queued, stops the writer. Idempotent.
  void close();

 private:
  struct Pending {
    std::string line;
    std::function<void()> durable;
  };
  AuditLog(std::filesystem::path file, int fd, metrics::Registry& registry, Options options);
  void run();
  void write_batch(std::deque<Pending>& batch);
  bool write_once(const std::string& data);
  bool shutting_down();

  std::filesystem::path file_;
  int fd_;
  Options options_;
  std::int64_t durable_size_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::size_t reserved_ = 0;  // slots handed out and not yet written or released
  bool stopping_ = false;
  std::thread writer_;

  metrics::Counter& records_;
  metrics::Counter& batches_;
  metrics::Counter& errors_;
  metrics::Counter& rejected_;
  metrics::Histogram& sync_seconds_;
  metrics::CallbackHandle depth_;
};

}  // namespace castor::api
