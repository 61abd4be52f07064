// InfluxDB line protocol as Castor reads it: the measurement is the twin id, the only tag is
// `component`, each field is one observation, and the optional timestamp is in nanoseconds.
// Escapes as in InfluxDB: `\,` `\ ` `\=` in keys and measurements, `\"` `\\` in string fields.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>

#include "ingest/batch_parsers.hpp"

namespace castor::ingest {
namespace {

struct LineError {
  std::string message;
};

// The characters that end a token, and the backslash that starts an escape, as a table: one load
// per character instead of comparing it with each delimiter.
struct Stops {
  std::array<bool, 256> at{};
  constexpr explicit Stops(std::string_view delimiters) {
    for (char c : delimiters) at[static_cast<unsigned char>(c)] = true;
    at[static_cast<unsigned char>('\\')] = true;
  }
  bool stop(char c) const { return at[static_cast<unsigned char>(c)]; }
  bool delimiter(char c) const { return c != '\\' && stop(c); }
};
constexpr Stops kAfterTwin(", "), kAfterTagKey("= ,"), kAfterFieldKey("=, ");

class LineReader {
 public:
  LineReader(std::string_view line) : s_(line) {}

  // Reads up to an unescaped delimiter in `stops` (not consumed); unescapes `\x` for x in
  // `escapable`. The token is a slice of the line unless it holds escapes; then it is unescaped
  // into `buf`, which the returned view points into.
  std::string_view token(const Stops& stops, std::string_view escapable, std::string& buf) {
    // Fast path: no backslash before the delimiter, so the token is one slice of the line.
    std::size_t end = pos_;
    while (end < s_.size() && !stops.stop(s_[end])) ++end;
    if (end == s_.size() || s_[end] != '\\') {
      std::string_view out = s_.substr(pos_, end - pos_);
      pos_ = end;
      return out;
    }
    buf.assign(s_.substr(pos_, end - pos_));
    pos_ = end;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size() &&
          escapable.find(s_[pos_ + 1]) != std::string_view::npos) {
        buf.push_back(s_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (stops.delimiter(c)) break;
      buf.push_back(c);
      ++pos_;
    }
    return buf;
  }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool done() const { return pos_ >= s_.size(); }
  void skip() { ++pos_; }
  std::string_view rest() const { return s_.substr(pos_); }
  std::size_t pos() const { return pos_; }

  // A field value up to an unquoted ',' or ' '. Strings keep their quotes for the caller. An
  // unquoted value is a slice of the line (no copy); `unescaped` holds a string's text.
  bool value(std::string_view& out, std::string& unescaped) {
    if (!at('"')) {
      std::size_t end = pos_;
      while (end < s_.size() && s_[end] != ',' && s_[end] != ' ') ++end;
      out = s_.substr(pos_, end - pos_);
      pos_ = end;
      return !out.empty();
    }
    if (!quoted(unescaped)) return false;
    out = unescaped;
    return true;
  }

 private:
  // A double-quoted string with its quotes, `\"` and `\\` unescaped; false if unterminated.
  bool quoted(std::string& out) {
    out.assign(1, '"');
    ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '"' || s_[pos_ + 1] == '\\')) {
        out.push_back(s_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      ++pos_;
      if (c == '"') {
        out.push_back('"');
        return true;
      }
      out.push_back(c);
    }
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Short decimals ("21.347", "-0.5", "1200") without calling from_chars: at most 15 digits make
// an integer below 2^53, and a power of ten up to 10^15 is exact too, so one IEEE division gives
// the correctly rounded double, the same as from_chars. False for anything else (exponents, long
// mantissas, a leading or trailing '.'), which the caller hands to from_chars.
bool short_decimal(std::string_view raw, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = raw.data();
  const char* e = p + raw.size();
  const bool negative = p < e && *p == '-';
  if (negative) ++p;
  if (p == e || *p == '.' || e[-1] == '.') return false;
  std::uint64_t m = 0;
  int digits = 0, frac = -1;
  for (; p < e; ++p) {
    const char c = *p;
    if (c >= '0' && c <= '9') {
      if (++digits > 15) return false;
      m = m * 10 + static_cast<unsigned>(c - '0');
      if (frac >= 0) ++frac;
    } else if (c == '.' && frac < 0) {
      frac = 0;
    } else {
      return false;
    }
  }
  double d = static_cast<double>(m);
  if (frac > 0) d /= kPow10[frac];
  out = negative ? -d : d;
  return true;
}

// A field value as JSON: 1.5 / 1e3 (float), 12i (integer), 12u (unsigned), t/true/f/false, "text".
bool field_value(std::string_view raw, json::value& out) {
  if (raw.size() >= 2 && raw.front() == '"') {
    out = boost::json::string(raw.substr(1, raw.size() - 2));
    return true;
  }
  // Numbers never start with a letter: compare the boolean spellings only when one might match.
  const char lead = raw.front();
  if (lead == 't' || lead == 'T') {
    if (raw == "t" || raw == "T" || raw == "true" || raw == "True" || raw == "TRUE") {
      out = true;
      return true;
    }
  } else if (lead == 'f' || lead == 'F') {
    if (raw == "f" || raw == "F" || raw == "false" || raw == "False" || raw == "FALSE") {
      out = false;
      return true;
    }
  }
  const char* b = raw.data();
  const char* e = raw.data() + raw.size();
  if (raw.back() == 'i') {
    std::int64_t n = 0;
    auto r = std::from_chars(b, e - 1, n);
    if (r.ec != std::errc() || r.ptr != e - 1) return false;
    out = n;
    return true;
  }
  if (raw.back() == 'u') {
    std::uint64_t n = 0;
    auto r = std::from_chars(b, e - 1, n);
    if (r.ec != std::errc() || r.ptr != e - 1) return false;
    out = n;
    return true;
  }
  double d = 0;
  if (short_decimal(raw, d)) {
    out = d;
    return true;
  }
  auto r = std::from_chars(b, e, d);
  if (r.ec != std::errc() || r.ptr != e || d != d) return false;
  out = d;
  return true;
}

// Parses one non-empty, non-comment line into `out`; returns what is wrong, or "".
std::string parse_line(std::string_view line, std::vector<Observation>& out) {
  LineReader r(line);
  std::string twin_buf, component_buf, key_buf, value_buf, name_buf;
  std::string_view twin = r.token(kAfterTwin, ", =", twin_buf);
  if (twin.empty()) return "the line must start with a twin id";
  std::string_view component;
  while (r.at(',')) {
    r.skip();
    std::string_view key = r.token(kAfterTagKey, ", =", key_buf);
    if (!r.at('=')) return "tag '" + std::string(key) + "' has no value (write component=<name>)";
    r.skip();
    std::string_view value = r.token(kAfterTwin, ", =", value_buf);
    if (key != "component")
      return "unknown tag '" + std::string(key) + "': the only tag is component";
    if (value.empty()) return "the component tag is empty";
    if (value.data() == value_buf.data()) {  // unescaped into the scratch: keep it apart
      component_buf = std::move(value_buf);
      value = component_buf;
    }
    component = value;
  }
  if (!r.at(' ')) return "expected a space and fields after the twin id";
  while (r.at(' ')) r.skip();
  std::size_t first = out.size();
  std::string_view raw;
  std::string unescaped;
  while (true) {
    std::string_view name = r.token(kAfterFieldKey, ", =", name_buf);
    if (name.empty() || !r.at('='))
      return "expected <name>=<value> at column " + std::to_string(r.pos() + 1);
    r.skip();
    if (!r.value(raw, unescaped))
      return "field '" + std::string(name) + "' has no value or an unterminated string";
    // Built in place: the caller drops every observation of a line that fails.
    Observation& o = out.emplace_back();
    o.twin = twin;
    o.component = component;
    o.name = name;
    if (!field_value(raw, o.value))
      return "field '" + o.name + "' has an unreadable value '" + std::string(raw) +
             "' (numbers: 1.5, 12i for integers; booleans: true/false; strings in double quotes)";
    if (!r.at(',')) break;
    r.skip();
  }
  while (r.at(' ')) r.skip();
  std::int64_t ts = 0;
  if (!r.done()) {
    std::string_view rest = r.rest();
    while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
    auto res = std::from_chars(rest.data(), rest.data() + rest.size(), ts);
    if (res.ec != std::errc() || res.ptr != rest.data() + rest.size() || ts <= 0)
      return "the timestamp must be a positive integer of nanoseconds since 1970, not '" +
             std::string(rest) + "'";
  }
  for (std::size_t i = first; i < out.size(); ++i) out[i].ts_ns = ts;
  return {};
}

// How often `c` occurs in `s`, eight bytes at a time (std::count goes byte by byte here, and a
// body is hundreds of KB): a byte of `w ^ pattern` is zero exactly where `c` is, and the
// expression below sets the top bit of exactly those bytes (no borrow runs across bytes).
std::size_t count_byte(std::string_view s, char c) {
  constexpr std::uint64_t kLow7 = 0x7F7F7F7F7F7F7F7Full;
  const std::uint64_t pattern = 0x0101010101010101ull * static_cast<unsigned char>(c);
  std::size_t n = 0, i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    w ^= pattern;
    const std::uint64_t zero_bytes = ~(((w & kLow7) + kLow7) | w | kLow7);
    // One bit per match at the top of its byte: summing the bytes counts them (no popcount
    // instruction is assumed).
    n += static_cast<std::size_t>(((zero_bytes >> 7) * 0x0101010101010101ull) >> 56);
  }
  for (; i < s.size(); ++i) n += s[i] == c;
  return n;
}

}  // namespace

ParsedBatch parse_line_protocol(std::string_view body) {
  ParsedBatch b;
  // Every field has a '=' (tags and string values may add more): reserving that many once keeps
  // large batches from growing and moving the vector, and from faulting in new pages each time.
  const std::size_t fields = count_byte(body, '=');
  b.observations.reserve(fields);
  b.origin.reserve(fields);
  std::size_t line = 0;
  while (!body.empty()) {
    std::size_t nl = body.find('\n');
    std::string_view text = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line;
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    if (text.empty() || text.front() == '#') continue;
    std::size_t before = b.observations.size();
    std::string why = parse_line(text, b.observations);
    if (!why.empty()) {
      b.observations.resize(before);  // a bad line contributes nothing
      b.errors.push_back(
          Rejection{line, "InvalidObservation", "line " + std::to_string(line) + ": " + why});
      continue;
    }
    b.origin.resize(b.observations.size(), line);
  }
  return b;
}

}  // namespace castor::ingest
