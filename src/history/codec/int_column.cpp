#include "history/codec/int_column.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>

#include "history/codec/packed_ints.hpp"

namespace castor::history::codec {
namespace {

using u64 = std::uint64_t;

constexpr std::array<u64, 4> kScale = {1, 1'000, 1'000'000, 1'000'000'000};

u64 zigzag(u64 v) noexcept {
  return (v << 1) ^ static_cast<u64>(static_cast<std::int64_t>(v) >> 63);
}
u64 unzigzag(u64 v) noexcept {
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

void scale_and_zigzag(u64* v, std::size_t n, unsigned scale) noexcept {
  switch (scale) {
    case 1: divide_exact<1'000>(v, n); break;
    case 2: divide_exact<1'000'000>(v, n); break;
    case 3: divide_exact<1'000'000'000>(v, n); break;
    default: break;
  }
  for (std::size_t i = 0; i < n; ++i) v[i] = zigzag(v[i]);
}

void advance_chain(IntChain& chain, std::span<const std::int64_t> x) noexcept {
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
  std::array<std::size_t, 3> bits{};
  u64 prev = static_cast<u64>(chain.prev);
  u64 delta = static_cast<u64>(chain.delta);
  for (const std::int64_t value : x) {
    const u64 v = static_cast<u64>(value);
    const u64 d = v - prev;
    bits[0] += width_of(zigzag(v));
    bits[1] += width_of(zigzag(d));
    bits[2] += width_of(zigzag(d - delta));
    delta = d;
    prev = v;
  }
  IntTransform best = IntTransform::raw;
  std::size_t best_bits = ~std::size_t{0};
  for (unsigned k = 0; k < 3; ++k) {
    if ((allowed & (1u << k)) != 0 && bits[k] < best_bits) {
      best_bits = bits[k];
      best = static_cast<IntTransform>(k);
    }
  }
  return best;
}

// The inverse of scale_and_zigzag and apply_transform, fused: one loop per transform (none
// branches per value) and no multiply unless the block was scaled.
template <bool Scaled>
void undo_transform(IntTransform t, const u64* lanes, std::size_t n, u64 factor,
                    const IntChain& chain, std::int64_t* out) noexcept {
  const auto value = [factor](u64 lane) {
    return Scaled ? unzigzag(lane) * factor : unzigzag(lane);
  };
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
  }
}

// The same for a block whose lanes are all zero (packed width 0, no exceptions): a constant, or
// for delta of delta a perfectly regular clock, with no dependency from one value to the next.
void undo_zero_transform(IntTransform t, std::size_t n, const IntChain& chain,
                         std::int64_t* out) noexcept {
  const u64 prev = static_cast<u64>(chain.prev);
  const u64 delta = t == IntTransform::delta_of_delta ? static_cast<u64>(chain.delta) : 0;
  const u64 base = t == IntTransform::raw ? 0 : prev;
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int64_t>(base + (i + 1) * delta);
}

}  // namespace

void write_int_column(std::span<const std::int64_t> values, unsigned allowed, IntChain& chain,
                      Bytes& out) {
  assert(!values.empty() && values.size() <= kBlockSize && (allowed & kAnyTransform) != 0);
  const std::size_t n = values.size();
  const IntTransform transform = choose_transform(values, allowed, chain);
  Lanes lanes;
  apply_transform(values, transform, chain, lanes.data());
  u64 any_zigzag = 0, any_bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    any_zigzag |= zigzag(lanes[i]);
    any_bits |= lanes[i];
  }
  const unsigned scale = detect_scale(lanes.data(), n, any_zigzag, any_bits);
  scale_and_zigzag(lanes.data(), n, scale);
  const std::span<const u64> packed(lanes.data(), n);
  out.push_back(static_cast<std::uint8_t>(static_cast<unsigned>(transform) | scale << 2));
  write_packed(packed, plan_packing(packed), out);
  advance_chain(chain, values);
}

bool read_int_column(ByteReader& in, IntChain& chain, std::span<std::int64_t> out) noexcept {
  std::uint8_t mode;
  if (out.empty() || out.size() > kBlockSize || !in.read_u8(mode)) return false;
  const unsigned transform = mode & 3;
  if (transform > 2 || (mode >> 4) != 0) return false;
  // A packing byte of 0 (width 0, no exceptions) means every lane is 0: a regular clock.
  ByteReader probe = in;
  std::uint8_t packing = 1;
  const bool all_zero = probe.read_u8(packing) && packing == 0;
  Lanes lanes;
  if (!read_packed(in, out.size(), lanes)) return false;
  const u64 factor = kScale[(mode >> 2) & 3];
  const auto t = static_cast<IntTransform>(transform);
  if (all_zero) {
    undo_zero_transform(t, out.size(), chain, out.data());
  } else if (factor == 1) {
    undo_transform<false>(t, lanes.data(), out.size(), factor, chain, out.data());
  } else {
    undo_transform<true>(t, lanes.data(), out.size(), factor, chain, out.data());
  }
  advance_chain(chain, out);
  return true;
}

}  // namespace castor::history::codec
