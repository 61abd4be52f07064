// Tokens as the parser sees them: keywords, escaped names, hop ranges, numbers, escapes, spaces.
#include "query/lexer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "query/keywords.hpp"

namespace castor::query {
namespace {

std::vector<Token> lex(std::string_view text) {
  Lexer lexer(text);
  std::vector<Token> out;
  for (;;) {
    const Token t = lexer.next();
    out.push_back(t);
    if (t.kind == TokenKind::end || t.kind == TokenKind::error) return out;
  }
}

std::vector<TokenKind> kinds(std::string_view text) {
  std::vector<TokenKind> out;
  for (const Token& t : lex(text)) out.push_back(t.kind);
  return out;
}

using K = TokenKind;

TEST(QueryLexer, SplitsAQueryIntoTokens) {
  const std::string text = "SELECT T.$dtId, [[Group]] FROM x WHERE a <= -1.5e3 AND b != 'it\\'s'";
  Lexer lexer(text);
  std::vector<std::string> texts;
  for (Token t = lexer.next(); t.kind != K::end; t = lexer.next()) {
    ASSERT_NE(t.kind, K::error) << lexer.error().message;
    texts.emplace_back(lexer.text_of(t));
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"SELECT", "T", ".", "$dtId", ",", "[[Group]]", "FROM",
                                             "x", "WHERE", "a", "<=", "-", "1.5e3", "AND", "b",
                                             "!=", "'it\\'s'"}));
}

TEST(QueryLexer, KeywordsAreCaseInsensitiveWholeWords) {
  const auto t = lex("select SeLeCt SELECTS digitalTwins $select");
  EXPECT_EQ(t[0].keyword, Keyword::select);
  EXPECT_EQ(t[1].keyword, Keyword::select);
  EXPECT_EQ(t[2].keyword, Keyword::none);
  EXPECT_EQ(t[3].keyword, Keyword::digitaltwins);
  EXPECT_EQ(t[4].kind, K::system_word);
  EXPECT_EQ(t[4].keyword, Keyword::none);
}

TEST(QueryLexer, ReservedWordsAreExactlyTheDocumentedList) {
  // reference-query-reserved.md, typed in by hand.
  for (const char* w :
       {"ALL",       "AND",          "AS",         "ASC",          "AVG",
        "BY",        "COUNT",        "DESC",       "DEVICES_JOBS", "DEVICES_MODULES",
        "DEVICES",   "ENDS_WITH",    "FALSE",      "FROM",         "GROUP",
        "IN",        "IS_BOOL",      "IS_DEFINED", "IS_NULL",      "IS_NUMBER",
        "IS_OBJECT", "IS_PRIMITIVE", "IS_STRING",  "MAX",          "MIN",
        "NOT",       "NOT_IN",       "NULL",       "OR",           "ORDER",
        "SELECT",    "STARTS_WITH",  "SUM",        "TOP",          "TRUE",
        "WHERE",     "IS_OF_MODEL"}) {
    EXPECT_TRUE(is_reserved(find_keyword(w))) << w;
  }
  for (const char* w : {"JOIN", "RELATED", "MATCH", "DIGITALTWINS", "RELATIONSHIPS", "NIN", "EXACT",
                        "CONTAINS", "STARTSWITH", "ENDSWITH", "ARRAY_CONTAINS", "name"}) {
    EXPECT_FALSE(is_reserved(find_keyword(w))) << w;
  }
}

TEST(QueryLexer, FindsEveryFunctionInAnyCase) {
  for (const char* w :
       {"ARRAY_CONTAINS", "contains", "EndsWith", "is_bool", "IS_DEFINED", "is_null", "IS_NUMBER",
        "is_object", "IS_OF_MODEL", "is_primitive", "IS_STRING", "startswith"}) {
    const auto f = find_function(w);
    ASSERT_TRUE(f.has_value()) << w;
    std::string upper(w);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(function_name(*f), upper);
  }
  EXPECT_FALSE(find_function("STARTS_WITH").has_value());
  EXPECT_FALSE(find_function("ARRAY_CONTAINSX").has_value());
}

TEST(QueryLexer, TellsMatchBracketsFromEscapedNames) {
  EXPECT_EQ(kinds("-[[[GROUP]]]->"), (std::vector<K>{K::minus, K::lbracket, K::escaped, K::rbracket,
                                                     K::minus, K::gt, K::end}));
  EXPECT_EQ(kinds("[[a b]]"), (std::vector<K>{K::escaped, K::end}));
  EXPECT_EQ(kinds("[ [a]]"),
            (std::vector<K>{K::lbracket, K::lbracket, K::word, K::rbracket, K::rbracket, K::end}));
  Lexer lexer("[[my key]]");
  EXPECT_EQ(lexer.name_of(lexer.next()), "my key");
}

TEST(QueryLexer, ReadsHopRangesAndNumbers) {
  EXPECT_EQ(kinds("*1..3"), (std::vector<K>{K::star, K::integer, K::dotdot, K::integer, K::end}));
  EXPECT_EQ(kinds("*..3"), (std::vector<K>{K::star, K::dotdot, K::integer, K::end}));
  EXPECT_EQ(kinds("1."), (std::vector<K>{K::integer, K::dot, K::end}));
  const auto t = lex("1.5 1e5 18446744073709551615 18446744073709551616 0007");
  EXPECT_EQ(t[0].kind, K::number);
  EXPECT_DOUBLE_EQ(t[0].number, 1.5);
  EXPECT_EQ(t[1].kind, K::number);
  EXPECT_DOUBLE_EQ(t[1].number, 1e5);
  EXPECT_EQ(t[2].kind, K::integer);
  EXPECT_EQ(t[2].integer, 18446744073709551615ull);
  EXPECT_EQ(t[3].kind, K::number);  // past 64 bits
  EXPECT_EQ(t[4].integer, 7u);
}

TEST(QueryLexer, DecodesStringEscapes) {
  const std::string text = R"('a\tb' "\u00e9\"" '\uD83D\uDE00' 'x\\y\/z')";
  Lexer lexer(text);
  std::vector<std::string> values;
  for (Token t = lexer.next(); t.kind == K::string; t = lexer.next()) {
    std::string v;
    lexer.append_string(t, v);
    values.push_back(v);
  }
  EXPECT_EQ(values, (std::vector<std::string>{"a\tb", "\xC3\xA9\"", "\xF0\x9F\x98\x80", "x\\y/z"}));
}

TEST(QueryLexer, SkipsUnicodeSpacesButNotZeroWidthOnes) {
  EXPECT_EQ(kinds("a\xC2\xA0"
                  "b\xE2\x80\xAF"
                  "c\xE3\x80\x80"),
            (std::vector<K>{K::word, K::word, K::word, K::end}));
  const auto t =
      lex("a\xE2\x80\x8B"
          "b");  // U+200B ZERO WIDTH SPACE
  EXPECT_EQ(t.back().kind, K::error);
}

TEST(QueryLexer, ReportsTheLeftmostProblemWithItsPosition) {
  Lexer lexer("x = 'abc");
  EXPECT_EQ(lexer.next().kind, K::word);
  EXPECT_EQ(lexer.next().kind, K::eq);
  EXPECT_EQ(lexer.next().kind, K::error);
  EXPECT_EQ(lexer.error().offset, 4u);
  EXPECT_EQ(lexer.error().position, 5u);
  EXPECT_NE(lexer.error().message.find("Unterminated string literal starting at position 5"),
            std::string::npos);
  EXPECT_EQ(lexer.next().kind, K::end);  // stays stopped
}

}  // namespace
}  // namespace castor::query
