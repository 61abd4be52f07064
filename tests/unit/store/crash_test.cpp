// Durability across kill -9: a writer process is killed at random moments; after each kill the
// store must reopen with every record the writer acknowledged, each batch whole, the LSN intact.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "crash_format.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

namespace castor::store {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace crash = castor::test::crash;

struct Ack {
  std::uint64_t n = 0;
  Lsn lsn = 0;
};

// A running store_crash_writer whose stdout is a pipe; killed and reaped at the latest on scope
// exit, so a failed assertion never leaves a writer behind.
class Writer {
 public:
  explicit Writer(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      ::dup2(fds[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Writer() {
    if (pid_ > 0) kill_and_reap();
    if (out_ >= 0) ::close(out_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Reads acknowledgements until `deadline`, `enough` of them, or end of output.
  void read(Clock::time_point deadline, std::size_t enough = SIZE_MAX) {
    while (!eof_ && acks_.size() < enough) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) > 0) drain_once();
    }
  }
  // SIGKILL, then everything it printed before dying; returns the wait status.
  int kill_and_reap() {
    ::kill(pid_, SIGKILL);
    while (!eof_) drain_once();
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  const std::vector<Ack>& acks() const { return acks_; }

 private:
  void drain_once() {
    char buffer[4096];
    const ssize_t n = ::read(out_, buffer, sizeof buffer);
    if (n <= 0) {
      eof_ = n == 0 || errno != EINTR;
      return;
    }
    pending_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = pending_.find('\n', start)) != std::string::npos;
         start = end + 1) {
      Ack ack;
      if (std::sscanf(pending_.c_str() + start, "%" SCNu64 " %" SCNu64, &ack.n, &ack.lsn) == 2) {
        acks_.push_back(ack);
      }
    }
    pending_.erase(0, start);  // a line cut by the kill was never acknowledged
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool eof_ = false;
  std::string pending_;
  std::vector<Ack> acks_;
};

StoreOptions small() {
  StoreOptions options;
  options.block_cache_bytes = 8 << 20;
  options.write_buffer_bytes = 4 << 20;
  return options;
}

std::vector<std::string> families() {
  return {crash::kDataFamily, crash::kIndexFamily};
}

std::vector<std::string> all_keys(const Store& db, ColumnFamily cf) {
  std::vector<std::string> keys;
  for (auto it = db.scan_prefix(cf, ""); it.valid(); it.next()) keys.emplace_back(it.key());
  return keys;
}

// Every acknowledged record present and intact; no batch visible by half; LSN not behind.
void expect_recovered(const std::filesystem::path& dir, const std::vector<Ack>& acks) {
  auto db = Store::open(dir, families(), small());
  ASSERT_TRUE(db.is_ok()) << db.status().to_string();
  const ColumnFamily data = *(*db)->column_family(crash::kDataFamily);
  const ColumnFamily index = *(*db)->column_family(crash::kIndexFamily);
  Lsn highest = 0;
  for (const Ack& ack : acks) {
    auto value = (*db)->get(data, crash::key(ack.n));
    ASSERT_TRUE(value.is_ok() && value->has_value()) << "acknowledged record " << ack.n << " lost";
    ASSERT_EQ(**value, crash::value(ack.n)) << "record " << ack.n << " damaged";
    highest = std::max(highest, ack.lsn);
  }
  EXPECT_GE((*db)->last_committed_lsn(), highest);
  EXPECT_EQ(all_keys(**db, data), all_keys(**db, index)) << "a batch survived by half";
}

// The writer's store zeroes its write-ahead log ahead of the end in steps of
// StoreOptions::wal_zero_ahead_bytes (default): a killed writer leaves a log whose size is a
// whole number of steps, records then zeros, which recovery must read up to the zeros.
bool left_a_zeroed_log(const std::filesystem::path& dir) {
  const std::uintmax_t step = StoreOptions{}.wal_zero_ahead_bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".log") continue;
    const std::uintmax_t size = entry.file_size();
    if (size > 0 && size % step == 0) return true;
  }
  return false;
}

void expect_locked(const std::filesystem::path& dir) {
  auto second = Store::open(dir, families(), small());
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), Code::unavailable);
  EXPECT_EQ(second.status().message(), "another castor process is using " + dir.string() +
                                           "; stop it or choose another --data");
}

TEST(StoreCrash, EveryAcknowledgedCommitSurvivesKill9) {
  constexpr int kCycles = 10;
  test::TempDir dir;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(5, 150);
  std::size_t acknowledged = 0;

  for (int cycle = 0; cycle < kCycles; ++cycle) {
    // Every third run is relaxed: it promises to survive a castor crash too.
    const std::string mode = cycle % 3 == 2 ? "relaxed" : "strict";
    SCOPED_TRACE("cycle " + std::to_string(cycle) + " (" + mode + ")");
    Writer writer({CASTOR_STORE_CRASH_WRITER, dir.path().string(),
                   std::to_string(std::uint64_t(cycle) * 1'000'000), mode, "4"});
    writer.read(Clock::now() + 15s, 1);
    ASSERT_FALSE(writer.acks().empty()) << "the writer acknowledged nothing within 15 s";
    if (cycle == 0) expect_locked(dir.path());
    writer.read(Clock::now() + std::chrono::milliseconds(delay_ms(random)));
    const int status = writer.kill_and_reap();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the writer ended on its own; see its stderr above";
    EXPECT_TRUE(left_a_zeroed_log(dir.path())) << "no write-ahead log with zeros ahead of its end";
    expect_recovered(dir.path(), writer.acks());
    acknowledged += writer.acks().size();
  }
  ::testing::Test::RecordProperty("acknowledged_records", std::to_string(acknowledged));
  EXPECT_GT(acknowledged, std::size_t{kCycles});
}

}  // namespace
}  // namespace castor::store
