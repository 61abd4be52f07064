#include "rules/filter_lexer.hpp"

#include <cctype>

namespace castor::rules::filter {
namespace {

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}
bool ident_char(char c) {
  return ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> run() {
    while (true) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ >= text_.size()) break;
      Status s = next();
      if (!s.is_ok()) return s;
    }
    tokens_.push_back({TokenKind::end, text_.size(), ""});
    return std::move(tokens_);
  }

 private:
  Status next() {
    char c = text_[pos_];
    if (ident_start(c)) return identifier();
    if (digit(c) || (c == '-' && pos_ + 1 < text_.size() && digit(text_[pos_ + 1])))
      return number();
    if (c == '\'' || c == '"') return string(c);
    return punctuation(c);
  }

  Status identifier() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && ident_char(text_[pos_])) ++pos_;
    tokens_.push_back(
        {TokenKind::identifier, start, std::string(text_.substr(start, pos_ - start))});
    return Status::ok();
  }

  Status number() {
    std::size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    auto digits = [&] {
      std::size_t from = pos_;
      while (pos_ < text_.size() && digit(text_[pos_])) ++pos_;
      return pos_ > from;
    };
    digits();
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits())
        return filter_error(text_, pos_, "a decimal point needs digits after it, as in 5.5");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return filter_error(text_, pos_, "an exponent needs digits, as in 1e3");
    }
    if (pos_ < text_.size() && ident_char(text_[pos_]))
      return filter_error(text_, start,
                          "a number runs into a name; put a space or an operator between them");
    tokens_.push_back({TokenKind::number, start, std::string(text_.substr(start, pos_ - start))});
    return Status::ok();
  }

  Status string(char quote) {
    std::size_t start = pos_++;
    std::string value;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == quote) {
        if (pos_ < text_.size() && text_[pos_] == quote) {  // '' inside '...' is one quote
          value += quote;
          ++pos_;
          continue;
        }
        tokens_.push_back({TokenKind::string, start, std::move(value)});
        return Status::ok();
      }
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case '\\':
        case '\'':
        case '"':
        case '/': value += e; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        default:
          return filter_error(text_, pos_ - 2,
                              "unknown escape '\\" + std::string(1, e) +
                                  "' in a string; use \\\\, \\', \\\", \\n, \\r or \\t");
      }
    }
    return filter_error(text_, start,
                        std::string("this string is never closed; end it with ") + quote);
  }

  Status punctuation(char c) {
    std::size_t start = pos_++;
    char n = pos_ < text_.size() ? text_[pos_] : '\0';
    auto push = [&](TokenKind k, std::size_t len) {
      pos_ = start + len;
      tokens_.push_back({k, start, std::string(text_.substr(start, len))});
      return Status::ok();
    };
    switch (c) {
      case '(': return push(TokenKind::lparen, 1);
      case ')': return push(TokenKind::rparen, 1);
      case '[': return push(TokenKind::lbracket, 1);
      case ']': return push(TokenKind::rbracket, 1);
      case ',': return push(TokenKind::comma, 1);
      case '.': return push(TokenKind::dot, 1);
      case '=': return push(TokenKind::eq, 1);
      case '!':
        if (n == '=') return push(TokenKind::ne, 2);
        return filter_error(text_, start, "'!' alone is not an operator; use != or NOT");
      case '<':
        if (n == '=') return push(TokenKind::le, 2);
        if (n == '>') return push(TokenKind::ne, 2);
        return push(TokenKind::lt, 1);
      case '>':
        if (n == '=') return push(TokenKind::ge, 2);
        return push(TokenKind::gt, 1);
      default: break;
    }
    std::string shown =
        static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F
            ? "a control or non-ASCII character"
            : "'" + std::string(1, c) + "'";
    return filter_error(text_, start,
                        shown +
                            " cannot appear here; names may use letters, digits, _ and $, "
                            "and other text must be quoted as a string");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

Result<std::vector<Token>> tokenize(std::string_view text) {
  return Lexer(text).run();
}

std::size_t char_position(std::string_view text, std::size_t offset) {
  std::size_t position = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++position;
  return position;
}

Status filter_error(std::string_view text, std::size_t offset, std::string_view problem) {
  return Status(Code::invalid_argument,
                "The filter is invalid at position " + std::to_string(char_position(text, offset)) +
                    ": " + std::string(problem) + ".",
                "EventRouteFilterInvalid");
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::end: return "the end of the filter";
    case TokenKind::string: {
      if (t.text.size() <= 40) return "the string '" + t.text + "'";
      std::size_t cut = 40;  // at a character boundary
      while (cut > 0 && (static_cast<unsigned char>(t.text[cut]) & 0xC0) == 0x80) --cut;
      return "the string '" + t.text.substr(0, cut) + "...'";
    }
    case TokenKind::number: return "the number " + t.text;
    default: return "'" + t.text + "'";
  }
}

}  // namespace castor::rules::filter
