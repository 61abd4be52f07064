#include "query/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "query/binder.hpp"
#include "query/parser_impl.hpp"
#include "query/utf8.hpp"

namespace castor::query {

Parser::Parser(std::string_view text, const QueryLimits& limits, Query& out)
    : text_(text), limits_(limits), q_(out), lexer_(text) {
  // About one node per eight bytes of a typical query; capped so a long string literal does not
  // reserve for nodes it never has.
  const std::size_t nodes = std::min<std::size_t>(text.size() / 8, 256) + 8;
  q_.exprs.reserve(nodes);
  q_.names.reserve(nodes);
  q_.operands.reserve(nodes);
  q_.text.reserve(std::min<std::size_t>(text.size(), 4096));
}

const Token& Parser::peek(std::size_t ahead) {
  assert(ahead < ahead_.size());
  while (ahead_count_ <= ahead) ahead_[ahead_count_++] = lexer_.next();
  return ahead_[ahead];
}

Token Parser::take() {
  const Token t = peek();
  for (std::size_t i = 1; i < ahead_count_; ++i) ahead_[i - 1] = ahead_[i];
  --ahead_count_;
  return t;
}

bool Parser::accept(TokenKind k) {
  if (!at(k)) return false;
  take();
  return true;
}

bool Parser::accept(Keyword k) {
  if (!at(k)) return false;
  take();
  return true;
}

std::uint32_t Parser::position(std::uint32_t offset) const {
  return locate(text_, offset).position;
}

bool Parser::fail(std::uint32_t offset, std::string message) {
  if (failed_) return false;
  failed_ = true;
  // When the parser stopped at a token the lexer could not read, the lexer's error is the
  // leftmost problem and says more than "expected X".
  if (ahead_count_ > 0 && ahead_[0].kind == TokenKind::error && ahead_[0].offset <= offset) {
    error_ = lexer_.error();
  } else {
    error_ = make_error(text_, offset, std::move(message));
  }
  return false;
}

std::string Parser::describe(const Token& t) const {
  if (t.kind == TokenKind::end) return "the end of the query";
  std::string_view s = lexer_.text_of(t);
  constexpr std::size_t kLongest = 40;
  if (s.size() <= kLongest) return fmt::format("'{}'", s);
  std::size_t cut = kLongest;  // never split a UTF-8 sequence
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return fmt::format("'{}...'", s.substr(0, cut));
}

bool Parser::fail_expected(std::string_view what) {
  const Token& t = peek();
  const std::uint32_t pos = position(t.offset);
  if (t.kind == TokenKind::word && (t.keyword == Keyword::order || t.keyword == Keyword::group)) {
    return fail(t.offset,
                fmt::format("{} BY (position {}) is not supported by the twin query "
                            "language; {}.",
                            lexer_.text_of(t), pos,
                            t.keyword == Keyword::order ? "sort the results in the client"
                                                        : "SELECT COUNT() counts a whole result"));
  }
  return fail(t.offset,
              fmt::format("Expected {} at position {}, found {}.", what, pos, describe(t)));
}

bool Parser::can_start_name(const Token& t, NameUse use) const {
  switch (t.kind) {
    case TokenKind::escaped: return true;
    case TokenKind::system_word: return use == NameUse::property;
    case TokenKind::word:
      return use == NameUse::property ? !is_reserved(t.keyword) : !ends_alias(t.keyword);
    default: return false;
  }
}

bool Parser::take_name(NameUse use, std::string_view role, TextRef& out) {
  const Token& t = peek();
  if (t.kind == TokenKind::system_word && use == NameUse::alias) {
    return fail(t.offset, fmt::format("{} at position {} cannot be {}: names starting with $ are "
                                      "system properties. Choose a name without $.",
                                      describe(t), position(t.offset), role));
  }
  if (t.kind == TokenKind::word && !can_start_name(t, use)) {
    return fail(t.offset, fmt::format("'{}' at position {} is {}; to use it as {}, escape it as "
                                      "[[{}]].",
                                      lexer_.text_of(t), position(t.offset),
                                      is_reserved(t.keyword) ? "a reserved word" : "a keyword here",
                                      role, lexer_.text_of(t)));
  }
  if (!can_start_name(t, use)) return fail_expected(role);
  out = q_.add_text(lexer_.name_of(take()));
  return true;
}

namespace {

// Byte offset of the character with 0-based index `index` (text.size() when there is none).
std::uint32_t offset_of_character(std::string_view text, std::uint32_t index) {
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (seen++ == index) return static_cast<std::uint32_t>(i);
  }
  return static_cast<std::uint32_t>(text.size());
}

}  // namespace

bool Parser::check_source_size() {
  const std::uint32_t limit = limits_.max_characters;
  // A character takes at most 4 bytes: anything longer is over the limit without reading it all.
  const bool surely_long = text_.size() > std::size_t{4} * limit || text_.size() >= UINT32_MAX;
  const Utf8Scan scan = surely_long ? Utf8Scan{} : scan_utf8(text_);
  if (!scan.valid) {
    const auto byte = static_cast<unsigned char>(text_[scan.bad_offset]);
    return fail(scan.bad_offset, fmt::format("The query is not valid UTF-8: byte 0x{:02X} at "
                                             "position {} does not form a character. Send the "
                                             "query as UTF-8 text.",
                                             byte, scan.characters + 1));
  }
  if (surely_long || scan.characters > limit) {
    const std::string count =
        surely_long ? fmt::format("more than {}", limit) : fmt::format("{}", scan.characters);
    return fail(offset_of_character(text_, limit),
                fmt::format("The query has {} characters; the limit is {}. Shorten it, for "
                            "example by splitting long IN lists over several queries.",
                            count, limit));
  }
  if (at(TokenKind::end)) {
    return fail(0, "The query is empty; write a query such as SELECT * FROM DIGITALTWINS.");
  }
  return true;
}

bool Parser::parse_end() {
  if (at(TokenKind::end)) return true;
  return fail_expected(q_.where == kNoExpr ? "WHERE or the end of the query"
                                           : "AND, OR or the end of the query");
}

bool Parser::run(QueryError& error) {
  const bool ok = check_source_size() && parse_select() && parse_from() &&
                  (!accept(Keyword::where) || (q_.where = parse_or()) != kNoExpr) && parse_end() &&
                  bind(text_, q_, error_);
  if (!ok) error = std::move(error_);
  return ok;
}

bool parse(std::string_view text, Query& out, QueryError& error, const QueryLimits& limits) {
  out = Query{};
  Parser parser(text, limits, out);
  return parser.run(error);
}

Result<Query> parse(std::string_view text, const QueryLimits& limits) {
  Query q;
  QueryError error;
  if (!parse(text, q, error, limits)) return error.to_status();
  return q;
}

}  // namespace castor::query
