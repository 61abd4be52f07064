#include "api/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "api/files.hpp"
#include "common/json.hpp"
#include "common/log.hpp"

namespace castor::api {

std::string audit_line(const AuditRecord& r) {
  std::string out = "{\"time\":\"" + rfc3339_utc(r.time) + "\",\"principal\":";
  json::append_string(out, r.principal);
  out += ",\"principal_id\":";
  json::append_string(out, r.principal_id);
  out += ",\"role\":";
  json::append_string(out, r.role);
  out += ",\"method\":";
  json::append_string(out, r.method);
  out += ",\"path\":";
  json::append_string(out, r.path);
  out += ",\"status\":" + std::to_string(r.status) + ",\"trace_id\":";
  json::append_string(out, r.trace_id);
  out += ",\"remote\":";
  json::append_string(out, r.remote);
  out += "}\n";
  return out;
}

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
                                                 metrics::Registry& registry, Options options) {
  int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return internal_error("cannot open the audit log '" + file.string() + "': " +
                          std::strerror(errno) + ". Check the data directory's permissions.");
  }
  return std::unique_ptr<AuditLog>(new AuditLog(file, fd, registry, options));
}

std::unique_ptr<AuditLog> AuditLog::open_or_throw(const std::filesystem::path& file,
                                                  metrics::Registry& registry) {
  auto log = open(file, registry, Options{});
  if (!log) throw std::runtime_error(log.status().message());
  return std::move(*log);
}

AuditLog::AuditLog(std::filesystem::path file, int fd, metrics::Registry& registry, Options options)
    : file_(std::move(file)),
      fd_(fd),
      options_(options),
      records_(registry.counter("castor_audit_records_total", "Audit records made durable.")),
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

void AuditLog::append(Slot slot, AuditRecord record, std::function<void()> durable) {
  std::string line = audit_line(record);
  {
    std::lock_guard lock(mu_);
    // The slot's place now belongs to the queued record; the writer gives it back.
    slot.log_ = nullptr;
    queue_.push_back(Pending{std::move(line), std::move(durable)});
  }
  cv_.notify_one();
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
      batch.swap(queue_);
    }
    write_batch(batch);
    {
      std::lock_guard lock(mu_);
      reserved_ -= batch.size();
    }
    for (auto& p : batch) {
      if (p.durable) p.durable();
    }
    batch.clear();
  }
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

void AuditLog::write_batch(std::deque<Pending>& batch) {
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
      log::error("audit log unwritable at shutdown; these records are lost",
                 {{"records", batch.size()}});
      return;
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 4))));
  }
  durable_size_ += static_cast<std::int64_t>(data.size());
  records_.inc(batch.size());
  batches_.inc();
  sync_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace castor::api
