// store_crash_writer DIR FIRST strict|relaxed THREADS: commits numbered records from THREADS
// threads, starting at FIRST, and prints "n lsn" for each one only after commit_sync returned.
// It runs until killed; the crash test kills it with SIGKILL and checks every printed record.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crash_format.hpp"
#include "store/store.hpp"

namespace {

using namespace castor;
namespace crash = castor::test::crash;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "store_crash_writer: %s\n", what.c_str());
  std::exit(2);
}

void write_forever(store::Store& db, std::atomic<std::uint64_t>& next, std::mutex& out) {
  const store::ColumnFamily data = *db.column_family(crash::kDataFamily);
  const store::ColumnFamily index = *db.column_family(crash::kIndexFamily);
  for (;;) {
    const std::uint64_t n = next.fetch_add(1);
    store::WriteBatch batch;
    batch.put(data, crash::key(n), crash::value(n));
    batch.put(index, crash::key(n), "");
    auto lsn = db.commit_sync(std::move(batch));
    if (!lsn.is_ok()) fail(lsn.status().to_string());
    std::lock_guard lock(out);
    std::printf("%llu %llu\n", static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(*lsn));
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) fail("usage: store_crash_writer DIR FIRST strict|relaxed THREADS");
  store::StoreOptions options;
  options.durability =
      std::string(argv[3]) == "relaxed" ? store::Durability::relaxed : store::Durability::strict;
  options.write_buffer_bytes = 256 << 10;  // flush often: crashes then also hit flushes
  options.block_cache_bytes = 8 << 20;
  auto db = store::Store::open(argv[1], {crash::kDataFamily, crash::kIndexFamily}, options);
  if (!db.is_ok()) fail(db.status().to_string());

  std::atomic<std::uint64_t> next{std::strtoull(argv[2], nullptr, 10)};
  std::mutex out;
  std::vector<std::thread> threads;
  for (int t = std::atoi(argv[4]); t > 0; --t) {
    threads.emplace_back([&] { write_forever(**db, next, out); });
  }
  for (auto& thread : threads) thread.join();
}
