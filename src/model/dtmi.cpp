#include "model/dtmi.hpp"

namespace castor::model {
namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

// One path segment: a letter, then letters/digits/underscores, not ending in underscore.
bool valid_segment(std::string_view seg) {
  if (seg.empty() || !is_alpha(seg.front()) || seg.back() == '_') return false;
  for (char c : seg)
    if (!is_alnum(c) && c != '_') return false;
  return true;
}

// Decimal without leading zero, 1..max_digits digits.
bool parse_number(std::string_view s, std::size_t max_digits, unsigned& out) {
  if (s.empty() || s.size() > max_digits || s.front() == '0') return false;
  unsigned v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

DtmiParts parse_dtmi(std::string_view s, int dtdl_version) noexcept {
  DtmiParts p;
  if (s.substr(0, 5) != "dtmi:") return p;
  std::size_t semi = s.find(';');
  std::string_view path = s.substr(0, semi);
  std::string_view rest = path.substr(5);
  while (true) {
    std::size_t colon = rest.find(':');
    if (!valid_segment(rest.substr(0, colon))) return p;
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  p.path = path;
  if (semi == std::string_view::npos) {
    p.valid = dtdl_version >= 3;
    return p;
  }
  std::string_view version = s.substr(semi + 1);
  std::size_t dot = version.find('.');
  if (!parse_number(version.substr(0, dot), 9, p.major)) return p;
  if (dot != std::string_view::npos) {
    if (dtdl_version < 3 || !parse_number(version.substr(dot + 1), 6, p.minor)) return p;
  }
  p.has_version = true;
  p.valid = true;
  return p;
}

std::string_view deversioned(std::string_view dtmi) noexcept {
  return dtmi.substr(0, dtmi.find(';'));
}

bool has_reserved_prefix(std::string_view dtmi) noexcept {
  return dtmi.substr(0, 10) == "dtmi:dtdl:" || dtmi.substr(0, 14) == "dtmi:standard:";
}

}  // namespace castor::model
