// The files of castor export/import history: rows survive CSV and NDJSON (with and without zstd)
// unchanged, files land per day and model with a manifest that matches them, and a missing,
// truncated or changed file is named by verify_file.
#include "app/history_archive.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

namespace castor::app::archive {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/castor-archive-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

constexpr std::int64_t kDay = 86'400'000'000'000;
constexpr std::int64_t kT0 = 1'795'478'400'000'000'000;  // 2026-11-24T00:00:00Z

Row row(std::string twin, std::string name, std::int64_t ts, std::string type, std::string value,
        std::string model = "dtmi:factory:Robot;1", std::string component = "") {
  Row r;
  r.twin = std::move(twin);
  r.component = std::move(component);
  r.name = std::move(name);
  r.model = std::move(model);
  r.ts_ns = ts;
  r.ts = std::to_string(ts);
  r.type = std::move(type);
  r.value = std::move(value);
  return r;
}

bool same(const Row& a, const Row& b) {
  return a.twin == b.twin && a.component == b.component && a.name == b.name && a.model == b.model &&
         a.ts == b.ts && a.ts_ns == b.ts_ns && a.type == b.type && a.value == b.value;
}

// Rows that need every quoting rule: commas, quotes, newlines, spaces, JSON values.
std::vector<Row> tricky_rows() {
  return {
      row("robot, \"the first\"", "temp", kT0 + 1, "float64", "21.5"),
      row("robot, \"the first\"", "temp", kT0 + 2, "float64", "-1e-300"),
      row("robot-2", "label", kT0 + 3, "string", R"("line one\nline \"two\", end ")"),
      row("robot-2", "count", kT0 + 4, "int64", "-9223372036854775808", "dtmi:factory:Robot;1",
          "arm"),
      row("robot-2", "on", kT0 + kDay + 5, "boolean", "false"),
      row("robot-2", "pose", kT0 + kDay + 6, "json", R"({"x":1.5,"tags":["a,b","\"q\""]})",
          "dtmi:factory:Conveyor;2"),
      row("robot-3", "label", kT0 - 1, "string", R"(" padded ")"),
  };
}

TEST(HistoryArchive, CsvRowsReadBackExactlyEvenWhenSplitAnywhere) {
  std::string text = std::string(kCsvHeader) + "\n";
  auto rows = tricky_rows();
  for (const auto& r : rows) append_csv_row(text, r);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    std::vector<std::vector<std::string>> records;
    auto first = split_csv(std::string_view(text).substr(0, cut), false);
    ASSERT_TRUE(first) << first.status().message();
    records = first->records;
    std::string rest = text.substr(first->consumed);
    auto second = split_csv(rest, true);
    ASSERT_TRUE(second) << second.status().message();
    for (auto& r : second->records) records.push_back(r);
    ASSERT_EQ(records.size(), rows.size() + 1) << "cut at " << cut;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto back = row_from_csv(records[i + 1]);
      ASSERT_TRUE(back) << back.status().message();
      EXPECT_TRUE(same(*back, rows[i])) << "row " << i << " cut at " << cut;
    }
  }
}

TEST(HistoryArchive, CsvQuotesOnlyWhatNeedsIt) {
  std::string out;
  append_csv_row(out, row("a", "n", 5, "string", R"("x,\"y\"")"));
  EXPECT_EQ(out, "a,,n,dtmi:factory:Robot;1,5,5,string,\"x,\"\"y\"\"\"\n");
}

TEST(HistoryArchive, NdjsonRowsCheckTypesAndKeepValuesCanonical) {
  auto r = parse_ndjson_row(
      R"({"twin":"t","component":"","name":"n","model":"m","ts":"x","ts_ns":7,"type":"float64","value":7.5})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "7.5");
  std::string line;
  append_ndjson_row(line, *r);
  auto again = parse_ndjson_row(line);
  ASSERT_TRUE(again);
  EXPECT_TRUE(same(*r, *again));
  auto wrong = parse_ndjson_row(
      R"({"twin":"t","name":"n","model":"m","ts_ns":7,"type":"int64","value":"7"})");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.status().message().find("int64"), std::string::npos);
  EXPECT_FALSE(parse_ndjson_row(R"({"twin":"t","name":"n","model":"m","type":"int64","value":7})"));
  EXPECT_FALSE(parse_ndjson_row("not json"));
}

TEST(HistoryArchive, IngestLinesCarryNanosecondsAndOmitAnEmptyComponent) {
  std::string out;
  append_ingest_line(out, row("t", "n", 42, "boolean", "true"));
  EXPECT_EQ(out, "{\"twin\":\"t\",\"name\":\"n\",\"ts\":42,\"value\":true}\n");
}

TEST(HistoryArchive, DaysAreUtcAndFileNamesAreDistinct) {
  EXPECT_EQ(utc_day(kT0), "2026-11-24");
  EXPECT_EQ(utc_day(kT0 - 1), "2026-11-23");
  EXPECT_EQ(utc_day(-1), "1969-12-31");
  EXPECT_EQ(file_safe("dtmi:factory:Robot;1"), "dtmi.factory.Robot@1");
  EXPECT_NE(file_safe("dtmi:a_b;1"), file_safe("dtmi:a:b;1"));
  EXPECT_NE(file_safe("a.b"), file_safe("a:b"));
  EXPECT_EQ(file_safe("../x"), "%2E%2E%2Fx");
}

TEST(HistoryArchive, ManifestRoundTripsAndRefusesOtherVersions) {
  Manifest m;
  m.from = 1;
  m.to = 2;
  m.created = "2026-11-24T00:00:00.000000000Z";
  FileEntry f;
  f.path = "2026-11-24/m.csv.zst";
  f.model = "m";
  f.day = "2026-11-24";
  f.format = FileFormat::csv;
  f.zstd = true;
  f.rows = 3;
  f.series = 2;
  f.bytes = 99;
  f.sha256 = "ab";
  m.files.push_back(f);
  auto back = parse_manifest(manifest_json(m));
  ASSERT_TRUE(back) << back.status().message();
  ASSERT_EQ(back->files.size(), 1u);
  EXPECT_EQ(back->files[0].path, f.path);
  EXPECT_EQ(back->files[0].format, FileFormat::csv);
  EXPECT_TRUE(back->files[0].zstd);
  EXPECT_EQ(back->files[0].rows, 3u);
  std::string text = manifest_json(m);
  text.replace(text.find("\"version\":1"), 11, "\"version\":9");
  auto refused = parse_manifest(text);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.status().message().find("version"), std::string::npos);
  m.files[0].path = "../../etc/passwd";
  EXPECT_FALSE(parse_manifest(manifest_json(m)));
}

std::vector<Row> read_all(const fs::path& dir, const FileEntry& e) {
  std::vector<Row> out;
  Status s = for_each_row(dir, e, [&](const Row& r) {
    out.push_back(r);
    return Status::ok();
  });
  EXPECT_TRUE(s.is_ok()) << s.message();
  return out;
}

class WriterTest : public ::testing::TestWithParam<bool> {};

TEST_P(WriterTest, WritesOneFilePerDayModelAndFormatThatVerifyAndReadBack) {
  TempDir dir;
  bool zstd = GetParam();
  ArchiveWriter w(dir.path(), {FileFormat::ndjson, FileFormat::csv}, zstd);
  auto rows = tricky_rows();
  for (int i = 0; i < 20'000; ++i)  // enough for several 64 KiB flushes
    rows.push_back(row("bulk", "v", kT0 + 10 + i, "int64", std::to_string(i * 7)));
  for (const auto& r : rows) ASSERT_TRUE(w.add(r).is_ok());
  auto files = w.finish();
  ASSERT_TRUE(files) << files.status().message();
  // Days 23 and 24 of Robot, day 25 of Robot and of Conveyor; two formats each.
  ASSERT_EQ(files->size(), 8u);
  std::uint64_t total = 0;
  for (const auto& f : *files) {
    EXPECT_EQ(f.zstd, zstd);
    EXPECT_EQ(fs::file_size(dir.path() / f.path), f.bytes);
    auto verified = verify_file(dir.path(), f);
    ASSERT_TRUE(verified) << verified.status().message();
    EXPECT_EQ(*verified, f.rows);
    total += f.rows;
  }
  EXPECT_EQ(total, 2 * rows.size());
  const FileEntry* robot24 = nullptr;
  for (const auto& f : *files)
    if (f.day == "2026-11-24" && f.format == FileFormat::csv) robot24 = &f;
  ASSERT_NE(robot24, nullptr);
  EXPECT_EQ(robot24->path,
            std::string("2026-11-24/dtmi.factory.Robot@1.csv") + (zstd ? ".zst" : ""));
  EXPECT_EQ(robot24->series, 4u);  // "robot, the first" temp; robot-2 label and arm count; bulk v
  std::vector<Row> expected;
  for (const auto& r : rows)
    if (utc_day(r.ts_ns) == "2026-11-24" && r.model == "dtmi:factory:Robot;1")
      expected.push_back(r);
  for (const auto& f : *files) {
    if (f.day != "2026-11-24" || f.model != "dtmi:factory:Robot;1") continue;
    auto back = read_all(dir.path(), f);
    ASSERT_EQ(back.size(), expected.size());
    for (std::size_t i = 0; i < back.size(); ++i)
      ASSERT_TRUE(same(back[i], expected[i])) << f.path << " row " << i;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
}

INSTANTIATE_TEST_SUITE_P(PlainAndZstd, WriterTest, ::testing::Values(false, true));

TEST(HistoryArchive, VerifyNamesMissingTruncatedAndChangedFiles) {
  TempDir dir;
  ArchiveWriter w(dir.path(), {FileFormat::ndjson}, true);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.add(row("t", "v", kT0 + i, "int64", "1")).is_ok());
  auto files = w.finish();
  ASSERT_TRUE(files);
  ASSERT_EQ(files->size(), 1u);
  FileEntry f = files->front();
  fs::path path = dir.path() / f.path;
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
  }
  // A changed byte, same size.
  {
    std::string changed = bytes;
    changed[changed.size() / 2] ^= 0x5a;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << changed;
    auto r = verify_file(dir.path(), f);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find(f.path), std::string::npos);
    EXPECT_NE(r.status().message().find("SHA-256"), std::string::npos);
  }
  // Truncated.
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 3);
    auto r = verify_file(dir.path(), f);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("bytes"), std::string::npos);
  }
  // A manifest whose row count is wrong, with the file intact.
  {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    FileEntry lying = f;
    lying.rows = 999;
    auto r = verify_file(dir.path(), lying);
    ASSERT_FALSE(r);
    EXPECT_NE(r.status().message().find("1000 rows"), std::string::npos);
    EXPECT_TRUE(verify_file(dir.path(), f));
  }
  fs::remove(path);
  auto r = verify_file(dir.path(), f);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("missing"), std::string::npos);
}

TEST(HistoryArchive, AtomicWriteLeavesNoTmpAndReplaces) {
  TempDir dir;
  ASSERT_TRUE(write_atomically(dir.path() / "m.json", "one").is_ok());
  ASSERT_TRUE(write_atomically(dir.path() / "m.json", "two").is_ok());
  std::ifstream in(dir.path() / "m.json");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "two");
  EXPECT_FALSE(fs::exists(dir.path() / "m.json.tmp"));
  EXPECT_FALSE(write_atomically(dir.path() / "no" / "such" / "m.json", "x").is_ok());
}

}  // namespace
}  // namespace castor::app::archive
