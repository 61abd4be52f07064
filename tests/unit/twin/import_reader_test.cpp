// Import files without the engine: sections and blocks of an ADT NDJSON file, the structural
// errors that stop a job, strict parsing of entity lines, and where file:// paths may point.
#include "twin/jobs/import_reader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "twin/jobs/import_paths.hpp"
#include "twin/jobs/line_parser.hpp"

namespace castor::twin::jobs {
namespace {

namespace fs = std::filesystem;

class TempFolder {
 public:
  TempFolder() {
    static std::mt19937_64 rng(std::random_device{}());
    path_ = fs::temp_directory_path() / ("castor-import-test-" + std::to_string(rng()));
    fs::create_directories(path_);
    path_ = fs::canonical(path_);
  }
  ~TempFolder() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }

 private:
  fs::path path_;
};

constexpr std::string_view kHeader =
    "{\"Section\": \"Header\"}\n{\"fileVersion\": \"1.0.0\", \"author\": \"a\", \"organization\": "
    "\"o\"}\n";

struct Read {
  std::vector<std::pair<Section, std::uint64_t>>
      lines;  // section and line number of every entity line
  Status error;
};

Read read_all(const fs::path& file, ReaderOptions options = {}) {
  Read out;
  auto r = ImportReader::open(file, options);
  if (!r) return {{}, r.status()};
  while (true) {
    auto b = (*r)->next();
    if (!b) return {out.lines, b.status()};
    if (!*b) return out;
    for (const Line& l : (*b)->lines) {
      EXPECT_EQ(l.text.find('\n'), std::string_view::npos);
      out.lines.emplace_back((*b)->section, l.number);
    }
  }
}

TEST(ImportReader, SplitsSectionsIntoBlocksWithLineNumbers) {
  TempFolder dir;
  std::string text =
      "\xEF\xBB\xBF" + std::string(kHeader) + "{\"Section\": \"Models\"}\r\n{\"@id\": \"m\"}\r\n\n";
  text += "{\"Section\":\"Twins\"}\n{\"$dtId\": \"a\"}\n  \n{\"$dtId\": \"b\"}\n";
  text += "{ \"Section\" : \"relationships\" }\n{\"$dtId\": \"a\"}";  // no final newline; section
                                                                      // names ignore case
  auto file = dir.write("f.ndjson", text);
  Read r = read_all(file, {.block_lines = 1});
  ASSERT_TRUE(r.error.is_ok()) << r.error.to_string();
  std::vector<std::pair<Section, std::uint64_t>> want = {
      {Section::models, 4}, {Section::twins, 7}, {Section::twins, 9}, {Section::relationships, 11}};
  EXPECT_EQ(r.lines, want);
}

TEST(ImportReader, BlocksNeverStraddleABufferAndLongLinesGrowIt) {
  TempFolder dir;
  std::string text(kHeader);
  text += "{\"Section\": \"Twins\"}\n";
  for (int i = 0; i < 500; ++i)
    text += "{\"$dtId\": \"twin-" + std::to_string(i) + "\", \"pad\": \"" +
            std::string(i % 7 * 40, 'x') + "\"}\n";
  auto file = dir.write("f.ndjson", text);
  Read r = read_all(
      file, {.read_bytes = 256, .block_lines = 64});  // lines up to 300 bytes: larger than a read
  ASSERT_TRUE(r.error.is_ok()) << r.error.to_string();
  ASSERT_EQ(r.lines.size(), 500u);
  EXPECT_EQ(r.lines.back().second, 503u);
}

TEST(ImportReader, StructuralErrorsNameTheLineAndTheFix) {
  TempFolder dir;
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"{\"$dtId\": \"a\"}\n", "starts with {\"Section\": \"Header\"}"},
      {"{\"Section\": \"Header\"}\n{\"fileVersion\": \"2.0.0\"}\n",
       "fileVersion \"2.0.0\" is not supported"},
      {"{\"Section\": \"Header\"}\n{\"author\": \"x\"}\n", "the Header section holds one line"},
      {std::string(kHeader) + "{\"extra\": 1}\n", "line 3: the Header section holds one line"},
      {std::string(kHeader) + "{\"Section\": \"Twins\"}\n{\"Section\": \"Models\"}\n",
       "line 4: section Models after Twins"},
      {std::string(kHeader) + "{\"Section\": \"Twins\"}\n{\"Section\": \"Twins\"}\n",
       "section Twins after Twins"},
      {std::string(kHeader) + "{\"Section\": \"Routes\"}\n", "unknown section \"Routes\""},
      {"", "starts with {\"Section\": \"Header\"}"},
  };
  for (const auto& c : cases) {
    Read r = read_all(dir.write("bad.ndjson", c.text));
    EXPECT_FALSE(r.error.is_ok()) << c.text;
    EXPECT_NE(r.error.message().find(c.expect), std::string::npos) << r.error.message();
    EXPECT_EQ(r.error.reason(), "InvalidImportFile");
  }
}

TEST(ImportReader, RefusesLinesLongerThanTheLimit) {
  TempFolder dir;
  auto file = dir.write("f.ndjson", std::string(kHeader) + "{\"Section\": \"Twins\"}\n{\"x\": \"" +
                                        std::string(5000, 'y') + "\"}\n");
  Read r = read_all(file, {.read_bytes = 512, .max_line_bytes = 1024});
  EXPECT_NE(r.error.message().find("longer than 1024 bytes"), std::string::npos)
      << r.error.message();
}

TEST(LineParser, IsStrictAndKeepsTypes) {
  LineParser p;
  auto parse = [&](std::string text, json::object& out) {
    text.append(kLinePadding, ' ');
    return p.parse_object(std::string_view(text.data(), text.size() - kLinePadding), out);
  };
  json::object o;
  ASSERT_TRUE(
      parse(
          R"({"a": 1, "b": -2, "c": 18446744073709551615, "d": 1.5, "e": [true, null, "x"], "f": {"g": {}}})",
          o)
          .is_ok());
  EXPECT_TRUE(o.at("a").is_int64());
  EXPECT_TRUE(o.at("c").is_uint64());
  EXPECT_TRUE(o.at("d").is_double());
  EXPECT_EQ(json::serialize(o.at("e")), R"([true,null,"x"])");
  for (std::string bad : {R"({"a": 1, "a": 2})", R"({"a": })", "[1, 2]", "{\"a\": \"\xff\"}",
                          R"({"a": 1} {"b": 2})"}) {
    json::object x;
    Status s = parse(bad, x);
    EXPECT_FALSE(s.is_ok()) << bad;
  }
  json::object dup;
  EXPECT_NE(parse(R"({"k": {"a": 1, "a": 1}})", dup).message().find("duplicate key \"a\""),
            std::string::npos);
}

TEST(ImportPaths, AcceptsFilesInsideTheFolder) {
  TempFolder dir;
  fs::create_directories(dir.path() / "sub");
  dir.write("in.ndjson", "x");
  dir.write("sub/in 2.ndjson", "x");
  for (std::string uri :
       {"file://in.ndjson", "in.ndjson", "file:in.ndjson", "./in.ndjson", "FILE://in.ndjson"})
    EXPECT_EQ(resolve_import_uri(uri, "inputBlobUri", dir.path(), PathUse::input).value(),
              dir.path() / "in.ndjson")
        << uri;
  std::string abs = "file://" + (dir.path() / "sub" / "in%202.ndjson").string();
  EXPECT_EQ(resolve_import_uri(abs, "inputBlobUri", dir.path(), PathUse::input).value(),
            dir.path() / "sub" / "in 2.ndjson");
  EXPECT_EQ(resolve_import_uri("file://sub/new.log", "outputBlobUri", dir.path(), PathUse::output)
                .value(),
            dir.path() / "sub" / "new.log");
}

TEST(ImportPaths, RefusesEverythingElseWithASentence) {
  TempFolder dir, outside;
  dir.write("in.ndjson", "x");
  fs::create_directories(dir.path() / "sub");
  auto secret = outside.write("secret.ndjson", "x");
  fs::create_symlink(secret, dir.path() / "link.ndjson");
  fs::create_directory_symlink(outside.path(), dir.path() / "escape");
  struct Case {
    std::string uri;
    PathUse use;
    std::string expect;
  } cases[] = {
      {"../in.ndjson", PathUse::input, "contains '..'"},
      {"file://sub/../../x", PathUse::input, "contains '..'"},
      {"file://%2E%2E/x", PathUse::input, "contains '..'"},
      {"file:///etc/passwd", PathUse::input, "outside the import folder"},
      {"/etc/passwd", PathUse::input, "outside the import folder"},
      {"https://account.blob.core.windows.net/c/in.ndjson", PathUse::input,
       "uses the scheme 'https:'"},
      {"s3://bucket/in.ndjson", PathUse::input, "uses the scheme 's3:'"},
      {"file://missing.ndjson", PathUse::input, "does not exist"},
      {"file://link.ndjson", PathUse::input, "outside the import folder"},
      {"file://escape/secret.ndjson", PathUse::input, "outside the import folder"},
      {"file://escape/new.log", PathUse::output, "outside the import folder"},
      {"file://nowhere/new.log", PathUse::output, "does not exist"},
      {"file://link.ndjson", PathUse::output, "outside the import folder"},
      {"file://in.ndjson?x=1", PathUse::input, "query"},
      {"file://in%2", PathUse::input, "%-escape"},
      {"", PathUse::input, "names no file"},
      {"file://", PathUse::output, "names no file"},
      {"file://sub", PathUse::output, "not a file"},
  };
  for (const auto& c : cases) {
    auto r = resolve_import_uri(c.uri, "inputBlobUri", dir.path(), c.use);
    ASSERT_FALSE(r.is_ok()) << c.uri;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << c.uri << ": " << r.status().message();
    EXPECT_EQ(r.status().reason(), "ValidationFailed");
    EXPECT_NE(r.status().message().find(dir.path().string()), std::string::npos)
        << "names the folder";
  }
}

}  // namespace
}  // namespace castor::twin::jobs
