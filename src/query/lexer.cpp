#include "query/lexer.hpp"

#include <fmt/format.h>

#include <charconv>
#include <utility>

#include "query/utf8.hpp"

namespace castor::query {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Unicode White_Space beyond ASCII. The reference's own samples separate tokens with U+202F,
// so text copied from documentation carries it.
bool is_unicode_space(char32_t cp) {
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at text[i], or -1.
long hex4(std::string_view text, std::size_t i) {
  if (i + 4 > text.size()) return -1;
  long v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int h = hex_value(text[i + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool is_high_surrogate(long cp) {
  return cp >= 0xD800 && cp <= 0xDBFF;
}
bool is_low_surrogate(long cp) {
  return cp >= 0xDC00 && cp <= 0xDFFF;
}

// The code point at text[i] (valid UTF-8 is guaranteed by the parser's first pass).
char32_t code_point_at(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const auto cont = [&](std::size_t k) {
    return i + k < text.size() ? static_cast<char32_t>(text[i + k]) & 0x3F : 0;
  };
  if (c < 0x80) return c;
  if (c < 0xE0) return ((c & 0x1F) << 6) | cont(1);
  if (c < 0xF0) return ((c & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  return ((c & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
}

std::size_t code_point_size(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

// How an unexpected character looks in a message: 'x', or 'é' (U+00E9), or U+0007.
std::string describe_character(std::string_view text, std::size_t i) {
  const char32_t cp = code_point_at(text, i);
  if (cp >= 0x20 && cp < 0x7F) return fmt::format("'{}'", static_cast<char>(cp));
  if (cp < 0xA0) return fmt::format("U+{:04X}", static_cast<unsigned>(cp));  // C0 and C1 controls
  const std::size_t n = code_point_size(static_cast<unsigned char>(text[i]));
  return fmt::format("'{}' (U+{:04X})", text.substr(i, n), static_cast<unsigned>(cp));
}

}  // namespace

std::uint32_t Lexer::position(std::size_t offset) const {
  return locate(text_, static_cast<std::uint32_t>(offset)).position;
}

Token Lexer::make(TokenKind kind, std::size_t start, std::size_t end) const {
  Token t;
  t.kind = kind;
  t.offset = static_cast<std::uint32_t>(start);
  t.size = static_cast<std::uint32_t>(end - start);
  return t;
}

Token Lexer::fail(std::size_t offset, std::string message) {
  error_ = make_error(text_, static_cast<std::uint32_t>(offset), std::move(message));
  pos_ = text_.size();  // every later call returns end
  Token t = make(TokenKind::error, offset, offset);
  return t;
}

Token Lexer::next() {
  while (pos_ < text_.size()) {
    const auto c = static_cast<unsigned char>(text_[pos_]);
    if (is_space(static_cast<char>(c))) {
      ++pos_;
    } else if (c >= 0x80 && is_unicode_space(code_point_at(text_, pos_))) {
      pos_ += code_point_size(c);
    } else {
      break;
    }
  }
  if (pos_ >= text_.size()) return make(TokenKind::end, text_.size(), text_.size());
  const std::size_t start = pos_;
  const char c = text_[start];
  if (is_name_start(c) || c == '$') return scan_word(start);
  if (is_digit(c)) return scan_number(start);
  if (c == '\'' || c == '"') return scan_string(start);
  if (c == '[' && start + 1 < text_.size() && text_[start + 1] == '[' &&
      (start + 2 >= text_.size() || text_[start + 2] != '[')) {
    // Exactly two brackets open an escaped name; with three, as in -[[[GROUP]]]->, the first one
    // is the MATCH bracket and the escape starts after it.
    return scan_escaped_name(start);
  }
  return scan_punctuation(start);
}

Token Lexer::scan_word(std::size_t start) {
  std::size_t i = start;
  const bool system = text_[i] == '$';
  if (system) {
    ++i;
    if (i >= text_.size() || !is_name_start(text_[i])) {
      return fail(start, fmt::format("A '$' at position {} must start a system property name such "
                                     "as $dtId or $metadata; write a name right after it.",
                                     position(start)));
    }
  }
  while (i < text_.size() && is_name_char(text_[i])) ++i;
  pos_ = i;
  Token t = make(system ? TokenKind::system_word : TokenKind::word, start, i);
  if (!system) t.keyword = find_keyword(text_of(t));
  return t;
}

Token Lexer::scan_number(std::size_t start) {
  std::size_t i = start;
  bool fraction = false;
  while (i < text_.size() && is_digit(text_[i])) ++i;
  // A dot is a decimal point only before a digit: in *1..3 the dots are a range.
  if (i + 1 < text_.size() && text_[i] == '.' && is_digit(text_[i + 1])) {
    fraction = true;
    for (++i; i < text_.size() && is_digit(text_[i]);) ++i;
  }
  if (i < text_.size() && (text_[i] == 'e' || text_[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text_.size() && (text_[j] == '+' || text_[j] == '-')) ++j;
    if (j < text_.size() && is_digit(text_[j])) {
      fraction = true;
      for (i = j; i < text_.size() && is_digit(text_[i]);) ++i;
    }
  }
  if (i < text_.size() && (is_name_char(text_[i]) || text_[i] == '$')) {
    std::size_t end = i;
    while (end < text_.size() && is_name_char(text_[end])) ++end;
    const auto word = text_.substr(start, end - start);
    return fail(start, fmt::format("'{}' at position {} is neither a number nor a name: a name "
                                   "cannot start with a digit. Escape it as [[{}]].",
                                   word, position(start), word));
  }
  pos_ = i;
  Token t = make(TokenKind::integer, start, i);
  const char* first = text_.data() + start;
  const char* last = text_.data() + i;
  if (!fraction && std::from_chars(first, last, t.integer).ec == std::errc()) return t;
  t.kind = TokenKind::number;
  if (std::from_chars(first, last, t.number).ec != std::errc()) {
    return fail(start, fmt::format("The number {} at position {} is too large; numbers must fit "
                                   "in a 64-bit floating-point value.",
                                   text_of(t), position(start)));
  }
  return t;
}

std::size_t Lexer::escape_length(std::size_t i) const {
  if (i >= text_.size()) return 0;
  switch (text_[i]) {
    case '\'':
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': return 1;
    case 'u': break;
    default: return 0;
  }
  const long cp = hex4(text_, i + 1);
  if (cp < 0 || is_low_surrogate(cp)) return 0;
  if (!is_high_surrogate(cp)) return 5;
  // A high surrogate must be followed by \u and a low surrogate: together they are one character.
  if (i + 6 < text_.size() && text_[i + 5] == '\\' && text_[i + 6] == 'u' &&
      is_low_surrogate(hex4(text_, i + 7))) {
    return 11;
  }
  return 0;
}

Token Lexer::scan_string(std::size_t start) {
  const char quote = text_[start];
  std::size_t i = start + 1;
  while (i < text_.size() && text_[i] != quote) {
    if (text_[i] != '\\') {
      ++i;
      continue;
    }
    const std::size_t n = escape_length(i + 1);
    if (n == 0) {
      if (i + 1 >= text_.size()) {  // a backslash at the very end: unterminated
        i = text_.size();
        break;
      }
      const std::size_t k = code_point_size(static_cast<unsigned char>(text_[i + 1]));
      return fail(i, fmt::format("Invalid escape sequence '\\{}' at position {}; the escapes are "
                                 "\\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX (a surrogate "
                                 "pair for characters above U+FFFF). Write \\\\ for a backslash.",
                                 text_.substr(i + 1, k), position(i)));
    }
    i += 1 + n;
  }
  if (i >= text_.size()) {
    return fail(start, fmt::format("Unterminated string literal starting at position {}; close it "
                                   "with a matching {} quote (escape quotes inside it as \\{}).",
                                   position(start), quote == '\'' ? "single" : "double", quote));
  }
  pos_ = i + 1;
  return make(TokenKind::string, start, pos_);
}

Token Lexer::scan_escaped_name(std::size_t start) {
  const std::size_t close = text_.find("]]", start + 2);
  const std::size_t line_end = text_.find_first_of("\r\n", start + 2);
  if (close == std::string_view::npos || line_end < close) {
    return fail(start, fmt::format("Unterminated escaped name starting at position {}; close it "
                                   "with ]] on the same line, as in [[GROUP]].",
                                   position(start)));
  }
  if (close == start + 2) {
    return fail(start, fmt::format("Empty escaped name [[]] at position {}; put the name between "
                                   "the brackets, as in [[GROUP]].",
                                   position(start)));
  }
  for (std::size_t i = start + 2; i < close; ++i) {
    if (static_cast<unsigned char>(text_[i]) < 0x20) {
      return fail(i, fmt::format("Control character {} at position {} inside an escaped name; "
                                 "names cannot contain control characters.",
                                 describe_character(text_, i), position(i)));
    }
  }
  pos_ = close + 2;
  return make(TokenKind::escaped, start, pos_);
}

Token Lexer::scan_punctuation(std::size_t start) {
  const char c = text_[start];
  const char d = start + 1 < text_.size() ? text_[start + 1] : '\0';
  auto one = [&](TokenKind k) {
    pos_ = start + 1;
    return make(k, start, pos_);
  };
  auto two = [&](TokenKind k) {
    pos_ = start + 2;
    return make(k, start, pos_);
  };
  switch (c) {
    case '(': return one(TokenKind::lparen);
    case ')': return one(TokenKind::rparen);
    case '[': return one(TokenKind::lbracket);
    case ']': return one(TokenKind::rbracket);
    case ',': return one(TokenKind::comma);
    case '*': return one(TokenKind::star);
    case '-': return one(TokenKind::minus);
    case ':': return one(TokenKind::colon);
    case '|': return one(TokenKind::pipe);
    case '=': return one(TokenKind::eq);
    case '.': return d == '.' ? two(TokenKind::dotdot) : one(TokenKind::dot);
    case '<':
      if (d == '=') return two(TokenKind::le);
      if (d == '>') {
        return fail(start, fmt::format("'<>' at position {} is not an operator; write != for "
                                       "'not equal'.",
                                       position(start)));
      }
      return one(TokenKind::lt);
    case '>': return d == '=' ? two(TokenKind::ge) : one(TokenKind::gt);
    case '!':
      if (d == '=') return two(TokenKind::ne);
      return fail(start, fmt::format("'!' at position {} must be followed by '=' (!= means 'not "
                                     "equal'); write NOT to negate a condition.",
                                     position(start)));
    default: return unexpected_character(start);
  }
}

Token Lexer::unexpected_character(std::size_t at) {
  const char c = text_[at];
  if (c == '@') {
    return fail(at, fmt::format("Query parameters such as @name (position {}) are not supported; "
                                "write the value into the query text.",
                                position(at)));
  }
  if (c == ';') {
    return fail(at, fmt::format("Unexpected ';' at position {}: a request holds exactly one query "
                                "and needs no terminator. Remove the ';'.",
                                position(at)));
  }
  return fail(at, fmt::format("Unexpected character {} at position {}. Names are ASCII letters, "
                              "digits and _ (escape others as [[name]]); text must be quoted.",
                              describe_character(text_, at), position(at)));
}

std::string_view Lexer::name_of(const Token& t) const {
  if (t.kind == TokenKind::escaped) return text_.substr(t.offset + 2, t.size - 4);
  return text_of(t);
}

void Lexer::append_string(const Token& t, std::string& out) const {
  const std::string_view body = text_.substr(t.offset + 1, t.size - 2);
  std::size_t i = 0;
  while (i < body.size()) {
    const std::size_t slash = body.find('\\', i);
    out.append(body.substr(i, slash - i));
    if (slash == std::string_view::npos) return;
    const char e = body[slash + 1];
    i = slash + 2;
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        long cp = hex4(body, i);
        i += 4;
        if (is_high_surrogate(cp)) {  // scan_string checked the low half follows
          cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(body, i + 2) - 0xDC00);
          i += 6;
        }
        append_utf8(out, static_cast<char32_t>(cp));
        break;
      }
      default: out.push_back(e); break;  // ' " \ /
    }
  }
}

}  // namespace castor::query
