#include "common/json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/double_text.hpp"

namespace castor::json {
namespace {

using boost::json::error_code;
using boost::json::string_view;

// Builds a boost::json::value through value_stack and rejects duplicate keys.
class StrictHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  boost::json::value_stack st;
  std::string duplicate_key;  // set when a duplicate was found

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, error_code&) {
    keys_.pop_back();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code& ec) {
    key_.append(s.data(), s.size());
    if (!keys_.back().insert(key_)) {
      duplicate_key = key_;
      ec = boost::json::error::syntax;
      return false;
    }
    st.push_key(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number_.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number_.clear();
    st.push_uint64(u);
    return true;
  }
  // Boost.JSON 1.81 may be off by one ulp on long mantissas; std::from_chars rounds correctly,
  // so a value printed shortest-round-trip reads back as the same double (history export/import).
  bool on_double(double d, string_view s, error_code&) {
    number_.append(s.data(), s.size());
    double exact = 0;
    auto r = std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    st.push_double(r.ec == std::errc() && r.ptr == number_.data() + number_.size() ? exact : d);
    number_.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  // Keys seen in one open object: a short vector, a hash set once it grows.
  class KeySet {
   public:
    bool insert(const std::string& k) {
      if (!big_.empty()) return big_.insert(k).second;
      for (const auto& s : small_)
        if (s == k) return false;
      if (small_.empty()) small_.reserve(kSmall + 1);  // one allocation, not one per doubling
      small_.push_back(k);
      if (small_.size() > kSmall) {
        big_.insert(small_.begin(), small_.end());
        small_.clear();
      }
      return true;
    }

   private:
    static constexpr std::size_t kSmall = 16;
    std::vector<std::string> small_;
    std::unordered_set<std::string> big_;
  };
  std::vector<KeySet> keys_;
  std::string key_;
  std::string number_;  // the text of a number split across buffers
};

void locate(std::string_view text, std::size_t offset, ParseError& e) {
  e.offset = offset;
  e.line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++e.line;
      line_start = i + 1;
    }
  }
  e.column = offset - line_start + 1;
}

std::string describe(const error_code& ec) {
  namespace e = boost::json;
  if (ec == e::error::too_deep) return "nesting is too deep";
  if (ec == e::error::syntax) return "syntax error";
  if (ec == e::error::extra_data) return "unexpected data after the JSON value";
  if (ec == e::error::incomplete) return "the JSON text ends too early";
  if (ec == e::error::exponent_overflow) return "number is out of range";
  if (ec == e::error::invalid_escape) return "invalid escape sequence in a string";
  if (ec == e::error::expected_hex_digit) return "\\u escape needs four hex digits";
  if (ec == e::error::illegal_leading_surrogate || ec == e::error::illegal_trailing_surrogate)
    return "invalid UTF-16 surrogate in a \\u escape";
  if (ec == e::error::syntax) return "syntax error";
  return ec.message();
}

}  // namespace

std::string ParseError::to_string() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + message;
}

bool parse(std::string_view text, value& out, ParseError& error, const ParseLimits& limits) {
  out = nullptr;
  error = {};
  if (text.size() > limits.max_bytes) {
    error.message = "document is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                    std::to_string(limits.max_bytes) + " bytes";
    return false;
  }
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    error.message = "document starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM";
    return false;
  }
  if (text.size() >= 2 && ((static_cast<unsigned char>(text[0]) == 0xFF &&
                            static_cast<unsigned char>(text[1]) == 0xFE) ||
                           (static_cast<unsigned char>(text[0]) == 0xFE &&
                            static_cast<unsigned char>(text[1]) == 0xFF))) {
    error.message = "document is UTF-16 encoded; JSON must be UTF-8";
    return false;
  }
  boost::json::parse_options opt;
  opt.max_depth = limits.max_depth;
  opt.allow_comments = false;
  opt.allow_trailing_commas = false;
  opt.allow_invalid_utf8 = false;
  boost::json::basic_parser<StrictHandler> p(opt);
  p.handler().st.reset();
  error_code ec;
  std::size_t n = p.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    std::size_t at = n;
    if (!p.handler().duplicate_key.empty()) {
      error.message = "duplicate key \"" + p.handler().duplicate_key + "\" in an object";
    } else if (ec == boost::json::error::syntax && at < text.size() &&
               (static_cast<unsigned char>(text[at]) >= 0x80)) {
      error.message = "invalid UTF-8 byte sequence";
    } else if (ec == boost::json::error::syntax && at < text.size() && text[at] == '/') {
      error.message = "comments are not allowed in JSON";
    } else if (ec == boost::json::error::syntax && at < text.size() && (text[at] == ']' || text[at] == '}')) {
      error.message = "trailing comma before '" + std::string(1, text[at]) + "'";
    } else {
      error.message = describe(ec);
    }
    locate(text, at, error);
    return false;
  }
  if (n < text.size()) {
    error.message = "unexpected data after the JSON value";
    locate(text, n, error);
    return false;
  }
  out = p.handler().st.release();
  return true;
}

Result<value> parse(std::string_view text, const ParseLimits& limits) {
  value v;
  ParseError e;
  if (!parse(text, v, e, limits)) return invalid_argument("invalid JSON: " + e.to_string());
  return v;
}

// Whether `s` holds a byte JSON must escape (below 0x20, '"' or '\\'), eight bytes at a time: a
// byte b of a word w is below n exactly when ((w - n per byte) & ~w) has b's high bit set, and
// equal to c when w ^ (c per byte) has a zero byte there. Renderers write many short, clean
// names and values, which then cost a test per word instead of a branch per byte.
bool needs_escape(std::string_view s) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t quote = w ^ (kOnes * '"');
    const std::uint64_t backslash = w ^ (kOnes * '\\');
    const std::uint64_t hit = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) |
                              ((backslash - kOnes) & ~backslash);
    if ((hit & kHighs) != 0) return true;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return true;
  }
  return false;
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  if (!needs_escape(s)) {
    char buf[128];
    if (s.size() + 2 > sizeof buf) {
      out.push_back('"');
      out.append(s);
      out.push_back('"');
      return;
    }
    buf[0] = '"';
    std::memcpy(buf + 1, s.data(), s.size());
    buf[s.size() + 1] = '"';
    out.append(buf, s.size() + 2);  // one append: most strings rendered are short
    return;
  }
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[kDoubleTextMax];
  out.append(buf, format_double(buf, d));
}

void serialize_to(std::string& out, const value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case boost::json::kind::int64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, r.ptr);
      return;
    }
    case boost::json::kind::uint64: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, r.ptr);
      return;
    }
    case boost::json::kind::double_: append_double(out, v.get_double()); return;
    case boost::json::kind::string: {
      const auto& s = v.get_string();
      append_string(out, std::string_view(s.data(), s.size()));
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        serialize_to(out, e);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, std::string_view(kv.key().data(), kv.key().size()));
        out.push_back(':');
        serialize_to(out, kv.value());
      }
      out.push_back('}');
      return;
    }
  }
}

std::string serialize(const value& v) {
  std::string out;
  serialize_to(out, v);
  return out;
}

std::string_view kind_name(const value& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return "number";
    case boost::json::kind::string: return "string";
    case boost::json::kind::array: return "array";
    case boost::json::kind::object: return "object";
  }
  return "unknown";
}

bool as_int64(const value& v, long long& out) noexcept {
  switch (v.kind()) {
    case boost::json::kind::int64: out = v.get_int64(); return true;
    case boost::json::kind::uint64:
      if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return false;
      out = static_cast<long long>(v.get_uint64());
      return true;
    default: return false;
  }
}

bool as_double(const value& v, double& out) noexcept {
  switch (v.kind()) {
    case boost::json::kind::int64: out = static_cast<double>(v.get_int64()); return true;
    case boost::json::kind::uint64: out = static_cast<double>(v.get_uint64()); return true;
    case boost::json::kind::double_: out = v.get_double(); return true;
    default: return false;
  }
}

}  // namespace castor::json
