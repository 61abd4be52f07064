// Hostile and huge input: every outcome is a parsed query or a QueryError, never a crash, a stack
// overflow or a runaway; and the parser is fast enough that nobody needs to think about it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "case_file.hpp"
#include "query/parser.hpp"
#include "query/printer.hpp"
#include "query/query_error.hpp"
#include "query/utf8.hpp"

namespace castor::query {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 20;  // ASan+UBSan builds: time bounds only catch runaways
#else
constexpr double kSlowdown = 1;
#endif

// Whatever the input, the outcome is consistent: a query that round-trips, or an error that
// points inside the text (or just past it) and reads as a sentence.
void expect_sane_outcome(std::string_view text, const QueryLimits& limits = {}) {
  Query q;
  QueryError error;
  if (parse(text, q, error, limits)) {
    const std::string printed = print(q);
    Query again;
    ASSERT_TRUE(parse(printed, again, error, limits)) << printed << "\n" << error.message;
    ASSERT_TRUE(again == q) << printed;
    return;
  }
  ASSERT_LE(error.offset, text.size());
  ASSERT_GE(error.position, 1u);
  ASSERT_EQ(error.position, locate(text, error.offset).position);
  ASSERT_FALSE(error.message.empty());
  ASSERT_EQ(error.message.back(), '.') << error.message;
  ASSERT_TRUE(scan_utf8(error.message).valid) << "the message quotes half a character";
}

std::string error_of(std::string_view text, const QueryLimits& limits = {}) {
  Query q;
  QueryError error;
  EXPECT_FALSE(parse(text, q, error, limits)) << text.substr(0, 80);
  return std::to_string(error.position) + ": " + error.message;
}

double median_ms(const std::function<void()>& run, int times = 5) {
  std::vector<double> ms;
  for (int i = 0; i < times; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST(QueryRobustness, EmptyQueriesSayWhatToWrite) {
  for (const char* text : {"", "   ", "\n\t\r\n"}) {
    EXPECT_EQ(error_of(text),
              "1: The query is empty; write a query such as SELECT * FROM DIGITALTWINS.");
  }
}

TEST(QueryRobustness, TheCharacterLimitCountsCharactersNotBytes) {
  const std::string head = "SELECT * FROM DIGITALTWINS WHERE x = '";
  // 8,000 characters, of which the literal's 'é' are two bytes each: accepted.
  std::string text = head;
  while (scan_utf8(text).characters < 7999) text += "\xC3\xA9";
  text += "'";
  ASSERT_EQ(scan_utf8(text).characters, 8000u);
  Query q;
  QueryError error;
  EXPECT_TRUE(parse(text, q, error)) << error.message;
  text.insert(head.size(), "x");
  EXPECT_EQ(error_of(text),
            "8001: The query has 8001 characters; the limit is 8000. Shorten it, for example by "
            "splitting long IN lists over several queries.");
  const std::string megabyte(1 << 20, 'x');
  EXPECT_EQ(error_of(megabyte).substr(0, 40), "8001: The query has more than 8000 chara");
}

TEST(QueryRobustness, DeepNestingIsAnErrorNotAStackOverflow) {
  QueryLimits long_text;  // default nesting, but room for the text
  long_text.max_characters = 1'000'000;
  const std::string head = "SELECT * FROM DIGITALTWINS WHERE ";
  const int depth = 10'000;
  const std::string parens = head + std::string(depth, '(') + "x = 1" + std::string(depth, ')');
  EXPECT_NE(error_of(parens, long_text).find("nests more than 64 levels"), std::string::npos);
  std::string nots = head;
  for (int i = 0; i < depth; ++i) nots += "NOT ";
  EXPECT_NE(error_of(nots + "x = 1", long_text).find("nests more than 64 levels"),
            std::string::npos);
  std::string mixed = head;
  for (int i = 0; i < depth; ++i) mixed += "NOT (";
  EXPECT_NE(error_of(mixed + "x = 1", long_text).find("nests more than 64 levels"),
            std::string::npos);
  std::string calls = head;
  for (int i = 0; i < depth; ++i) calls += "IS_NULL(";
  EXPECT_NE(error_of(calls, long_text).find("not function calls"), std::string::npos);
  // A configured nesting limit above the ceiling still stops at the ceiling.
  QueryLimits generous;
  generous.max_characters = 1'000'000;
  generous.max_nesting = 1'000'000;
  EXPECT_NE(error_of(parens, generous).find("nests more than 256 levels"), std::string::npos);
  const std::string at_ceiling = head + std::string(256, '(') + "x = 1" + std::string(256, ')');
  expect_sane_outcome(at_ceiling, generous);
  for (const std::string& brackets : {std::string(depth, '['), std::string(depth, '(')}) {
    expect_sane_outcome("SELECT a FROM DIGITALTWINS MATCH " + brackets, generous);
  }
}

TEST(QueryRobustness, UnterminatedAndBrokenTokensAreErrorsAnywhere) {
  for (const char* text :
       {"'", "\"", "SELECT '", "SELECT * FROM DIGITALTWINS WHERE a = 'x\\", "[[", "[[x", "[[x]",
        "SELECT * FROM DIGITALTWINS WHERE a = '\\u12", "SELECT * FROM DIGITALTWINS WHERE a = 1e",
        "$", "SELECT * FROM DIGITALTWINS WHERE a = \"\\uD800\\u", "!", "<>"}) {
    SCOPED_TRACE(text);
    expect_sane_outcome(text);
    Query q;
    QueryError error;
    EXPECT_FALSE(parse(text, q, error));
  }
}

TEST(QueryRobustness, InvalidUtf8IsRejectedWithItsPosition) {
  const std::string head = "SELECT * FROM DIGITALTWINS WHERE x = 'é";  // é: 2 bytes, 1 character
  for (const std::string& bad :
       {std::string("\xFF"), std::string("\xC0\x80"),  // overlong NUL
        std::string("\xED\xA0\x80"),                   // a surrogate
        std::string("\xF4\x90\x80\x80"),               // above U+10FFFF
        std::string("\xE2\x82"), std::string("\x80"), std::string("\xF8\x88\x80\x80\x80")}) {
    const std::string text = head + bad + "'";
    char expected[64];
    std::snprintf(expected, sizeof expected,
                  "40: The query is not valid UTF-8: byte 0x%02X at position 40",
                  static_cast<unsigned char>(bad[0]));
    EXPECT_EQ(error_of(text).rfind(expected, 0), 0u) << error_of(text);
  }
}

// Speed is measured by bench/micro/query; the bound here only catches runaways (quadratic work
// on a 100 KB query takes seconds), far above any machine load.
TEST(QueryRobustness, HundredKilobyteQueriesParseWithoutRunaway) {
  QueryLimits big;
  big.max_characters = 200'000;
  big.max_logical_operators = 100'000;
  big.max_in_values = 100'000;
  std::string conditions = "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.p0 = 0";
  for (int i = 1; conditions.size() < 100'000; ++i) {
    conditions += (i % 3 ? " AND T.p" : " OR NOT T.p") + std::to_string(i) + " >= 'v" +
                  std::to_string(i) + "'";
  }
  std::string list = "SELECT * FROM DIGITALTWINS WHERE $dtId IN ['t0'";
  for (int i = 1; list.size() < 100'000; ++i) list += ", 't" + std::to_string(i) + "'";
  list += "]";
  const std::string literal =
      "SELECT * FROM DIGITALTWINS WHERE name = '" + std::string(100'000, 'x') + "'";
  std::string columns = "SELECT T.c0";
  for (int i = 1; columns.size() < 100'000; ++i) columns += ", T.c" + std::to_string(i);
  columns += " FROM DIGITALTWINS T";

  using Named = std::pair<const char*, const std::string*>;
  for (const auto& [name, text] :
       {Named{"AND/OR chain", &conditions}, Named{"IN list", &list},
        Named{"string literal", &literal}, Named{"projections", &columns}}) {
    Query q;
    QueryError error;
    ASSERT_TRUE(parse(*text, q, error, big)) << name << ": " << error.message;
    const double ms = median_ms([&] { (void)parse(*text, q, error, big); });
    std::printf("[ timing   ] parse %zu-byte query (%s): %.2f ms\n", text->size(), name, ms);
    EXPECT_LT(ms, 2000 * kSlowdown) << name;
    // And with the default limits the same text is refused at once.
    EXPECT_NE(error_of(*text).find("the limit is 8000"), std::string::npos);
    expect_sane_outcome(*text, big);
  }
}

// Prints the parse time for the record; the target is checked by bench/micro/query, not here.
TEST(QueryRobustness, TypicalQueriesParseRepeatedly) {
  const std::vector<std::string> queries = {
      "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'robot-17'",
      "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'line-3' AND "
      "IS_OF_MODEL(CT, 'dtmi:castor:factory:Robot;1') AND CT.temperature > 70.5",
      "SELECT a, b FROM DIGITALTWINS MATCH (a)-[:feeds*..3]->(b) WHERE a.$dtId = 'c-1' AND "
      "b.speed IN [1, 2, 3]"};
  for (const std::string& text : queries) {
    constexpr int kRuns = 20'000;
    bool all_parsed = true;
    const double ms = median_ms([&] {
      for (int i = 0; i < kRuns; ++i) {
        Query q;
        QueryError error;
        all_parsed = parse(text, q, error) && all_parsed;
      }
    });
    ASSERT_TRUE(all_parsed) << text;
    const double us = ms * 1000 / kRuns;
    std::printf("[ timing   ] parse %zu-byte query: %.2f us\n", text.size(), us);
  }
}

// Truncation at every byte and single-byte edits of every corpus query: outcomes stay sane.
TEST(QueryRobustness, MutatedCorpusQueriesNeverBreakTheParser) {
  std::vector<std::string> problems;
  std::vector<std::string> texts;
  for (const std::string& file : testing::case_files()) {
    for (const testing::Case& c : testing::read_case_file(file, problems)) {
      if (c.query.size() < 400) texts.push_back(c.query);
    }
  }
  ASSERT_GT(texts.size(), 300u);
  const std::string replacements =
      "'\"[]()-<>*.,|:$\\ \x80\xFF"
      "aZ09";
  for (const std::string& text : texts) {
    for (std::size_t cut = 0; cut <= text.size(); ++cut) expect_sane_outcome(text.substr(0, cut));
    for (std::size_t i = 0; i < text.size(); i += 3) {
      std::string edited = text;
      edited[i] = replacements[i % replacements.size()];
      expect_sane_outcome(edited);
    }
  }
}

TEST(QueryRobustness, RandomBytesAndTokenSoupNeverBreakTheParser) {
  std::mt19937 rng(20240611);  // fixed seed: failures reproduce
  for (int i = 0; i < 5'000; ++i) {
    std::string bytes(rng() % 120, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    expect_sane_outcome(bytes);
  }
  const std::vector<std::string> vocabulary = {"SELECT",
                                               "*",
                                               "FROM",
                                               "DIGITALTWINS",
                                               "RELATIONSHIPS",
                                               "T",
                                               "C",
                                               "r",
                                               "JOIN",
                                               "RELATED",
                                               "MATCH",
                                               "WHERE",
                                               "AND",
                                               "OR",
                                               "NOT",
                                               "IN",
                                               "NIN",
                                               "TOP",
                                               "(",
                                               ")",
                                               "COUNT",
                                               "AS",
                                               "[",
                                               "]",
                                               "[[x]]",
                                               "[[GROUP]]",
                                               ",",
                                               ".",
                                               "..",
                                               "-",
                                               "<",
                                               ">",
                                               "=",
                                               "!=",
                                               "<=",
                                               ">=",
                                               ":",
                                               "|",
                                               "*2",
                                               "'s'",
                                               "\"d\"",
                                               "1",
                                               "2.5",
                                               "-3",
                                               "true",
                                               "null",
                                               "$dtId",
                                               "$metadata",
                                               "IS_OF_MODEL",
                                               "exact",
                                               "'dtmi:a;1'",
                                               "STARTSWITH",
                                               "IS_DEFINED",
                                               "ARRAY_CONTAINS",
                                               "contains",
                                               "name",
                                               "T.x",
                                               "(T)",
                                               "-[]->",
                                               "<-[",
                                               "]-",
                                               "(a)",
                                               "GROUP",
                                               "'",
                                               "\\",
                                               "@"};
  for (int i = 0; i < 30'000; ++i) {
    std::string text = rng() % 4 ? "SELECT " : "";
    const int n = static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) {
      text += vocabulary[rng() % vocabulary.size()];
      if (rng() % 3) text += ' ';
    }
    expect_sane_outcome(text);
  }
}

}  // namespace
}  // namespace castor::query
