#include "gorilla_baseline.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "history/codec/bit_stream.hpp"
#include "history/codec/byte_io.hpp"

namespace castor::history::bench {
namespace {

// Prometheus' buckets (prefix bits LSB first here; the size is what matters).
struct DodBucket {
  std::uint64_t prefix;
  unsigned prefix_bits;
  unsigned width;
};
constexpr DodBucket kDodBuckets[] = {{0b01, 2, 14}, {0b011, 3, 17}, {0b0111, 4, 20}};

void put_dod(codec::BitWriter& bits, std::int64_t dod) {
  if (dod == 0) {
    bits.put(0, 1);
    return;
  }
  const auto v = static_cast<std::uint64_t>(dod);
  for (const DodBucket& b : kDodBuckets) {
    const std::int64_t half = std::int64_t{1} << (b.width - 1);
    if (dod > -half && dod <= half) {
      bits.put(b.prefix, b.prefix_bits);
      bits.put(v & codec::low_bits(b.width), b.width);
      return;
    }
  }
  bits.put(0b1111, 4);
  bits.put(v, 64);
}

}  // namespace

std::size_t gorilla_chunk(std::span<const std::int64_t> ts_ns, std::span<const double> values,
                          Bytes& out) {
  out.assign(ts_ns.size() * 20 + 64, 0);  // generous: at most 68 + 77 bits per point
  std::uint8_t* p = out.data();
  std::int64_t t = ts_ns[0] / 1'000'000;
  std::uint64_t prev = std::bit_cast<std::uint64_t>(values[0]);
  std::memcpy(p, &t, 8);
  std::memcpy(p + 8, &prev, 8);
  codec::BitWriter bits(p + 16);
  std::int64_t delta = 0;
  unsigned lead_w = 64, trail_w = 0;
  for (std::size_t i = 1; i < ts_ns.size(); ++i) {
    const std::int64_t ms = ts_ns[i] / 1'000'000;
    put_dod(bits, (ms - t) - delta);
    delta = ms - t;
    t = ms;
    const auto cur = std::bit_cast<std::uint64_t>(values[i]);
    const std::uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits.put(0, 1);
      continue;
    }
    const unsigned lead = std::min<unsigned>(std::countl_zero(x), 31);
    const unsigned trail = std::countr_zero(x);
    if (lead_w != 64 && lead >= lead_w && trail >= trail_w) {
      bits.put(0b01, 2);
      bits.put(x >> trail_w, 64 - lead_w - trail_w);
      continue;
    }
    const unsigned sig = 64 - lead - trail;
    bits.put(0b11 | lead << 2 | (sig - 1) << 7, 13);  // Prometheus stores sig in 6 bits, 64 as 0
    bits.put(x >> trail, sig);
    lead_w = lead;
    trail_w = trail;
  }
  return 16 + bits.finish();
}

}  // namespace castor::history::bench
