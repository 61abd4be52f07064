#include "common/double_text.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace castor {
namespace {

constexpr char kPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// The eight decimal digits of x < 10^8, leading zeros included, as ASCII in memory order: the
// four pairs and then their digits are split with multiplications in parallel lanes (no loop of
// dependent divisions).
inline __attribute__((always_inline)) std::uint64_t eight_digits(std::uint32_t x) noexcept {
  static_assert(std::endian::native == std::endian::little,
                "digits are laid out for little-endian");
  const std::uint64_t v = (x / 10000) | (static_cast<std::uint64_t>(x % 10000) << 32);
  const std::uint64_t hundreds = ((v * 10486) >> 20) & 0x0000007F0000007FULL;  // lane / 100
  const std::uint64_t pairs = hundreds | ((v - hundreds * 100) << 16);         // 4 lanes < 100
  const std::uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000FULL;    // lane / 10
  return (tens | ((pairs - tens * 10) << 8)) + 0x3030303030303030ULL;
}

constexpr std::uint64_t kPow10[] = {1ULL,
                                    10ULL,
                                    100ULL,
                                    1000ULL,
                                    10000ULL,
                                    100000ULL,
                                    1000000ULL,
                                    10000000ULL,
                                    100000000ULL,
                                    1000000000ULL,
                                    10000000000ULL,
                                    100000000000ULL,
                                    1000000000000ULL,
                                    10000000000000ULL,
                                    100000000000000ULL,
                                    1000000000000000ULL,
                                    10000000000000000ULL,
                                    100000000000000000ULL};

// The digits of m < 10^17 at out[0..17) with leading zeros; returns how many are significant.
int seventeen_digits(char* out, std::uint64_t m) noexcept {
  out[0] = static_cast<char>('0' + m / 10000000000000000ULL);
  const std::uint64_t mid = eight_digits(static_cast<std::uint32_t>(m / 100000000 % 100000000));
  const std::uint64_t low = eight_digits(static_cast<std::uint32_t>(m % 100000000));
  std::memcpy(out + 1, &mid, 8);
  std::memcpy(out + 9, &low, 8);
  // Digits of m > 0: log10 estimated from its bit width, then corrected by one comparison.
  const int t = (std::bit_width(m) * 1233) >> 12;
  return t + (m >= kPow10[t] ? 1 : 0);
}

}  // namespace

char* format_double(char* p, double d) noexcept {
  if (!std::isfinite(d) || d == 0) return std::to_chars(p, p + kDoubleTextMax, d).ptr;
  // Shortest digits m x 10^e that read back as d (Dragonbox; the same digits Ryu finds). This is
  // fmt's internal API (fmt 9 as Debian 12 ships it); DoubleText's tests compare every output
  // with std::to_chars, so a fmt that changed it would fail them rather than write other text.
  const auto dec = fmt::detail::dragonbox::to_decimal(d);
  std::uint64_t m = dec.significand;
  int e = dec.exponent;
  while (m % 10 == 0) {
    m /= 10;
    ++e;
  }
  // Every copy below has a fixed size (a few vector moves, no library call), so it may copy
  // bytes past the digits: `buf` and the output's kDoubleTextMax leave room for that.
  char buf[48] = {};
  const int n = seventeen_digits(buf, m);
  const char* const digits = buf + 17 - n;
  const int sci_exp = e + n - 1;
  const int abs_exp = sci_exp < 0 ? -sci_exp : sci_exp;
  const int sci_len = n + (n > 1 ? 1 : 0) + 2 + (abs_exp >= 100 ? 3 : 2);
  const int fixed_len = e >= 0 ? n + e : n + e > 0 ? n + 1 : 2 - e;
  // A fixed integer at or above 2^53 is where "shortest digits then zeros" and the exact value
  // could part: leave those to the standard library.
  if (sci_len >= fixed_len && e > 0 && std::fabs(d) >= 9007199254740992.0) {
    return std::to_chars(p, p + kDoubleTextMax, d).ptr;
  }
  if (std::signbit(d)) *p++ = '-';
  if (sci_len < fixed_len) {  // d[.ddd]e+XX
    p[0] = digits[0];
    p[1] = '.';
    std::memcpy(p + 2, digits + 1, 16);
    p += n > 1 ? n + 1 : 1;
    p[0] = 'e';
    p[1] = sci_exp < 0 ? '-' : '+';
    if (abs_exp >= 100) {
      p[2] = static_cast<char>('0' + abs_exp / 100);
      std::memcpy(p + 3, kPairs + (abs_exp % 100) * 2, 2);
      return p + 5;
    }
    std::memcpy(p + 2, kPairs + abs_exp * 2, 2);
    return p + 4;
  }
  if (e >= 0) {  // ddd000 (e <= 5 here)
    std::memcpy(p, digits, 24);
    std::memset(p + n, '0', 8);
    return p + n + e;
  }
  if (n + e > 0) {  // dd.ddd
    const int whole = n + e;
    std::memcpy(p, digits, 24);
    p[whole] = '.';
    std::memcpy(p + whole + 1, digits + whole, 16);
    return p + n + 1;
  }
  const int zeros = -e - n;  // 0.000ddd (at most 4 zeros here)
  std::memcpy(p, "0.000000", 8);
  std::memcpy(p + 2 + zeros, digits, 24);
  return p + 2 + zeros + n;
}

}  // namespace castor
