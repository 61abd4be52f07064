#include "store/impl/zero_ahead_wal.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>
#include <string>

namespace castor::store::impl {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

constexpr std::size_t kZeroBlock = 64 * 1024;
alignas(4096) constexpr std::array<char, kZeroBlock> kZeros{};

bool is_wal(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0;
}

// Writes zeros into [from, to) of `fd`; false on any error (the caller then stops zeroing).
bool write_zeros(int fd, std::uint64_t from, std::uint64_t to) {
  constexpr int kMaxIov = 16;
  std::array<iovec, kMaxIov> iov;
  for (iovec& v : iov) v = {const_cast<char*>(kZeros.data()), kZeroBlock};
  while (from < to) {
    const std::uint64_t left = to - from;
    const int count =
        static_cast<int>(std::min<std::uint64_t>(kMaxIov, (left + kZeroBlock - 1) / kZeroBlock));
    iov[count - 1].iov_len = left >= static_cast<std::uint64_t>(count) * kZeroBlock
                                 ? kZeroBlock
                                 : static_cast<std::size_t>(left - (count - 1) * kZeroBlock);
    const ssize_t n = ::pwritev(fd, iov.data(), count, static_cast<off_t>(from));
    iov[count - 1].iov_len = kZeroBlock;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    from += static_cast<std::uint64_t>(n);
  }
  return true;
}

// One write-ahead log. RocksDB appends through the wrapped file at the file's logical end
// (`logical_`); before an append would pass the zeroed end, zeros are written up to one more
// step beyond it through a second descriptor, and their write-back starts at once, so the next
// syncs find most of it done. RocksDB appends to a log from one thread at a time; the mutex
// keeps the bookkeeping exact should that ever change.
class ZeroAheadFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  ZeroAheadFile(std::unique_ptr<rocksdb::FSWritableFile> target, int fd, std::uint64_t step)
      : FSWritableFileOwnerWrapper(std::move(target)), fd_(fd), step_(step) {}

  ~ZeroAheadFile() override { release(); }

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return appended(data.size(), [&] { return target()->Append(data, options, dbg); });
  }

  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return appended(data.size(), [&] { return target()->Append(data, options, info, dbg); });
  }

  // Not used for logs written through the page cache; kept exact anyway by no longer zeroing
  // (zeros already past the end stay valid padding, cut off at close as RocksDB cuts its
  // preallocated space).
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    release();
    return target()->PositionedAppend(data, offset, options, dbg);
  }

  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    release();
    return target()->PositionedAppend(data, offset, options, info, dbg);
  }

  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) logical_ = zeroed_end_ = size;
    return s;
  }

  // Cuts the zeros off, so that a closed log's size is its content's.
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    std::lock_guard lock(mu_);
    if (fd_ >= 0 && zeroed_end_ > logical_) {
      (void)::ftruncate(fd_, static_cast<off_t>(logical_));
    }
    release();
    return target()->Close(options, dbg);
  }

 private:
  // Zeros ahead of an append of `n` bytes, then the append itself (`write`).
  template <class Write>
  IOStatus appended(std::size_t n, Write&& write) {
    std::lock_guard lock(mu_);
    zero_ahead(n);
    IOStatus s = write();
    if (s.ok()) logical_ += n;
    return s;
  }

  void zero_ahead(std::size_t n) {
    if (fd_ < 0 || logical_ + n <= zeroed_end_) return;
    const std::uint64_t from = std::max(zeroed_end_, logical_);
    const std::uint64_t to = ((logical_ + n) / step_ + 2) * step_;
    // On an error (e.g. a full disk) appends go on extending the file as usual; RocksDB reports
    // what its own write meets.
    if (!write_zeros(fd_, from, to)) return release();
    (void)::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(to - from),
                            SYNC_FILE_RANGE_WRITE);
    zeroed_end_ = to;
  }

  // Stops the zeroing: closes the second descriptor.
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::mutex mu_;
  int fd_;
  const std::uint64_t step_;
  std::uint64_t logical_ = 0;     // bytes RocksDB has appended
  std::uint64_t zeroed_end_ = 0;  // the file's size: content, then zeros up to here
};

class ZeroAheadFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  ZeroAheadFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, std::uint64_t step)
      : FileSystemWrapper(base), step_(step) {}

  static const char* kClassName() { return "CastorZeroAheadWal"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (!s.ok() || !is_wal(name) || options.use_direct_writes || options.use_mmap_writes) {
      return s;
    }
    const int fd = ::open(name.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return s;  // this log is written as RocksDB writes any file
    *result = std::make_unique<ZeroAheadFile>(std::move(*result), fd, step_);
    return s;
  }

 private:
  const std::uint64_t step_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> zero_ahead_wal_file_system(
    std::shared_ptr<rocksdb::FileSystem> base, std::uint64_t step) {
  return std::make_shared<ZeroAheadFileSystem>(base, step);
}

}  // namespace castor::store::impl
