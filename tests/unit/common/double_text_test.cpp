#include "common/double_text.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace castor {
namespace {

std::string ours(double d) {
  char buf[kDoubleTextMax];
  return std::string(buf, format_double(buf, d));
}

std::string standard(double d) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
}

void expect_same(double d) {
  ASSERT_EQ(ours(d), standard(d)) << "bits " << std::hex << std::bit_cast<std::uint64_t>(d);
}

TEST(DoubleText, WritesWhatToCharsWritesForOrdinaryValues) {
  for (double d : {0.0,
                   -0.0,
                   1.0,
                   -1.0,
                   0.5,
                   10.0,
                   100.0,
                   1e5,
                   123000.0,
                   1234567.0,
                   0.1,
                   0.2,
                   0.3,
                   1.0 / 3,
                   2.0 / 3,
                   20.5,
                   119.9,
                   0.001,
                   0.0001,
                   1e-5,
                   1e-7,
                   1.5e-7,
                   1e15,
                   1e16,
                   1e17,
                   1e21,
                   1e22,
                   1e23,
                   1e100,
                   1e-100,
                   1.7976931348623157e308,
                   5e-324,
                   2.2250738585072014e-308,
                   9007199254740991.0,
                   9007199254740992.0,
                   9007199254740994.0,
                   18014398509481988.0,
                   123456789012345680000.0,
                   -3.25e-12,
                   4.35,
                   299792458.0,
                   6.02214076e23}) {
    expect_same(d);
  }
  EXPECT_EQ(ours(1e5), "1e+05");  // scientific is shorter than 100000
  EXPECT_EQ(ours(123000.0), "123000");
  EXPECT_EQ(ours(0.001), "0.001");
  EXPECT_EQ(ours(-0.0), "-0");
}

TEST(DoubleText, WritesWhatToCharsWritesAroundPowersOfTen) {
  for (int k = -320; k <= 308; ++k) {
    const double p = std::pow(10.0, k);
    expect_same(p);
    expect_same(std::nextafter(p, 0.0));
    expect_same(std::nextafter(p, std::numeric_limits<double>::infinity()));
    expect_same(-p * 3.7);
  }
  for (int k = 0; k < 64; ++k) expect_same(std::ldexp(1.0, k) + 1);
}

TEST(DoubleText, WritesWhatToCharsWritesForRandomValues) {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 300000; ++i) {
    double d = 0;
    const auto bits = rng();
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) expect_same(d);
    expect_same(20 + 100 * unit(rng));  // the kind of value sensors report
    expect_same(static_cast<double>(static_cast<std::int64_t>(rng() % 100000000)) / 1000);
    expect_same(static_cast<double>(rng() >> (rng() % 64)));
  }
}

TEST(DoubleText, NonFiniteValuesAsToCharsWritesThem) {
  expect_same(std::numeric_limits<double>::infinity());
  expect_same(-std::numeric_limits<double>::infinity());
}

}  // namespace
}  // namespace castor
