// Runs the execution corpus (tests/unit/query/exec/*.test) against real engines loaded with
// each file's graph: every query must return exactly the expected rows (or count, or error),
// paging through continuation tokens where a record asks for it. Also checks that every example
// of the reference's sample files (except the listed non-queries) has a record and so runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "exec_case_file.hpp"
#include "graph_fixture.hpp"
#include "query/query_service.hpp"
#include "sample_snippets.hpp"

namespace castor::query::testing {
namespace {

void normalize(json::value& v);

// $etag and the update times change with every run; $metadata keeps $model and sourceTimes.
void normalize_metadata(json::object& meta) {
  meta.erase("$lastUpdateTime");
  std::vector<std::string> empty;
  for (auto& kv : meta) {
    if (!kv.value().is_object()) continue;
    kv.value().get_object().erase("lastUpdateTime");
    if (kv.value().get_object().empty()) empty.emplace_back(json::sv(kv.key()));
  }
  for (const std::string& k : empty) meta.erase(k);
}

void normalize(json::value& v) {
  if (v.is_array()) {
    for (auto& e : v.get_array()) normalize(e);
    return;
  }
  if (!v.is_object()) return;
  json::object& o = v.get_object();
  o.erase("$etag");
  for (auto& kv : o) {
    if (kv.key() == "$metadata" && kv.value().is_object())
      normalize_metadata(kv.value().get_object());
    normalize(kv.value());
  }
}

// Compact JSON with object keys sorted, so that equal values print equally.
std::string canonical(const json::value& v) {
  if (v.is_array()) {
    std::string out = "[";
    for (const auto& e : v.get_array()) out += (out.size() > 1 ? "," : "") + canonical(e);
    return out + "]";
  }
  if (!v.is_object()) return json::serialize(v);
  std::map<std::string, const json::value*> sorted;
  for (const auto& kv : v.get_object())
    sorted.emplace(std::string(json::sv(kv.key())), &kv.value());
  std::string out = "{";
  for (const auto& [k, val] : sorted) {
    if (out.size() > 1) out += ",";
    json::append_string(out, k);
    out += ":" + canonical(*val);
  }
  return out + "}";
}

std::string normalized(const std::string& text) {
  auto v = json::parse(text);
  if (!v) return "unparsable: " + text;
  normalize(*v);
  return canonical(*v);
}

// Every page of the result, following continuation tokens.
Result<std::vector<std::string>> all_rows(QueryService& service, const std::string& text,
                                          std::size_t page) {
  auto first = run_sync(service, text, page);
  if (!first) return first.status();
  std::vector<std::string> rows(first->rows.begin(), first->rows.end());
  std::string token = first->continuation;
  for (int pages = 0; !token.empty(); ++pages) {
    if (pages > 10000) return internal_error("too many pages");
    auto next = next_sync(service, token, page);
    if (!next) return next.status();
    rows.insert(rows.end(), next->rows.begin(), next->rows.end());
    token = next->continuation;
  }
  return rows;
}

void check_case(QueryService& service, const ExecCase& c, const std::string& text) {
  auto rows = all_rows(service, text, c.page);
  if (c.expect == ExecCase::Expect::error) {
    ASSERT_FALSE(rows.is_ok()) << "succeeded with " << rows->size() << " rows";
    EXPECT_EQ(rows.status().reason(), c.code) << rows.status().message();
    EXPECT_NE(rows.status().message().find(c.fragment), std::string::npos)
        << rows.status().message();
    if (c.position != 0) {
      EXPECT_NE(rows.status().message().find("position " + std::to_string(c.position)),
                std::string::npos)
          << rows.status().message();
    }
    return;
  }
  ASSERT_TRUE(rows.is_ok()) << rows.status().reason() << ": " << rows.status().message();
  if (c.expect == ExecCase::Expect::count) {
    EXPECT_EQ(rows->size(), c.count);
    return;
  }
  std::vector<std::string> got;
  std::vector<std::string> want;
  for (const std::string& r : *rows) got.push_back(normalized(r));
  for (const std::string& r : c.rows) want.push_back(normalized(r));
  if (!c.ordered) {
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
  }
  EXPECT_EQ(got, want);
}

std::map<std::string, Snippet> snippets_by_key() {
  std::map<std::string, Snippet> out;
  for (Snippet& s : all_snippets()) out.emplace(s.key, std::move(s));
  return out;
}

class ExecCorpus : public ::testing::TestWithParam<std::string> {};

void run_corpus(const std::string& path, bool indexed) {
  std::vector<std::string> problems;
  const ExecFile file = read_exec_file(path, problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  ASSERT_FALSE(file.cases.empty());
  QueryOptions options;
  if (indexed) {
    // Every filtered property gets an automatic index at once, so that every comparison the
    // corpus makes is also answered through an index (the results must not change).
    IndexOptions io;
    io.auto_after = 1;
    io.auto_max = 1000;
    options.indexes = std::make_shared<IndexSet>(io);
  }
  auto fixture = GraphFixture::load(file.graph, 4, options.indexes);
  ASSERT_TRUE(fixture.is_ok()) << fixture.status().message();
  auto service = std::make_shared<QueryService>((*fixture)->engine(), options);
  const auto snippets = snippets_by_key();
  for (const ExecCase& c : file.cases) {
    std::string text = c.query;
    if (!c.sample.empty()) {
      const auto it = snippets.find(c.sample);
      if (it == snippets.end() || c.statement > it->second.statements.size()) {
        ADD_FAILURE() << c.file << ":" << c.line << ": no such sample " << c.sample;
        continue;
      }
      text = it->second.statements[c.statement - 1];
    }
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + text);
    if (indexed) (void)run_sync(*service, text, 1);  // creates the indexes this query can use
    check_case(*service, c, text);
  }
}

TEST_P(ExecCorpus, EveryRecordHolds) { run_corpus(GetParam(), false); }

TEST_P(ExecCorpus, EveryRecordHoldsThroughIndexes) { run_corpus(GetParam(), true); }

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string stem = std::filesystem::path(info.param).stem().string();
  for (char& ch : stem) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return stem;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ExecCorpus, ::testing::ValuesIn(exec_files()), test_name);

// Every statement of every sample snippet that is a complete query has a record, so it runs.
TEST(ExecSamples, EveryExampleHasARecord) {
  std::vector<std::string> problems;
  const auto exceptions = read_exceptions(problems);
  std::set<std::string> covered;
  for (const std::string& path : exec_files()) {
    for (const ExecCase& c : read_exec_file(path, problems).cases) {
      if (!c.sample.empty()) covered.insert(c.sample + " #" + std::to_string(c.statement));
    }
  }
  for (const std::string& p : problems) ADD_FAILURE() << p;
  int runnable = 0;
  for (const Snippet& s : all_snippets()) {
    if (exceptions.count(s.key)) continue;
    for (std::size_t i = 1; i <= s.statements.size(); ++i) {
      ++runnable;
      EXPECT_TRUE(covered.count(s.key + " #" + std::to_string(i)))
          << "no exec record runs sample " << s.key << " #" << i;
    }
  }
  EXPECT_GE(runnable, 60);
}

}  // namespace
}  // namespace castor::query::testing
