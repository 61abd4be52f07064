#include "history/codec/xor_floats.hpp"

#include <algorithm>
#include <array>
#include <bit>

#include "history/codec/bit_stream.hpp"

namespace castor::history::codec {
namespace {

// Control codes, read LSB first: 0 = same value; 1,0 = XOR fits the current window;
// 1,1 = new window: 5 bits leading zeros, 6 bits (meaningful bits - 1), then the bits.
constexpr std::uint64_t kReuseWindow = 0b01;
constexpr std::uint64_t kNewWindow = 0b11;
constexpr unsigned kMaxLeading = 31;
// Re-cut the window when reusing it would waste more bits than a new header costs.
constexpr unsigned kWindowSlack = 11;

}  // namespace

std::size_t encode_xor(std::span<const double> values, std::uint64_t prev,
                       std::uint8_t* out) noexcept {
  BitWriter bits(out);
  unsigned lead_w = 64, trail_w = 0, sig_w = 0;  // lead_w == 64: no window yet
  for (const double value : values) {
    const auto cur = std::bit_cast<std::uint64_t>(value);
    const std::uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits.put(0, 1);
      continue;
    }
    const unsigned lead = std::min<unsigned>(std::countl_zero(x), kMaxLeading);
    const unsigned trail = std::countr_zero(x);
    const unsigned sig = 64 - lead - trail;
    if (lead_w != 64 && lead >= lead_w && trail >= trail_w && sig_w - sig <= kWindowSlack) {
      bits.put(kReuseWindow, 2);
      bits.put(x >> trail_w, sig_w);
      continue;
    }
    bits.put(kNewWindow | lead << 2 | (sig - 1) << 7, 13);
    bits.put(x >> trail, sig);
    lead_w = lead;
    trail_w = trail;
    sig_w = sig;
  }
  return bits.finish();
}

bool decode_xor(std::span<const std::uint8_t> stream, std::uint64_t prev,
                std::span<double> out) noexcept {
  if (stream.size() > kMaxXorBlockBytes || out.size() > kBlockSize) return false;
  // The loop below reads at most kMaxXorBlockBytes whatever the bits say; the padding covers it.
  std::array<std::uint8_t, kMaxXorBlockBytes + 16> padded;
  std::copy(stream.begin(), stream.end(), padded.begin());
  std::fill(padded.begin() + static_cast<std::ptrdiff_t>(stream.size()), padded.end(), 0);
  BitReader bits(padded.data(), stream.size());
  unsigned trail_w = 0, sig_w = 0;  // sig_w == 0: no window yet
  for (double& value : out) {
    if (bits.get(1) != 0) {
      if (bits.get(1) != 0) {
        const auto lead = static_cast<unsigned>(bits.get(5));
        sig_w = static_cast<unsigned>(bits.get(6)) + 1;
        if (lead + sig_w > 64) return false;
        trail_w = 64 - lead - sig_w;
      } else if (sig_w == 0) {
        return false;
      }
      prev ^= bits.get(sig_w) << trail_w;
    }
    value = std::bit_cast<double>(prev);
  }
  return !bits.overran();
}

}  // namespace castor::history::codec
