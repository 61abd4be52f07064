// The lexer of the twin query language: hands out one token at a time, so the first error
// reported is always the leftmost one. It checks string escapes as it scans and allocates only
// for an error message; a string's value is decoded when the parser keeps it (append_string).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "query/keywords.hpp"
#include "query/query_error.hpp"

namespace castor::query {

enum class TokenKind : std::uint8_t {
  end,
  error,        // see Lexer::error()
  word,         // letters, digits, _ (Token::keyword says whether it spells a keyword)
  system_word,  // $ and a name: $dtId, $metadata, $model, ...
  escaped,      // [[anything]]: a name that is reserved or not plain
  string,       // '...' or "..." with backslash escapes
  integer,      // digits only; Token::integer
  number,       // with a fraction or exponent, or too large for 64 bits; Token::number
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  dot,
  dotdot,
  star,
  minus,
  colon,
  pipe,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
};

struct Token {
  TokenKind kind = TokenKind::end;
  Keyword keyword = Keyword::none;  // word only
  std::uint32_t offset = 0;         // byte offset in the query text
  std::uint32_t size = 0;           // bytes
  std::uint64_t integer = 0;        // integer
  double number = 0;                // number
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next();
  const QueryError& error() const { return error_; }  // after next() returned TokenKind::error

  std::string_view text_of(const Token& t) const { return text_.substr(t.offset, t.size); }
  // word, system_word, escaped: the name itself (an escaped name without its brackets).
  std::string_view name_of(const Token& t) const;
  // string: appends the decoded value. The token must come from this lexer.
  void append_string(const Token& t, std::string& out) const;

 private:
  Token make(TokenKind kind, std::size_t start, std::size_t end) const;
  Token fail(std::size_t offset, std::string message);
  std::uint32_t position(std::size_t offset) const;
  Token scan_word(std::size_t start);
  Token scan_number(std::size_t start);
  Token scan_string(std::size_t start);
  Token scan_escaped_name(std::size_t start);
  Token scan_punctuation(std::size_t start);
  Token unexpected_character(std::size_t at);
  // Length of a valid escape sequence at text_[i] (just after the backslash), or 0.
  std::size_t escape_length(std::size_t i) const;

  std::string_view text_;
  std::size_t pos_ = 0;
  QueryError error_;
};

}  // namespace castor::query
