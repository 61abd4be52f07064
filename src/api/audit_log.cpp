#include "api/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include "api/files.hpp"
#include "common/json.hpp"
#include "common/log.hpp"

namespace castor::api {

std::string audit_line(const AuditRecord& r) {
  std::string out;
  // One allocation: the fixed text is ~130 bytes, the fields rarely need escapes.
  out.reserve(160 + r.principal.size() + r.principal_id.size() + r.role.size() + r.method.size() +
              r.path.size() + r.trace_id.size() + r.remote.size());
  out += "{\"time\":\"";
  out += rfc3339_utc(r.time);
  out += "\",\"principal\":";
  json::append_string(out, r.principal);
  out += ",\"principal_id\":";
  json::append_string(out, r.principal_id);
  out += ",\"role\":";
  json::append_string(out, r.role);
  out += ",\"method\":";
  json::append_string(out, r.method);
  out += ",\"path\":";
  json::append_string(out, r.path);
  out += ",\"status\":";
  out += std::to_string(r.status);
  out += ",\"trace_id\":";
  json::append_string(out, r.trace_id);
  out += ",\"remote\":";
  json::append_string(out, r.remote);
  out += "}\n";
  return out;
}

namespace {

// Journal keys sort by sequence number.
std::string journal_key(std::uint64_t seq) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, seq >>= 8) {
    key[static_cast<std::size_t>(i)] = static_cast<char>(seq & 0xff);
  }
  return key;
}

std::uint64_t journal_seq(std::string_view key) {
  std::uint64_t seq = 0;
  for (char c : key.substr(0, 8)) seq = (seq << 8) | static_cast<unsigned char>(c);
  return seq;
}

// A crash can land between the copy to the file and the journal's erase; the records copied
// then are among the file's last lines. The window covers far more than the queue can hold.
constexpr std::int64_t kRecoveryTail = std::int64_t{16} << 20;

}  // namespace

AuditLog::Slot& AuditLog::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    this->~Slot();
    log_ = std::exchange(o.log_, nullptr);
  }
  return *this;
}

AuditLog::Slot::~Slot() {
  if (log_ == nullptr) return;
  std::lock_guard lock(log_->mu_);
  --log_->reserved_;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& file,
                                                 metrics::Registry& registry, Options options,
                                                 AuditJournal journal) {
  int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return internal_error("cannot open the audit log '" + file.string() + "': " +
                          std::strerror(errno) + ". Check the data directory's permissions.");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(file, fd, registry, options, journal));
  if (journal.store != nullptr) CASTOR_RETURN_IF_ERROR(log->recover_journal());
  return log;
}

// Runs before any record is queued, so the writer thread is idle.
Status AuditLog::recover_journal() {
  std::vector<std::pair<std::uint64_t, std::string>> kept;
  auto it = journal_.store->scan_prefix(journal_.cf, "");
  for (; it.valid(); it.next()) kept.emplace_back(journal_seq(it.key()), std::string(it.value()));
  CASTOR_RETURN_IF_ERROR(it.status());
  if (kept.empty()) return Status::ok();
  const std::int64_t from = std::max<std::int64_t>(0, durable_size_ - kRecoveryTail);
  std::string tail(static_cast<std::size_t>(durable_size_ - from), '\0');
  const ssize_t got = ::pread(fd_, tail.data(), tail.size(), from);
  if (got < 0) {
    return internal_error("cannot read the audit log '" + file_.string() + "': " +
                          std::strerror(errno) + ". Check the data directory's permissions.");
  }
  tail.resize(static_cast<std::size_t>(got));
  std::unordered_set<std::string_view> present;
  for (std::size_t at = 0; at < tail.size();) {
    const std::size_t end = std::min(tail.find('\n', at), tail.size() - 1);
    present.insert(std::string_view(tail).substr(at, end + 1 - at));
    at = end + 1;
  }
  std::string missing;
  std::size_t appended = 0;
  for (const auto& [seq, line] : kept) {
    if (present.count(line) != 0) continue;
    missing += line;
    ++appended;
  }
  if (!missing.empty()) {
    if (!write_once(missing)) {
      return internal_error("cannot write the audit log '" + file_.string() +
                            "': " + std::strerror(errno) + ". Check the disk and its permissions.");
    }
    durable_size_ += static_cast<std::int64_t>(missing.size());
  }
  store::WriteBatch erase;
  erase.erase_range(journal_.cf, journal_key(kept.front().first),
                    journal_key(kept.back().first + 1));
  CASTOR_RETURN_IF_ERROR(journal_.store->commit_sync(std::move(erase)).status());
  next_seq_.store(kept.back().first + 1);
  erased_below_ = kept.back().first + 1;
  log::info("audit records recovered from the store's journal",
            {{"records", kept.size()}, {"appended", appended}, {"file", file_.string()}});
  return Status::ok();
}

std::unique_ptr<AuditLog> AuditLog::open_or_throw(const std::filesystem::path& file,
                                                  metrics::Registry& registry) {
  auto log = open(file, registry, Options{});
  if (!log) throw std::runtime_error(log.status().message());
  return std::move(*log);
}

AuditLog::AuditLog(std::filesystem::path file, int fd, metrics::Registry& registry, Options options,
                   AuditJournal journal)
    : file_(std::move(file)),
      fd_(fd),
      options_(options),
      journal_(journal),
      records_(registry.counter("castor_audit_records_total", "Audit records made durable.")),
      journaled_(registry.counter(
          "castor_audit_journaled_total",
          "Audit records committed in the store with their mutation, then copied to the file.")),
      batches_(registry.counter("castor_audit_syncs_total", "Batches written and fsync'd.")),
      errors_(registry.counter("castor_audit_write_errors_total",
                               "Failed audit writes (retried until they succeed).")),
      rejected_(registry.counter("castor_audit_rejected_total",
                                 "Mutations refused with 503 because the audit queue was full.")),
      sync_seconds_(registry.histogram("castor_audit_sync_seconds",
                                       "Time to write and fsync one batch of audit records.")) {
  struct stat st {};
  if (::fstat(fd_, &st) == 0) durable_size_ = st.st_size;
  // A crash during a write can leave a torn last line; terminate it so the next line parses.
  if (durable_size_ > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, durable_size_ - 1) == 1 && last != '\n' && write_once("\n")) {
      durable_size_ += 1;
    }
  }
  depth_ =
      registry.callback_gauge("castor_audit_queue_depth",
                              "Audit records reserved or queued and not yet durable.", {}, [this] {
                                std::lock_guard lock(mu_);
                                return static_cast<double>(reserved_);
                              });
  writer_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  close();
  depth_.reset();
  if (fd_ >= 0) ::close(fd_);
}

std::optional<AuditLog::Slot> AuditLog::reserve() {
  std::lock_guard lock(mu_);
  if (stopping_ || reserved_ >= options_.capacity) {
    rejected_.inc();
    return std::nullopt;
  }
  ++reserved_;
  return Slot(this);
}

std::shared_ptr<twin::CommitRecord> AuditLog::journal(const AuditRecord& record) {
  auto r = std::make_shared<twin::CommitRecord>();
  r->cf = journal_.cf;
  r->key = journal_key(next_seq_.fetch_add(1, std::memory_order_relaxed));
  r->value = audit_line(record);
  return r;
}

void AuditLog::append(Slot slot, AuditRecord record, std::function<void()> durable,
                      std::shared_ptr<twin::CommitRecord> unused) {
  const std::uint64_t seq = unused ? journal_seq(unused->key) : 0;
  push(Pending{audit_line(record), std::move(durable), seq}, slot.log_ != nullptr);
  slot.log_ = nullptr;  // the slot's place now belongs to the queued record
}

void AuditLog::copy_committed(Slot slot, std::shared_ptr<twin::CommitRecord> committed) {
  journaled_.inc();
  push(Pending{std::move(committed->value), nullptr, journal_seq(committed->key)},
       slot.log_ != nullptr);
  slot.log_ = nullptr;
}

// The writer gives a queued record's slot back. It is woken for records someone waits for, and
// otherwise only when the queue was empty: it then lingers copy_interval to take a larger batch.
void AuditLog::push(Pending pending, bool holds_slot) {
  const bool urgent = pending.durable != nullptr;
  bool wake = urgent;
  {
    std::lock_guard lock(mu_);
    if (!holds_slot) ++reserved_;  // balanced by the writer's give-back
    wake = wake || queue_.empty();
    urgent_ += urgent ? 1 : 0;
    queue_.push_back(std::move(pending));
  }
  if (wake) cv_.notify_one();
}

void AuditLog::close() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void AuditLog::run() {
  std::deque<Pending> batch;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (urgent_ == 0 && journaling() && options_.copy_interval.count() > 0) {
        cv_.wait_for(lock, options_.copy_interval, [&] { return stopping_ || urgent_ > 0; });
      }
      batch.swap(queue_);
      urgent_ = 0;
    }
    const bool written = write_batch(batch);
    {
      std::lock_guard lock(mu_);
      reserved_ -= batch.size();
    }
    for (auto& p : batch) {
      if (p.durable) p.durable();
    }
    // Records the file did not take stay in the journal for the next start to copy.
    if (written && journaling()) forget_copied(batch);
    batch.clear();
  }
}

// Erases journal records that are in the file now. Only a contiguous run of resolved keys is
// erased: a key below a gap may belong to a mutation still on its way to commit, and erasing it
// before its copy would lose the record in a crash.
void AuditLog::forget_copied(const std::deque<Pending>& batch) {
  for (const auto& p : batch) {
    if (p.seq != 0) resolved_.insert(p.seq);
  }
  std::uint64_t below = erased_below_;
  auto run_end = resolved_.begin();
  while (run_end != resolved_.end() && *run_end == below) {
    ++run_end;
    ++below;
  }
  if (below == erased_below_) return;
  store::WriteBatch erase;
  erase.erase_range(journal_.cf, journal_key(erased_below_), journal_key(below));
  // Not awaited: the erase joins the next group commit. Until it is durable, recovery finds the
  // records in the file's tail and does not copy them twice. Refused (store busy or closing):
  // the run is erased with a later batch, or at the next start.
  if (!journal_.store->commit(std::move(erase), nullptr).is_ok()) return;
  resolved_.erase(resolved_.begin(), run_end);
  erased_below_ = below;
}

bool AuditLog::shutting_down() {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool AuditLog::write_once(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return ::fdatasync(fd_) == 0;
}

bool AuditLog::write_batch(std::deque<Pending>& batch) {
  std::string data;
  for (const auto& p : batch) data += p.line;
  auto start = std::chrono::steady_clock::now();
  // Retry until the disk takes the batch: answering before the line is durable would break the
  // promise that every acknowledged mutation is audited. Meanwhile the queue fills and new
  // mutations get 503, which is the visible back-pressure.
  for (int attempt = 0; !write_once(data); ++attempt) {
    errors_.inc();
    log::error("audit log write failed; retrying",
               {{"file", file_.string()}, {"error", std::strerror(errno)}, {"attempt", attempt}});
    if (::ftruncate(fd_, durable_size_) != 0) {
      log::error("audit log truncate failed", {{"error", std::strerror(errno)}});
    }
    if (attempt >= 20 && shutting_down()) {
      log::error("audit log unwritable at shutdown; records not kept in the journal are lost",
                 {{"records", batch.size()}});
      return false;
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 4))));
  }
  durable_size_ += static_cast<std::int64_t>(data.size());
  records_.inc(batch.size());
  batches_.inc();
  sync_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

}  // namespace castor::api
