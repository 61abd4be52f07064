#include "twin/twin.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace castor::twin {

Cells& Cells::operator=(const Cells& o) {
  if (this == &o) return *this;
  reset(o.size_);
  for (std::uint32_t i = 0; i < size_; ++i) data_[i] = o.data_[i];
  return *this;
}

void Cells::reset(std::size_t n) {
  data_ = n ? std::make_unique<Cell[]>(n) : nullptr;
  size_ = static_cast<std::uint32_t>(n);
}

TwinExtra& Twin::extra() {
  if (!extra_) extra_ = std::make_unique<TwinExtra>();
  return *extra_;
}

std::span<const ComponentState> Twin::components() const {
  return extra_ ? std::span<const ComponentState>(extra_->components) : std::span<const ComponentState>();
}

std::span<const Relationship> Twin::outgoing() const {
  return extra_ ? std::span<const Relationship>(extra_->outgoing) : std::span<const Relationship>();
}

Nanos Twin::source_time(std::uint16_t component, std::uint16_t slot) const {
  if (!extra_) return 0;
  for (const auto& s : extra_->source_times)
    if (s.component == component && s.slot == slot) return s.time;
  return 0;
}

void Twin::set_source_time(std::uint16_t component, std::uint16_t slot, Nanos t) {
  auto& times = extra().source_times;
  for (auto& s : times)
    if (s.component == component && s.slot == slot) {
      s.time = t;
      return;
    }
  times.push_back({component, slot, t});
}

void Twin::clear_source_time(std::uint16_t component, std::uint16_t slot) {
  if (!extra_) return;
  std::erase_if(extra_->source_times, [&](const SourceTime& s) { return s.component == component && s.slot == slot; });
}

const Relationship* Twin::relationship(std::string_view rel_id) const {
  for (const auto& r : outgoing())
    if (r.id == rel_id) return &r;
  return nullptr;
}

Nanos Twin::time_of(const Cell& c) const {
  std::uint32_t tag = c.tag();
  if (tag == 0 || !extra_ || tag > extra_->times.size()) return last_update;
  return extra_->times[tag - 1];
}

std::uint32_t Twin::intern_time(Nanos t) {
  auto& times = extra().times;
  for (std::size_t i = 0; i < times.size(); ++i)
    if (times[i] == t) return static_cast<std::uint32_t>(i + 1);
  times.push_back(t);
  return static_cast<std::uint32_t>(times.size());
}

void Twin::set_time(Cell& c, Nanos t) { c.set_tag(t == last_update ? 0 : intern_time(t)); }

void Twin::stamp(std::span<Cell* const> changed, Nanos now) {
  auto is_changed = [&](const Cell* c) {
    for (const Cell* x : changed)
      if (x == c) return true;
    return false;
  };
  // Cells that keep their time but were tagged "last_update" now need the old time explicitly.
  auto pin = [&](Cells& cells) {
    for (Cell& c : cells)
      if (c.is_set() && c.tag() == 0 && !is_changed(&c) && last_update != now) c.set_tag(intern_time(last_update));
  };
  pin(cells);
  if (extra_)
    for (auto& comp : extra_->components) pin(comp.cells);
  for (Cell* c : changed) c->set_tag(0);
  last_update = now;
  compact_times();
}

void Twin::compact_times() {
  if (!extra_ || extra_->times.size() < 8) return;
  // Rebuild the table with only the times still referenced.
  std::vector<Nanos> kept;
  auto remap = [&](Cells& cs) {
    for (Cell& c : cs) {
      if (c.tag() == 0) continue;
      Nanos t = extra_->times[c.tag() - 1];
      std::uint32_t k = 0;
      for (std::size_t i = 0; i < kept.size(); ++i)
        if (kept[i] == t) k = static_cast<std::uint32_t>(i + 1);
      if (!k) {
        kept.push_back(t);
        k = static_cast<std::uint32_t>(kept.size());
      }
      c.set_tag(k);
    }
  };
  remap(cells);
  for (auto& comp : extra_->components) remap(comp.cells);
  extra_->times = std::move(kept);
}

std::size_t Twin::memory_bytes() const {
  std::size_t n = sizeof(Twin) + (id.size() > 15 ? id.capacity() + 1 : 0);
  n += cells.size() * sizeof(Cell);
  for (const auto& c : cells) n += c.heap_bytes();
  if (extra_) {
    n += sizeof(TwinExtra) + extra_->times.capacity() * sizeof(Nanos);
    for (const auto& comp : extra_->components) {
      n += sizeof(ComponentState) + comp.cells.size() * sizeof(Cell);
      for (const auto& c : comp.cells) n += c.heap_bytes();
    }
    n += extra_->source_times.capacity() * sizeof(SourceTime);
    for (const auto& r : extra_->outgoing)
      n += sizeof(Relationship) + r.id.capacity() + r.name.capacity() + r.target.capacity() + r.properties.capacity();
  }
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

namespace {

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no time zone, no libc call.
void civil_from_days(long long z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe) + static_cast<int>(era) * 400 + (m <= 2 ? 1 : 0);
}

void put_digits(char* p, unsigned long v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

// Called for every property of every rendered twin: formatted by hand, not with snprintf.
void format_time_to(Nanos t, char* out) {
  long long secs = t / 1'000'000'000;
  long long frac = (t % 1'000'000'000) / 100;  // 100 ns units: 7 digits
  if (frac < 0) {
    frac += 10'000'000;
    --secs;
  }
  long long days = secs / 86400;
  long long rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int y;
  unsigned mo, d;
  civil_from_days(days, y, mo, d);
  static constexpr char kPattern[] = "0000-00-00T00:00:00.0000000Z";
  static constexpr char kOutOfRange[] = "0000-01-01T00:00:00.0000000Z";
  if (y < 0 || y > 9999) {
    std::memcpy(out, kOutOfRange, kTimeTextSize);
    return;
  }
  std::memcpy(out, kPattern, kTimeTextSize);
  put_digits(out, static_cast<unsigned long>(y), 4);
  put_digits(out + 5, mo, 2);
  put_digits(out + 8, d, 2);
  put_digits(out + 11, static_cast<unsigned long>(rem / 3600), 2);
  put_digits(out + 14, static_cast<unsigned long>(rem / 60 % 60), 2);
  put_digits(out + 17, static_cast<unsigned long>(rem % 60), 2);
  put_digits(out + 20, static_cast<unsigned long>(frac), 7);
}

std::string format_time(Nanos t) {
  char buf[kTimeTextSize];
  format_time_to(t, buf);
  return std::string(buf, kTimeTextSize);
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
