// The tokens of the event route filter language: identifiers ($body, type, AND, STARTS_WITH),
// quoted strings, numbers and operators, each with its byte offset. Errors say where (as a
// 1-based character position) and how to fix it; no input makes it crash or loop.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace castor::rules::filter {

enum class TokenKind : unsigned char {
  end,
  identifier,  // letters, digits, _ and $, not starting with a digit
  string,      // '...' or "..."; `text` holds the decoded value
  number,      // `text` holds the literal as written
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  dot,
  eq,  // =
  ne,  // != or <>
  lt,
  le,
  gt,
  ge,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t offset = 0;  // byte offset in the filter text
  std::string text;
};

// Splits `text` into tokens, ending with one TokenKind::end.
Result<std::vector<Token>> tokenize(std::string_view text);

// The 1-based character (UTF-8 code point) position of byte `offset` in `text`.
std::size_t char_position(std::string_view text, std::size_t offset);

// 400 EventRouteFilterInvalid: "The filter is invalid at position N: <problem>".
Status filter_error(std::string_view text, std::size_t offset, std::string_view problem);

// How a token appears in messages: 'AND', the string 'abc', the end of the filter.
std::string describe(const Token& t);

}  // namespace castor::rules::filter
