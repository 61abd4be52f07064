// The audit log's journal: records committed in the store with their mutation reach audit.log
// exactly once, also after a crash between the commit and the copy, and leave the store after.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>

#include "api/audit_log.hpp"
#include "api/files.hpp"
#include "store/store.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

class AuditJournalTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store(); }

  void open_store() {
    store.reset();
    // As `castor serve` keeps it: an unsorted memtable, read back only by the recovery scan.
    store::StoreOptions options;
    options.unsorted_memtable_families = {AuditLog::journal_family};
    auto opened = store::Store::open(dir.path() / "db", {AuditLog::journal_family}, options);
    ASSERT_TRUE(opened) << opened.status().message();
    store = std::move(*opened);
    cf = *store->column_family(AuditLog::journal_family);
  }

  std::unique_ptr<AuditLog> open_log(AuditLog::Options options = {}) {
    auto log = AuditLog::open(dir.path() / "audit.log", registry, options, {store.get(), cf});
    EXPECT_TRUE(log) << log.status().message();
    return std::move(*log);
  }

  static AuditRecord record(std::string path, int status) {
    return AuditRecord{std::chrono::system_clock::now(),
                       "op",
                       "id1",
                       "operator",
                       "PATCH",
                       std::move(path),
                       status,
                       "trace",
                       "127.0.0.1"};
  }

  // What a shard does with a mutation's record: commit it with the mutation.
  void commit(const twin::CommitRecord& r) {
    store::WriteBatch b;
    b.put(r.cf, r.key, r.value);
    ASSERT_TRUE(store->commit_sync(std::move(b)));
  }

  std::vector<std::string> file_lines() {
    std::ifstream in(dir.path() / "audit.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l + "\n");
    return lines;
  }

  std::size_t journal_size() {
    std::size_t n = 0;
    for (auto it = store->scan_prefix(cf, ""); it.valid(); it.next()) ++n;
    return n;
  }

  testing::TempDir dir;
  metrics::Registry registry;
  std::unique_ptr<store::Store> store;
  store::ColumnFamily cf;
};

TEST_F(AuditJournalTest, CommittedRecordsAreCopiedToTheFileAndLeaveTheJournal) {
  auto log = open_log();
  ASSERT_TRUE(log->journaling());
  auto a = log->journal(record("/digitaltwins/a", 204));
  auto b = log->journal(record("/digitaltwins/b", 204));
  commit(*a);
  commit(*b);
  const std::string line_a = a->value, line_b = b->value;
  log->copy_committed(std::move(*log->reserve()), a);
  log->copy_committed(std::move(*log->reserve()), b);
  log->close();
  EXPECT_EQ(file_lines(), (std::vector<std::string>{line_a, line_b}));
  open_store();  // the erase was queued asynchronously; a reopen sees what was committed
  EXPECT_EQ(journal_size(), 0u);
}

TEST_F(AuditJournalTest, AnUnusedRecordIsWrittenWithItsRealStatusAndDoesNotBlockErasing) {
  auto log = open_log();
  auto failed = log->journal(record("/digitaltwins/missing", 204));  // never committed
  auto ok = log->journal(record("/digitaltwins/a", 204));
  commit(*ok);
  const std::string ok_line = ok->value;
  bool durable = false;
  log->append(
      std::move(*log->reserve()), record("/digitaltwins/missing", 404), [&] { durable = true; },
      failed);
  log->copy_committed(std::move(*log->reserve()), ok);
  log->close();
  EXPECT_TRUE(durable);
  auto lines = file_lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"status\":404"), std::string::npos);
  EXPECT_EQ(lines[1], ok_line);
  open_store();
  EXPECT_EQ(journal_size(), 0u);
}

TEST_F(AuditJournalTest, ARecordBehindAnUnresolvedOneStaysInTheJournalUntilItIsResolved) {
  auto log = open_log();
  auto first = log->journal(record("/digitaltwins/slow", 204));  // still on its way
  auto second = log->journal(record("/digitaltwins/fast", 204));
  commit(*first);
  commit(*second);
  log->copy_committed(std::move(*log->reserve()), second);
  log->close();
  open_store();
  // Erasing the second record alone would need a range that also covers the first one.
  EXPECT_EQ(journal_size(), 2u);
}

TEST_F(AuditJournalTest, RecoveryAppendsWhatACrashLeftInTheJournalExactlyOnce) {
  std::string copied, lost;
  {
    auto log = open_log();
    auto c = log->journal(record("/digitaltwins/unresolved", 204));  // blocks the erase of a
    auto a = log->journal(record("/digitaltwins/copied", 204));
    auto b = log->journal(record("/digitaltwins/lost", 204));
    commit(*a);
    commit(*b);
    copied = a->value;
    lost = b->value;
    // a reaches the file; b was committed (and acknowledged) but the process died before its
    // copy; c never comes back, so a's journal entry stays like after a crash before the erase.
    log->copy_committed(std::move(*log->reserve()), a);
    log->close();
    (void)c;
  }
  ASSERT_EQ(file_lines(), (std::vector<std::string>{copied}));
  open_store();
  ASSERT_EQ(journal_size(), 2u);
  auto log = open_log();
  EXPECT_EQ(file_lines(), (std::vector<std::string>{copied, lost}));
  EXPECT_EQ(journal_size(), 0u);
  // New records get keys above the recovered ones and are copied as usual.
  auto d = log->journal(record("/digitaltwins/after", 204));
  commit(*d);
  const std::string after = d->value;
  log->copy_committed(std::move(*log->reserve()), d);
  log->close();
  EXPECT_EQ(file_lines(), (std::vector<std::string>{copied, lost, after}));
  open_store();
  EXPECT_EQ(journal_size(), 0u);
}

TEST_F(AuditJournalTest, CopiesWaitForTheIntervalButWaitedForRecordsDoNot) {
  AuditLog::Options options;
  options.copy_interval = std::chrono::milliseconds(2000);
  auto log = open_log(options);
  auto a = log->journal(record("/digitaltwins/a", 204));
  commit(*a);
  log->copy_committed(std::move(*log->reserve()), a);
  std::promise<void> written;
  auto start = std::chrono::steady_clock::now();
  log->append(std::move(*log->reserve()), record("/digitaltwins/b", 400),
              [&] { written.set_value(); });
  written.get_future().wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500))
      << "a record someone waits for is written at once";
  EXPECT_EQ(file_lines().size(), 2u);
  log->close();
}

TEST(AuditLine, IsOneJsonObjectWithAMillisecondUtcTimeAndEscapedFields) {
  using namespace std::chrono;
  // 2024-05-01T12:00:07.123456789Z: the time is cut (not rounded) to milliseconds.
  const auto t = system_clock::time_point(
      duration_cast<system_clock::duration>(nanoseconds(1714564807123456789LL)));
  const AuditRecord r{t,          "ops \"night\"",      "id1", "operator",
                      "PATCH",    "/digitaltwins/a\\b", 204,   "4bf92f3577b34da6a3ce929d0e0e4736",
                      "127.0.0.1"};
  EXPECT_EQ(audit_line(r),
            "{\"time\":\"2024-05-01T12:00:07.123Z\",\"principal\":\"ops \\\"night\\\"\","
            "\"principal_id\":\"id1\",\"role\":\"operator\",\"method\":\"PATCH\","
            "\"path\":\"/digitaltwins/a\\\\b\",\"status\":204,"
            "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"remote\":\"127.0.0.1\"}\n");
  // Before 1970 and on a leap day the calendar still comes out right.
  EXPECT_EQ(rfc3339_utc(system_clock::time_point(seconds(-1))), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(rfc3339_utc(system_clock::time_point(seconds(951782400))), "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace castor::api
