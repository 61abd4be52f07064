// Runs the declarative corpus: every accepted query must print canonically as expected and
// survive parse(print(q)) == q; every rejected one must fail at the expected position with a
// message containing the expected fragment.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>

#include "case_file.hpp"
#include "query/parser.hpp"
#include "query/printer.hpp"

namespace castor::query::testing {
namespace {

void check_accepted(const Case& c) {
  Query q;
  QueryError error;
  ASSERT_TRUE(parse(c.query, q, error)) << "position " << error.position << ": " << error.message;
  const std::string printed = print(q);
  EXPECT_EQ(printed, c.expect == Case::Expect::same_print ? c.query : c.expected);
  Query again;
  ASSERT_TRUE(parse(printed, again, error)) << "the print does not parse: " << error.message;
  EXPECT_TRUE(again == q) << "parse(print(q)) differs from q";
  EXPECT_EQ(print(again), printed) << "printing is not idempotent";
}

void check_rejected(const Case& c) {
  Query q;
  QueryError error;
  ASSERT_FALSE(parse(c.query, q, error)) << "accepted; prints as " << print(q);
  EXPECT_EQ(error.position, c.position) << error.message;
  EXPECT_NE(error.message.find(c.expected), std::string::npos) << error.message;
  // Every error is a sentence: it starts with a capital or a quote and ends with a full stop.
  ASSERT_FALSE(error.message.empty());
  EXPECT_EQ(error.message.back(), '.') << error.message;
  const char first = error.message.front();
  EXPECT_TRUE((first >= 'A' && first <= 'Z') || first == '\'') << error.message;
}

class QueryCaseFile : public ::testing::TestWithParam<std::string> {};

TEST_P(QueryCaseFile, EveryRecordHolds) {
  std::vector<std::string> problems;
  const std::vector<Case> cases = read_case_file(GetParam(), problems);
  for (const std::string& p : problems) ADD_FAILURE() << p;
  EXPECT_FALSE(cases.empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line) + ": " + c.query);
    if (c.expect == Case::Expect::error) {
      check_rejected(c);
    } else {
      check_accepted(c);
    }
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string stem = std::filesystem::path(info.param).stem().string();
  for (char& ch : stem) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return stem;
}

INSTANTIATE_TEST_SUITE_P(Corpus, QueryCaseFile, ::testing::ValuesIn(case_files()), test_name);

TEST(QueryCorpus, IsPresent) {
  EXPECT_GE(case_files().size(), 10u);
}

}  // namespace
}  // namespace castor::query::testing
