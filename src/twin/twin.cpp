#include "twin/twin.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace castor::twin {

Nanos Twin::source_time(std::uint16_t component, std::uint16_t slot) const {
  for (const auto& s : source_times)
    if (s.component == component && s.slot == slot) return s.time;
  return 0;
}

void Twin::set_source_time(std::uint16_t component, std::uint16_t slot, Nanos t) {
  for (auto& s : source_times)
    if (s.component == component && s.slot == slot) {
      s.time = t;
      return;
    }
  source_times.push_back({component, slot, t});
}

void Twin::clear_source_time(std::uint16_t component, std::uint16_t slot) {
  std::erase_if(source_times, [&](const SourceTime& s) { return s.component == component && s.slot == slot; });
}

const Relationship* Twin::relationship(std::string_view rel_id) const {
  for (const auto& r : outgoing)
    if (r.id == rel_id) return &r;
  return nullptr;
}

std::size_t Twin::memory_bytes() const {
  std::size_t n = sizeof(Twin) + (id.size() > 15 ? id.capacity() + 1 : 0);
  n += cells.capacity() * sizeof(Cell);
  for (const auto& c : cells) n += c.value.heap_bytes();
  for (const auto& comp : components) {
    n += sizeof(ComponentState) + comp.cells.capacity() * sizeof(Cell);
    for (const auto& c : comp.cells) n += c.value.heap_bytes();
  }
  n += source_times.capacity() * sizeof(SourceTime);
  for (const auto& r : outgoing)
    n += sizeof(Relationship) + r.id.capacity() + r.name.capacity() + r.target.capacity() + r.properties.capacity();
  return n;
}

std::string format_etag(std::uint64_t etag) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "W/\"%016llx\"", static_cast<unsigned long long>(etag));
  return buf;
}

bool etag_matches(std::string_view header, std::uint64_t etag) {
  // The header may hold a list: W/"a", W/"b"; any match counts.
  std::string want = format_etag(etag);
  std::string_view w(want);
  std::string_view strong = w.substr(2);  // without W/
  std::size_t pos = 0;
  while (pos <= header.size()) {
    std::size_t comma = header.find(',', pos);
    std::string_view item = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "*" || item == w || item == strong) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

std::string format_time(Nanos t) {
  std::time_t secs = static_cast<std::time_t>(t / 1'000'000'000);
  long frac = static_cast<long>((t % 1'000'000'000) / 100);  // 100 ns units: 7 digits
  if (frac < 0) {
    frac += 10'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%07ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

bool parse_time(std::string_view s, Nanos& out) {
  // YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)
  auto dig = [&](std::size_t p, std::size_t n, int& v) {
    if (p + n > s.size()) return false;
    v = 0;
    for (std::size_t i = p; i < p + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!dig(0, 4, y) || s.size() < 20 || s[4] != '-' || !dig(5, 2, mo) || s[7] != '-' || !dig(8, 2, d) ||
      (s[10] != 'T' && s[10] != 't') || !dig(11, 2, h) || s[13] != ':' || !dig(14, 2, mi) || s[16] != ':' ||
      !dig(17, 2, se))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  std::size_t p = 19;
  long long frac_ns = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    long long scale = 100'000'000;
    std::size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      frac_ns += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return false;
  }
  long long offset = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
  } else if (p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    int oh, om;
    if (!dig(p + 1, 2, oh) || !dig(p + 4, 2, om)) return false;
    offset = (oh * 3600LL + om * 60LL) * (s[p] == '+' ? 1 : -1);
  } else {
    return false;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  long long secs = static_cast<long long>(timegm(&tm)) - offset;
  out = secs * 1'000'000'000LL + frac_ns;
  return true;
}

}  // namespace castor::twin
