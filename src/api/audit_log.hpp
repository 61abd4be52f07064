// The audit log: one JSON line per mutation in DATA/audit.log (who, what, when, result, trace id).
// A writer thread appends and fsyncs in batches, off the IO threads. A request completes only once
// its line is durable: on disk, or (with a journal) committed in the store with the mutation and
// copied to the file afterwards — so an acknowledged mutation never lacks its audit line.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/metrics.hpp"
#include "common/status.hpp"
#include "store/store.hpp"
#include "twin/commit_record.hpp"

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

// Where records committed with their mutation are kept until they are in the file: a column
// family of the twin store (AuditLog::journal_family); keys are 8-byte big-endian sequence numbers.
struct AuditJournal {
  store::Store* store = nullptr;  // null: no journal, every record waits for audit.log
  store::ColumnFamily cf;
};

class AuditLog {
 public:
  struct Options {
    // Records queued or being written at most; beyond it mutations get 503 and do not run.
    // Default 8192: a few batches' worth at high load, ~2 MiB of memory at most.
    std::size_t capacity = 8192;
    // With a journal: how long records already durable in the store may wait before the writer
    // copies them to the file. Default 20 ms: one write and fsync of audit.log per interval
    // instead of one per batch; longer means fewer fsyncs and a file that lags a little more.
    std::chrono::milliseconds copy_interval{20};
  };

  // The column family of AuditJournal::cf.
  static constexpr const char* journal_family = "audit";

  // With a journal, first appends to `file` every record the journal still holds that the file's
  // tail lacks (a crash between commit and copy), then empties the journal.
  static Result<std::unique_ptr<AuditLog>> open(const std::filesystem::path& file,
                                                metrics::Registry& registry, Options options,
                                                AuditJournal journal = {});
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

  // Queues `record`; `durable` runs on the writer thread after the line is fsync'd. `unused` is
  // a journal record of this request that was not committed (see journal()), or null.
  void append(Slot slot, AuditRecord record, std::function<void()> durable,
              std::shared_ptr<twin::CommitRecord> unused = nullptr);

  bool journaling() const noexcept { return journal_.store != nullptr; }
  // The record for the engine to commit with a mutation (Conditions::commit_record); any thread.
  // Every journal record must come back once: to copy_committed() when its mutation committed
  // and the response's status is the one `record` has, else to append() as `unused`.
  std::shared_ptr<twin::CommitRecord> journal(const AuditRecord& record);
  // `committed` is durable in the store: queues its line for the file and needs no wait.
  void copy_committed(Slot slot, std::shared_ptr<twin::CommitRecord> committed);

  // Writes what is queued, stops the writer. Idempotent.
  void close();

 private:
  struct Pending {
    std::string line;
    std::function<void()> durable;
    std::uint64_t seq = 0;  // journal key this entry resolves (0: none)
  };
  AuditLog(std::filesystem::path file, int fd, metrics::Registry& registry, Options options,
           AuditJournal journal);
  void push(Pending pending, bool holds_slot);
  void run();
  bool write_batch(std::deque<Pending>& batch);  // false: given up at shutdown
  bool write_once(const std::string& data);
  bool shutting_down();
  Status recover_journal();
  void forget_copied(const std::deque<Pending>& batch);

  std::filesystem::path file_;
  int fd_;
  Options options_;
  AuditJournal journal_;
  std::int64_t durable_size_ = 0;
  std::atomic<std::uint64_t> next_seq_{1};
  // Writer thread only: journal keys resolved above the lowest unresolved one, and the first
  // key not yet erased from the journal (every key below it was copied or never committed).
  std::set<std::uint64_t> resolved_;
  std::uint64_t erased_below_ = 1;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::size_t urgent_ = 0;    // queued entries someone waits for (durable callbacks)
  std::size_t reserved_ = 0;  // slots handed out and not yet written or released
  bool stopping_ = false;
  std::thread writer_;

  metrics::Counter& records_;
  metrics::Counter& journaled_;
  metrics::Counter& batches_;
  metrics::Counter& errors_;
  metrics::Counter& rejected_;
  metrics::Histogram& sync_seconds_;
  metrics::CallbackHandle depth_;
};

}  // namespace castor::api
