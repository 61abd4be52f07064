#include "history/codec/int_column.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

#include "history/codec/packed_ints.hpp"

namespace castor::history::codec {
namespace {

using u64 = std::uint64_t;

constexpr std::array<u64, 4> kScale = {1, 1'000, 1'000'000, 1'000'000'000};
// Mode bit 4 (version 2): every lane is zero and no packing follows.
constexpr std::uint8_t kAllZeroLanes = 0x10;
// Mode bit 5 (version 2): no lane is negative, so lanes are packed as they are, not zigzagged
// (which would double them): counters' deltas and raw booleans take 1 bit instead of 2.
constexpr std::uint8_t kUnsignedLanes = 0x20;

u64 zigzag(u64 v) noexcept {
  return (v << 1) ^ static_cast<u64>(static_cast<std::int64_t>(v) >> 63);
}
[[gnu::always_inline]] inline u64 unzigzag(u64 v) noexcept {
  return (v >> 1) ^ (0 - (v & 1));
}

// Differences are taken in unsigned arithmetic so that extreme values wrap instead of overflow.
void apply_transform(std::span<const std::int64_t> x, IntTransform t, IntChain chain,
                     u64* out) noexcept {
  u64 prev = static_cast<u64>(chain.prev);
  u64 delta = static_cast<u64>(chain.delta);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const u64 v = static_cast<u64>(x[i]);
    const u64 d = v - prev;
    out[i] = t == IntTransform::raw ? v : t == IntTransform::delta ? d : d - delta;
    delta = d;
    prev = v;
  }
}

bool all_divisible(const u64* v, std::size_t n, std::int64_t divisor) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<std::int64_t>(v[i]) % divisor != 0) return false;
  }
  return true;
}

// Largest of 10^9, 10^6, 10^3 dividing every value: millisecond timestamps in nanoseconds then
// cost as little as native milliseconds. 10^k has k trailing zero bits, so the trailing zeros of
// all values ORed together rule most factors out before any division.
unsigned detect_scale(const u64* v, std::size_t n, u64 any_zigzag, u64 any_bits) noexcept {
  if (any_zigzag < 1024) return 0;  // every |v| <= 512: only zeros are divisible by 1000
  const int zeros = std::countr_zero(any_bits);
  if (zeros >= 9 && all_divisible(v, n, 1'000'000'000)) return 3;
  if (zeros >= 6 && all_divisible(v, n, 1'000'000)) return 2;
  if (zeros >= 3 && all_divisible(v, n, 1'000)) return 1;
  return 0;
}

template <std::int64_t Divisor>
void divide_exact(u64* v, std::size_t n) noexcept {  // a constant divisor becomes a multiply
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<u64>(static_cast<std::int64_t>(v[i]) / Divisor);
}

void scale_and_zigzag(u64* v, std::size_t n, unsigned scale, bool zigzagged) noexcept {
  switch (scale) {
    case 1: divide_exact<1'000>(v, n); break;
    case 2: divide_exact<1'000'000>(v, n); break;
    case 3: divide_exact<1'000'000'000>(v, n); break;
    default: break;
  }
  if (!zigzagged) return;
  for (std::size_t i = 0; i < n; ++i) v[i] = zigzag(v[i]);
}

[[gnu::always_inline]] inline void advance_chain(IntChain& chain,
                                                 std::span<const std::int64_t> x) noexcept {
  const u64 before =
      x.size() >= 2 ? static_cast<u64>(x[x.size() - 2]) : static_cast<u64>(chain.prev);
  chain.delta = static_cast<std::int64_t>(static_cast<u64>(x.back()) - before);
  chain.prev = x.back();
}

// About log2 of a zigzag value, from the exponent of its conversion to double: no bit scan,
// which is slow on some CPUs (BSR on AMD Zen) when LZCNT cannot be assumed. 0 and 1 both give
// 1023; every doubling adds one.
std::size_t width_of(u64 v) noexcept {
  return static_cast<std::size_t>(std::bit_cast<u64>(static_cast<double>(v | 1)) >> 52);
}

// Picks the transform by a cheap proxy for its packed size, the sum of the values' bit widths,
// computed for all candidates in one fused pass; the exact plan is then made for the winner
// only. The sum is not fooled by a lone outlier (which becomes an exception) and favours sparse
// differences (booleans, counters, constant runs).
IntTransform choose_transform(std::span<const std::int64_t> x, unsigned allowed,
                              const IntChain& chain) noexcept {
  // Per transform: the sum of the zigzagged widths (width_of, which counts 0 and 1 alike), the
  // nonzero lanes, and whether any lane is negative. Bit widths then follow: a zigzagged lane
  // takes width_of + 1 bits unless it is 0, and a lane that is not negative (packed as it is
  // when no lane of the block is negative) one bit less: width_of of its zigzag.
  std::size_t bits0 = 0, bits1 = 0, bits2 = 0, nonzero0 = 0, nonzero1 = 0, nonzero2 = 0;
  u64 any0 = 0, any1 = 0, any2 = 0;
  u64 prev = static_cast<u64>(chain.prev);
  u64 delta = static_cast<u64>(chain.delta);
  for (const std::int64_t value : x) {
    const u64 v = static_cast<u64>(value);
    const u64 d = v - prev;
    const u64 dd = d - delta;
    bits0 += width_of(zigzag(v));
    bits1 += width_of(zigzag(d));
    bits2 += width_of(zigzag(dd));
    nonzero0 += v != 0;
    nonzero1 += d != 0;
    nonzero2 += dd != 0;
    any0 |= v;
    any1 |= d;
    any2 |= dd;
    delta = d;
    prev = v;
  }
  const auto signless = [](std::size_t bits, std::size_t nonzero, u64 any) {
    return (any >> 63) == 0 ? bits : bits + nonzero;
  };
  const std::array<std::size_t, 3> bits = {signless(bits0, nonzero0, any0),
                                           signless(bits1, nonzero1, any1),
                                           signless(bits2, nonzero2, any2)};
  IntTransform best = IntTransform::raw;  // also when only linear is allowed (and did not fit)
  std::size_t best_bits = ~std::size_t{0};
  for (unsigned k = 0; k < 3; ++k) {
    if ((allowed & (1u << k)) != 0 && bits[k] < best_bits) {
      best_bits = bits[k];
      best = static_cast<IntTransform>(k);
    }
  }
  return best;
}

// The line's offset at index i: (i * s) >> 8 in wrapping arithmetic, identical in encoder and
// decoder whatever s the bytes hold.
std::int64_t line_offset(std::size_t i, std::int64_t s) noexcept {
  return static_cast<std::int64_t>(static_cast<u64>(i) * static_cast<u64>(s)) >> 8;
}

struct Line {
  std::int64_t a = 0;  // value at index 0, centred so that residuals span -r..r
  std::int64_t s = 0;  // slope per index, times 256
};

// A line needs two varints; below this many values it cannot pay for them.
constexpr std::size_t kMinLinearValues = 8;
// Doubles fit the line exactly enough only while values stay this close to the first one.
constexpr double kMaxLinearSpan = 0x1p52;

// Fits a least-squares line through `x` and writes the residuals, centred on their range, to
// `residuals`. False when the block is too short or too spread out for a line.
bool fit_line(std::span<const std::int64_t> x, Line& line, u64* residuals) noexcept {
  const std::size_t n = x.size();
  if (n < kMinLinearValues) return false;
  const u64 base = static_cast<u64>(x[0]);
  double sum_d = 0, sum_id = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto d = static_cast<double>(static_cast<std::int64_t>(static_cast<u64>(x[i]) - base));
    if (!(std::fabs(d) < kMaxLinearSpan)) return false;
    sum_d += d;
    sum_id += static_cast<double>(i) * d;
  }
  const auto count = static_cast<double>(n);
  const double sum_i = count * (count - 1) / 2;
  const double sum_ii = (count - 1) * count * (2 * count - 1) / 6;
  const double slope = 256 * (count * sum_id - sum_i * sum_d) / (count * sum_ii - sum_i * sum_i);
  if (!(std::fabs(slope) < kMaxLinearSpan)) return false;
  line.s = std::llround(slope);
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < n; ++i) {  // |d| and |offset| < 2^52: no overflow
    const std::int64_t r =
        static_cast<std::int64_t>(static_cast<u64>(x[i]) - base) - line_offset(i, line.s);
    residuals[i] = static_cast<u64>(r);
    lo = std::min(lo, r);
    hi = std::max(hi, r);
  }
  const std::int64_t centre = lo + (hi - lo) / 2;
  for (std::size_t i = 0; i < n; ++i) residuals[i] -= static_cast<u64>(centre);
  line.a = static_cast<std::int64_t>(base + static_cast<u64>(centre));
  return true;
}

// One way to write a block: its lanes scaled and zigzagged, and the bytes they take after the
// mode byte.
struct Encoding {
  IntTransform transform = IntTransform::raw;
  unsigned scale = 0;
  bool zigzagged = true;
  Line line;
  PackPlan plan;
  std::size_t bytes = 0;
  Lanes lanes;
};

// A line is written as its start relative to the previous block's last value, and its slope.
u64 line_start(const Line& line, const IntChain& chain) noexcept {
  return zigzag(static_cast<u64>(line.a) - static_cast<u64>(chain.prev));
}
u64 line_slope(const Line& line) noexcept {
  return zigzag(static_cast<u64>(line.s));
}

// Scales and (when one is negative) zigzags e.lanes, the transform's output, and plans their
// packing.
void finish(Encoding& e, std::size_t n, const IntChain& chain) noexcept {
  u64 any_zigzag = 0, any_bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    any_zigzag |= zigzag(e.lanes[i]);
    any_bits |= e.lanes[i];
  }
  e.scale = detect_scale(e.lanes.data(), n, any_zigzag, any_bits);
  e.zigzagged = (any_bits >> 63) != 0;
  scale_and_zigzag(e.lanes.data(), n, e.scale, e.zigzagged);
  e.plan = plan_packing({e.lanes.data(), n});
  e.bytes = e.plan.bytes;
  if (e.transform == IntTransform::linear) {
    e.bytes += varint_size(line_start(e.line, chain)) + varint_size(line_slope(e.line));
  }
}

// The inverse of scale_and_zigzag and apply_transform, fused: one loop per transform (none
// branches per value) and no multiply unless the block was scaled.
template <bool Scaled, bool Zigzagged>
[[gnu::always_inline]] inline u64 lane_value(u64 lane, u64 factor) noexcept {
  const u64 v = Zigzagged ? unzigzag(lane) : lane;
  return Scaled ? v * factor : v;
}

template <bool Scaled, bool Zigzagged>
[[gnu::always_inline]] inline void undo_transform(IntTransform t, const u64* lanes, std::size_t n,
                                                  u64 factor, const IntChain& chain,
                                                  std::int64_t* out) noexcept {
  const auto value = [factor](u64 lane) { return lane_value<Scaled, Zigzagged>(lane, factor); };
  u64 prev = static_cast<u64>(chain.prev);
  u64 delta = static_cast<u64>(chain.delta);
  switch (t) {
    case IntTransform::raw:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int64_t>(value(lanes[i]));
      return;
    case IntTransform::delta:
      for (std::size_t i = 0; i < n; ++i) {
        prev += value(lanes[i]);
        out[i] = static_cast<std::int64_t>(prev);
      }
      return;
    case IntTransform::delta_of_delta:
      for (std::size_t i = 0; i < n; ++i) {
        delta += value(lanes[i]);
        prev += delta;
        out[i] = static_cast<std::int64_t>(prev);
      }
      return;
    case IntTransform::linear: return;  // undo_linear: it needs the block's line
  }
}

// Decoding loops run over whole groups of this many values, so that -O2's cheap vectoriser takes
// them (it will not add a remainder loop of its own); the rest runs one by one.
constexpr std::size_t kGroup = 8;

// steps[j] = (j + 1) * step: a group's values relative to the one before the group.
[[gnu::always_inline]] inline std::array<u64, kGroup> group_steps(u64 step) noexcept {
  std::array<u64, kGroup> steps;
  for (std::size_t j = 0; j < kGroup; ++j) steps[j] = (j + 1) * step;
  return steps;
}

// The same for a block whose lanes are all zero (packed width 0, no exceptions): a constant, or
// for delta of delta a perfectly regular clock, with no dependency from one value to the next.
[[gnu::always_inline]] inline void undo_zero_transform(IntTransform t, std::size_t n,
                                                       const IntChain& chain,
                                                       std::int64_t* out) noexcept {
  const u64 prev = static_cast<u64>(chain.prev);
  const u64 delta = t == IntTransform::delta_of_delta ? static_cast<u64>(chain.delta) : 0;
  const u64 base = t == IntTransform::raw ? 0 : prev;
  const std::array<u64, kGroup> steps = group_steps(delta);
  const std::size_t whole = n / kGroup * kGroup;
  for (std::size_t g = 0; g < whole; g += kGroup) {
    const u64 before = base + g * delta;
    for (std::size_t j = 0; j < kGroup; ++j) out[g + j] = static_cast<std::int64_t>(before + steps[j]);
  }
  for (std::size_t i = whole; i < n; ++i) out[i] = static_cast<std::int64_t>(base + (i + 1) * delta);
}

// line_offset() of a product already taken: int64 >> 8 without an arithmetic shift, which
// SSE2 and AVX2 lack for 64-bit lanes. Flipping the sign bit maps int64 order onto u64 order,
// and 2^63 / 256 = 2^55 exactly, so this equals the arithmetic shift for every bit pattern.
[[gnu::always_inline]] inline u64 shift_line(u64 product) noexcept {
  return ((product ^ (u64{1} << 63)) >> 8) - (u64{1} << 55);
}

template <bool Scaled, bool Zigzagged>
[[gnu::always_inline]] inline void undo_linear(const u64* lanes, std::size_t n, u64 factor,
                                               const Line& line, std::int64_t* out) noexcept {
  const u64 a = static_cast<u64>(line.a);
  const u64 s = static_cast<u64>(line.s);
  // products[j] = j * s; index g + j is then g * s + products[j] (wrapping, as line_offset's).
  std::array<u64, kGroup> products = group_steps(s);
  for (auto& p : products) p -= s;
  const std::size_t whole = n / kGroup * kGroup;
  for (std::size_t g = 0; g < whole; g += kGroup) {
    const u64 at = g * s;
    for (std::size_t j = 0; j < kGroup; ++j) {
      const u64 residual = lane_value<Scaled, Zigzagged>(lanes[g + j], factor);
      out[g + j] = static_cast<std::int64_t>(a + shift_line(at + products[j]) + residual);
    }
  }
  for (std::size_t i = whole; i < n; ++i) {
    const u64 residual = lane_value<Scaled, Zigzagged>(lanes[i], factor);
    out[i] = static_cast<std::int64_t>(a + static_cast<u64>(line_offset(i, line.s)) + residual);
  }
}

template <bool Zigzagged>
[[gnu::always_inline]] inline void undo_lanes(IntTransform t, const u64* lanes, std::size_t n,
                                              u64 factor, const IntChain& chain, const Line& line,
                                              std::int64_t* out) noexcept {
  const bool scaled = factor != 1;
  if (t == IntTransform::linear) {
    if (scaled) return undo_linear<true, Zigzagged>(lanes, n, factor, line, out);
    return undo_linear<false, Zigzagged>(lanes, n, factor, line, out);
  }
  if (scaled) return undo_transform<true, Zigzagged>(t, lanes, n, factor, chain, out);
  undo_transform<false, Zigzagged>(t, lanes, n, factor, chain, out);
}

}  // namespace

bool write_int_column(std::span<const std::int64_t> values, unsigned allowed, IntChain& chain,
                      Bytes& out, bool may_imply_header) {
  assert(!values.empty() && values.size() <= kBlockSize && (allowed & kAnyTransform) != 0);
  const std::size_t n = values.size();
  Encoding classic;
  classic.transform = choose_transform(values, allowed, chain);
  apply_transform(values, classic.transform, chain, classic.lanes.data());
  finish(classic, n, chain);
  const Encoding* best = &classic;
  // A line takes only the noise's range where deltas take twice that, so it saves about a bit
  // per value; below a few bits per value that is not worth the fit's time on the ingest path
  // (counters, booleans, regular clocks).
  Encoding linear;
  linear.transform = IntTransform::linear;
  if ((allowed & transform_bit(IntTransform::linear)) != 0 && classic.bytes > n / 4 &&
      fit_line(values, linear.line, linear.lanes.data())) {
    finish(linear, n, chain);
    if (linear.bytes < classic.bytes) best = &linear;
  }
  const bool all_zero = best->plan.width == 0 && best->plan.exceptions == 0;
  const bool plain = !all_zero && !best->zigzagged;
  const auto mode =
      static_cast<std::uint8_t>(static_cast<unsigned>(best->transform) | best->scale << 2 |
                                (all_zero ? kAllZeroLanes : 0) | (plain ? kUnsignedLanes : 0));
  const std::uint8_t packing = all_zero ? 0 : packing_header(best->plan);
  const bool repeat = chain.has_header && chain.mode == mode && chain.packing == packing;
  const bool implied = repeat && may_imply_header;
  if (!implied) out.push_back(repeat ? kRepeatHeader : mode);
  if (best->transform == IntTransform::linear) {
    put_varint(out, line_start(best->line, chain));
    put_varint(out, line_slope(best->line));
  }
  if (!all_zero) write_packed({best->lanes.data(), n}, best->plan, out, !repeat);
  advance_chain(chain, values);
  chain.has_header = true;
  chain.mode = mode;
  chain.packing = packing;
  return implied;
}

namespace {

// read_int_column's body, compiled twice: for the baseline CPU and with AVX2, where its undo
// loops (a line's offsets, a regular clock's steps, prefix sums) take 4 values per instruction
// instead of 2.
[[gnu::always_inline]] inline bool read_int_column_body(ByteReader& in, IntChain& chain,
                                                        std::span<std::int64_t> out,
                                                        bool header_implied) noexcept {
  std::uint8_t mode = kRepeatHeader;
  if (out.empty() || out.size() > kBlockSize || (!header_implied && !in.read_u8(mode))) {
    return false;
  }
  const bool repeat = mode == kRepeatHeader;
  if (repeat) {
    if (!chain.has_header) return false;
    mode = chain.mode;
  }
  if ((mode >> 6) != 0) return false;
  const auto t = static_cast<IntTransform>(mode & 3);
  const unsigned scale = (mode >> 2) & 3;
  Line line;
  if (t == IntTransform::linear) {
    u64 start, slope;
    if (!in.read_varint(start) || !in.read_varint(slope)) return false;
    line.a = static_cast<std::int64_t>(static_cast<u64>(chain.prev) + unzigzag(start));
    line.s = static_cast<std::int64_t>(unzigzag(slope));
  }
  Lanes lanes;
  // Version 1 wrote all-zero lanes as a packing byte of 0 (width 0, no exceptions); version 2
  // as a flag in the mode and no packing at all. Either way: a constant, a regular clock or a
  // straight line.
  bool all_zero = (mode & kAllZeroLanes) != 0;
  const bool zigzagged = (mode & kUnsignedLanes) == 0;
  std::uint8_t packing = 0;
  if (all_zero) {
    if (scale != 0 || !zigzagged) return false;  // nothing to scale: one encoding per block
    if (t == IntTransform::linear) std::fill_n(lanes.begin(), out.size(), 0);
  } else {
    packing = chain.packing;
    if (!read_packed(in, out.size(), lanes, packing, repeat)) return false;
    all_zero = packing == 0;
  }
  const u64 factor = kScale[scale];
  if (t != IntTransform::linear && all_zero) {
    undo_zero_transform(t, out.size(), chain, out.data());
  } else if (zigzagged) {
    undo_lanes<true>(t, lanes.data(), out.size(), factor, chain, line, out.data());
  } else {
    undo_lanes<false>(t, lanes.data(), out.size(), factor, chain, line, out.data());
  }
  advance_chain(chain, out);
  chain.has_header = true;
  chain.mode = mode;
  chain.packing = packing;
  return true;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) bool read_int_column_avx2(ByteReader& in, IntChain& chain,
                                                          std::span<std::int64_t> out,
                                                          bool header_implied) noexcept {
  return read_int_column_body(in, chain, out, header_implied);
}
#endif

}  // namespace

bool read_int_column(ByteReader& in, IntChain& chain, std::span<std::int64_t> out,
                     bool header_implied) noexcept {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return read_int_column_avx2(in, chain, out, header_implied);
#endif
  return read_int_column_body(in, chain, out, header_implied);
}

}  // namespace castor::history::codec
