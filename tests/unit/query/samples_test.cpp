// Every example query in the reference's sample files parses and round-trips through the
// printer, except the snippets listed with a reason in sample_exceptions.txt, which must fail:
// an exception that starts parsing, or names a snippet that does not exist, fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "query/parser.hpp"
#include "query/printer.hpp"

namespace castor::query {
namespace {

struct Snippet {
  std::string key;  // "<file> <Name>"
  int line = 0;
  std::vector<std::string> statements;
};

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string trim_left(const std::string& s) {
  const auto i = s.find_first_not_of(" \t");
  return i == std::string::npos ? std::string() : s.substr(i);
}

// The lines between "-- <Name>" and "-- </Name>", without "--" comment lines; a blank line
// separates statements (SelectCount2 holds two queries).
std::vector<Snippet> read_snippets(const std::string& file) {
  std::ifstream in(std::string(CASTOR_SHARED_DIR) + "/spec/adt-query/samples/" + file);
  std::vector<Snippet> out;
  Snippet* open = nullptr;
  std::string current;
  int number = 0;
  auto flush = [&] {
    if (open && !current.empty()) open->statements.push_back(current);
    current.clear();
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    line = trim_right(line);
    const std::string t = trim_left(line);
    if (t.rfind("-- </", 0) == 0) {
      flush();
      open = nullptr;
    } else if (t.rfind("-- <", 0) == 0 && t.back() == '>') {
      out.push_back({file + " " + t.substr(4, t.size() - 5), number, {}});
      open = &out.back();
    } else if (!open || t.rfind("--", 0) == 0) {
      continue;
    } else if (t.empty()) {
      flush();
    } else {
      current += current.empty() ? line : "\n" + line;
    }
  }
  return out;
}

std::map<std::string, std::string> read_exceptions(std::vector<std::string>& problems) {
  std::ifstream in(std::string(CASTOR_SOURCE_DIR) + "/tests/unit/query/sample_exceptions.txt");
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (trim_left(line).empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, name, reason;
    fields >> file >> name;
    std::getline(fields, reason);
    if (name.empty() || name.back() != ':' || trim_left(reason).empty()) {
      problems.push_back("bad line in sample_exceptions.txt: " + line);
      continue;
    }
    out[file + " " + name.substr(0, name.size() - 1)] = trim_left(reason);
  }
  return out;
}

class QuerySamples : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* file : {"examples.sql", "reference.sql"}) {
      for (Snippet& s : read_snippets(file)) snippets_.push_back(std::move(s));
    }
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
