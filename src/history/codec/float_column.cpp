#include "history/codec/float_column.hpp"

#include <array>
#include <bit>
#include <cassert>
#include <cfloat>
#include <cmath>

#include "history/codec/xor_floats.hpp"

namespace castor::history::codec {
namespace {

// Decimal blocks are only bit-exact if m / 10^e rounds the same when encoding and decoding:
// plain IEEE double arithmetic (no x87 excess precision), default round-to-nearest mode.
static_assert(FLT_EVAL_METHOD == 0, "doubles must be evaluated as doubles");

constexpr std::array<double, kMaxDecimalExponent + 1> kPow10 = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

constexpr std::uint8_t kXorKind = 0;
constexpr std::uint8_t kExceptionFlag = 0x80;
constexpr std::uint8_t kRepeatKind = 0x7f;  // version 3, see float_column.hpp
// A decimal block larger than this per value is compared against XOR before it is kept.
constexpr std::size_t kDecimalBytesWorthCheckingXor = 6;

// Exceptions are stored as a varint of the byte-swapped bits: sign and exponent come first, so
// -0.0, NaN and ±Inf (mostly zero mantissa bits) take 2-3 bytes instead of 8.
std::uint64_t swap_bytes(std::uint64_t v) noexcept {
  return __builtin_bswap64(v);
}

// The decoder's formula, m / 10^e, is what this checks against, so a value accepted here always
// decodes to the same bits.
bool decimal_mantissa(double v, int e, std::int64_t& m) noexcept {
  const double scaled = v * kPow10[e];
  if (!(std::fabs(scaled) < 0x1p51)) return false;  // also rejects NaN and ±Inf
  // Adding and removing 1.5 * 2^52 rounds to nearest without a libm call.
  const double rounded = (scaled + 0x1.8p52) - 0x1.8p52;
  m = static_cast<std::int64_t>(rounded);
  return std::bit_cast<std::uint64_t>(static_cast<double>(m) / kPow10[e]) ==
         std::bit_cast<std::uint64_t>(v);
}

void continue_or_restart(FloatChain& chain, int e) noexcept {
  if (chain.exponent != e) chain.mantissas = {};
  chain.exponent = e;
}

void write_xor(std::span<const double> values, FloatChain& chain, const std::uint8_t* stream,
               std::size_t len, Bytes& out) {
  out.push_back(kXorKind);
  put_varint(out, len);
  out.insert(out.end(), stream, stream + len);
  chain.exponent = -1;
  chain.prev_bits = std::bit_cast<std::uint64_t>(values.back());
}

void write_decimal(std::span<const double> values, const DecimalPlan& plan, FloatChain& chain,
                   Bytes& out) {
  continue_or_restart(chain, plan.exponent);
  const std::size_t exceptions = plan.exception_count;
  const std::size_t kind_at = out.size();
  out.push_back(static_cast<std::uint8_t>((1 + plan.exponent) | (exceptions ? kExceptionFlag : 0)));
  if (exceptions) out.push_back(static_cast<std::uint8_t>(exceptions));
  // continue_or_restart kept the mantissa chain only if the exponent is the previous block's.
  if (write_int_column({plan.mantissas.data(), values.size()}, kAnyTransform, chain.mantissas,
                       out, exceptions == 0)) {
    out[kind_at] = kRepeatKind;
  }
  for (std::size_t k = 0; k < exceptions; ++k) {
    out.push_back(plan.exceptions[k]);
    put_varint(out, swap_bytes(std::bit_cast<std::uint64_t>(values[plan.exceptions[k]])));
  }
  chain.prev_bits = std::bit_cast<std::uint64_t>(values.back());
}

// Exceptions take a neighbour's mantissa so they cost nothing in the difference transforms.
void fill_exception_mantissas(std::size_t n, DecimalPlan& plan) noexcept {
  std::size_t k = 0;
  std::size_t first_regular = 0;
  while (k < plan.exception_count && plan.exceptions[k] == first_regular) ++first_regular, ++k;
  const std::int64_t lead = first_regular < n ? plan.mantissas[first_regular] : 0;
  for (std::size_t e = 0; e < plan.exception_count; ++e) {
    const std::size_t i = plan.exceptions[e];
    plan.mantissas[i] = i == 0 || i < first_regular ? lead : plan.mantissas[i - 1];
  }
}

}  // namespace

void plan_decimal(std::span<const double> values, DecimalPlan& plan) noexcept {
  plan.exponent = -1;
  plan.exception_count = 0;
  std::array<bool, kBlockSize> exception{};
  int e = 0;
  std::size_t exceptions = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (decimal_mantissa(values[i], e, plan.mantissas[i])) continue;
    int wider = e;
    while (++wider <= kMaxDecimalExponent &&
           !decimal_mantissa(values[i], wider, plan.mantissas[i])) {
    }
    if (wider > kMaxDecimalExponent) {  // no decimal at all: keep it verbatim
      exception[i] = true;
      if (++exceptions > kMaxDecimalExceptions) return;
      continue;
    }
    e = wider;  // more digits than seen so far: redo the earlier values at this exponent
    for (std::size_t j = 0; j < i; ++j) {
      if (exception[j] || decimal_mantissa(values[j], e, plan.mantissas[j])) continue;
      exception[j] = true;
      if (++exceptions > kMaxDecimalExceptions) return;
    }
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (exception[i]) plan.exceptions[plan.exception_count++] = static_cast<std::uint8_t>(i);
  }
  fill_exception_mantissas(values.size(), plan);
  plan.exponent = e;
}

void write_float_column(std::span<const double> values, FloatChain& chain, Bytes& out) {
  assert(!values.empty() && values.size() <= kBlockSize);
  std::array<std::uint8_t, kMaxXorBlockBytes + 8> stream;
  DecimalPlan plan;
  plan_decimal(values, plan);
  if (plan.exponent < 0) {
    write_xor(values, chain, stream.data(), encode_xor(values, chain.prev_bits, stream.data()),
              out);
    return;
  }
  const std::size_t start = out.size();
  FloatChain decimal = chain;
  write_decimal(values, plan, decimal, out);
  const std::size_t decimal_bytes = out.size() - start;
  if (decimal_bytes > kDecimalBytesWorthCheckingXor * values.size()) {
    const std::size_t len = encode_xor(values, chain.prev_bits, stream.data());
    if (1 + varint_size(len) + len < decimal_bytes) {
      out.resize(start);
      write_xor(values, chain, stream.data(), len, out);
      return;
    }
  }
  chain = decimal;
}

namespace {

// out[i] = m[i] / divisor, exactly as the plain conversion and division would give. Mantissas
// below 2^51 in magnitude (all the encoder writes) are converted by adding them to the bits of
// 1.5 * 2^52, which is exact and, unlike int64 -> double, vectorises without AVX-512; the loops
// run over whole groups of 8 so that -O2 vectorises them. Anything else converts one by one.
//
// With Fused (FMA hardware), the division is replaced by Markstein's correction, which yields
// the correctly rounded quotient, i.e. the same bits as the division: with inv = RN(1 / d)
// and q0 = RN(v * inv) (within an ulp of v / d), r = v - q0 * d is exact in one fma and
// RN(q0 + r * inv) = RN(v / d) (P. Markstein, IBM J. Res. Dev. 34(1), 1990; the quotients here
// are normal or zero). Three multiply-adds pipeline where a division is bound by its divider.
// tests/unit/history/codec_test.cpp checks it bit for bit against the division.
template <bool Fused>
[[gnu::always_inline]] inline void to_decimals_body(std::span<const std::int64_t> m, double divisor,
                                                    std::span<double> out) noexcept {
  constexpr std::size_t kGroup = 8;
  constexpr std::uint64_t kMagicBits = std::bit_cast<std::uint64_t>(0x1.8p52);
  const std::size_t whole = out.size() / kGroup * kGroup;
  std::uint64_t out_of_range = 0;
  for (std::size_t g = 0; g < whole; g += kGroup) {
    for (std::size_t j = 0; j < kGroup; ++j) {
      out_of_range |= (static_cast<std::uint64_t>(m[g + j]) + (std::uint64_t{1} << 51)) >> 52;
    }
  }
  if (out_of_range != 0) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(m[i]) / divisor;
    return;
  }
  const double inverse = 1.0 / divisor;
  for (std::size_t g = 0; g < whole; g += kGroup) {
    for (std::size_t j = 0; j < kGroup; ++j) {
      const double v =
          std::bit_cast<double>(kMagicBits + static_cast<std::uint64_t>(m[g + j])) - 0x1.8p52;
      if constexpr (Fused) {
        const double q0 = v * inverse;
        out[g + j] = std::fma(std::fma(-q0, divisor, v), inverse, q0);
      } else {
        out[g + j] = v / divisor;
      }
    }
  }
  for (std::size_t i = whole; i < out.size(); ++i) out[i] = static_cast<double>(m[i]) / divisor;
}

#if defined(__x86_64__)
// The same loops with 4 doubles per division instead of 2: the division bounds this decoder.
__attribute__((target("avx2"))) void to_decimals_avx2(std::span<const std::int64_t> m,
                                                      double divisor,
                                                      std::span<double> out) noexcept {
  to_decimals_body<false>(m, divisor, out);
}

// And with fused multiply-adds instead of the division.
__attribute__((target("avx2,fma"))) void to_decimals_fma(std::span<const std::int64_t> m,
                                                         double divisor,
                                                         std::span<double> out) noexcept {
  to_decimals_body<true>(m, divisor, out);
}
#endif

}  // namespace

void to_decimals(std::span<const std::int64_t> m, double divisor, std::span<double> out) noexcept {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) {
    if (__builtin_cpu_supports("fma")) return to_decimals_fma(m, divisor, out);
    return to_decimals_avx2(m, divisor, out);
  }
#endif
  to_decimals_body<false>(m, divisor, out);
}

namespace {

bool read_decimal(ByteReader& in, std::uint8_t kind, FloatChain& chain,
                  std::span<double> out) noexcept {
  const bool repeat = kind == kRepeatKind;
  if (repeat) {
    // The int column checks that the chain has a previous block to repeat.
    if (chain.exponent < 0) return false;
    kind = static_cast<std::uint8_t>(1 + chain.exponent);
  }
  const int e = (kind & ~kExceptionFlag) - 1;
  if (e < 0 || e > kMaxDecimalExponent) return false;
  std::uint8_t exceptions = 0;
  if ((kind & kExceptionFlag) != 0 &&
      (!in.read_u8(exceptions) || exceptions == 0 || exceptions > kMaxDecimalExceptions)) {
    return false;
  }
  continue_or_restart(chain, e);
  std::array<std::int64_t, kBlockSize> mantissas;
  if (!read_int_column(in, chain.mantissas, {mantissas.data(), out.size()}, repeat)) {
    return false;
  }
  to_decimals({mantissas.data(), out.size()}, kPow10[e], out);
  int last = -1;
  for (unsigned k = 0; k < exceptions; ++k) {
    std::uint8_t index;
    std::uint64_t swapped;
    if (!in.read_u8(index) || !in.read_varint(swapped)) return false;
    if (static_cast<int>(index) <= last || index >= out.size()) return false;
    out[index] = std::bit_cast<double>(swap_bytes(swapped));
    last = index;
  }
  return true;
}

}  // namespace

bool read_float_column(ByteReader& in, FloatChain& chain, std::span<double> out) noexcept {
  std::uint8_t kind;
  if (out.empty() || out.size() > kBlockSize || !in.read_u8(kind)) return false;
  if (kind == kXorKind) {
    std::uint64_t len;
    std::span<const std::uint8_t> stream;
    if (!in.read_varint(len) || len > kMaxXorBlockBytes || !in.read_span(len, stream)) return false;
    if (!decode_xor(stream, chain.prev_bits, out)) return false;
    chain.exponent = -1;
  } else if (!read_decimal(in, kind, chain, out)) {
    return false;
  }
  chain.prev_bits = std::bit_cast<std::uint64_t>(out.back());
  return true;
}

}  // namespace castor::history::codec
