// Every example query in the reference's sample files parses and round-trips through the
// printer, except the snippets listed with a reason in sample_exceptions.txt, which must fail:
// an exception that starts parsing, or names a snippet that does not exist, fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "query/parser.hpp"
#include "query/printer.hpp"
#include "sample_snippets.hpp"

namespace castor::query {
namespace {

using testing::all_snippets;
using testing::read_exceptions;
using testing::Snippet;

class QuerySamples : public ::testing::Test {
 protected:
  void SetUp() override {
    snippets_ = all_snippets();
    exceptions_ = read_exceptions(problems_);
  }
  std::vector<Snippet> snippets_;
  std::map<std::string, std::string> exceptions_;
  std::vector<std::string> problems_;
};

TEST_F(QuerySamples, SampleFilesAreFound) {
  // examples.sql has 33 snippets and reference.sql 97; a broken extractor finds far fewer.
  EXPECT_GE(snippets_.size(), 120u);
  for (const Snippet& s : snippets_) EXPECT_FALSE(s.statements.empty()) << s.key;
}

TEST_F(QuerySamples, EveryExceptionNamesASnippet) {
  for (const std::string& p : problems_) ADD_FAILURE() << p;
  for (const auto& [key, reason] : exceptions_) {
    const bool found = std::any_of(snippets_.begin(), snippets_.end(),
                                   [&](const Snippet& s) { return s.key == key; });
    EXPECT_TRUE(found) << "sample_exceptions.txt names a snippet that does not exist: " << key;
  }
}

TEST_F(QuerySamples, EveryExampleParsesAndRoundTrips) {
  int parsed = 0;
  for (const Snippet& s : snippets_) {
    if (exceptions_.count(s.key)) continue;
    for (const std::string& text : s.statements) {
      SCOPED_TRACE(s.key + " (line " + std::to_string(s.line) + "): " + text);
      Query q;
      QueryError error;
      ASSERT_TRUE(parse(text, q, error)) << "position " << error.position << ": " << error.message;
      Query again;
      ASSERT_TRUE(parse(print(q), again, error)) << print(q) << ": " << error.message;
      EXPECT_TRUE(again == q) << print(q);
      ++parsed;
    }
  }
  EXPECT_GE(parsed, 60);
}

TEST_F(QuerySamples, EveryExceptionIsStillRejected) {
  for (const Snippet& s : snippets_) {
    if (!exceptions_.count(s.key)) continue;
    for (const std::string& text : s.statements) {
      Query q;
      QueryError error;
      EXPECT_FALSE(parse(text, q, error))
          << s.key << " parses now (as " << print(q) << "); remove it from sample_exceptions.txt";
    }
  }
}

}  // namespace
}  // namespace castor::query
