#include "history/codec/packed_ints.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <utility>

#include "history/codec/bit_stream.hpp"

namespace castor::history::codec {
namespace {

using u64 = std::uint64_t;

// Values are (un)packed in groups of 64: a group of width W is exactly W words, and with W a
// template constant the loops below unroll into straight shifts and masks (no branch per value).
constexpr std::size_t kGroup = 64;

std::size_t packed_bytes(std::size_t n, unsigned width) noexcept {
  return (n * width + 7) / 8;
}
std::size_t groups_of(std::size_t n) noexcept {
  return (n + kGroup - 1) / kGroup;
}

template <unsigned W>
void pack_group(const u64* in, u64* out) noexcept {
  u64 acc = 0;
  unsigned fill = 0;
#pragma GCC unroll 64
  for (unsigned i = 0; i < kGroup; ++i) {
    const u64 v = in[i] & low_bits(W);
    acc |= v << fill;
    if (fill + W >= 64) {
      *out++ = acc;
      acc = fill + W == 64 ? 0 : v >> (64 - fill);
      fill = fill + W - 64;
    } else {
      fill += W;
    }
  }
}

template <unsigned W>
void unpack_group(const u64* in, u64* out) noexcept {
#pragma GCC unroll 64
  for (unsigned i = 0; i < kGroup; ++i) {
    const unsigned bit = i * W;
    const unsigned word = bit / 64, offset = bit % 64;
    u64 v = in[word] >> offset;
    // offset > 0 whenever this runs; the mask only stops a warning about shifting by 64.
    if (offset + W > 64) v |= in[word + 1] << ((64 - offset) & 63);
    out[i] = v & low_bits(W);
  }
}

using GroupFn = void (*)(const u64*, u64*) noexcept;

template <std::size_t... W>
constexpr std::array<GroupFn, sizeof...(W)> packers(std::index_sequence<W...>) {
  return {&pack_group<static_cast<unsigned>(W)>...};
}
template <std::size_t... W>
constexpr std::array<GroupFn, sizeof...(W)> unpackers(std::index_sequence<W...>) {
  return {&unpack_group<static_cast<unsigned>(W)>...};
}
constexpr auto kPackers = packers(std::make_index_sequence<65>{});
constexpr auto kUnpackers = unpackers(std::make_index_sequence<65>{});

void pack(std::span<const u64> values, unsigned w, Bytes& out) {
  Lanes padded;  // whole groups: a short block is padded with zeros
  const u64* in = values.data();
  if (values.size() % kGroup != 0) {
    std::copy(values.begin(), values.end(), padded.begin());
    std::fill(padded.begin() + static_cast<std::ptrdiff_t>(values.size()),
              padded.begin() + static_cast<std::ptrdiff_t>(groups_of(values.size()) * kGroup), 0);
    in = padded.data();
  }
  std::array<u64, kBlockSize> words;
  for (std::size_t g = 0; g < groups_of(values.size()); ++g) {
    kPackers[w](in + g * kGroup, words.data() + g * w);
  }
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(words.data());
  out.insert(out.end(), bytes, bytes + packed_bytes(values.size(), w));
}

// The bit widths present in a block, ascending, and how many values have each.
struct WidthCounts {
  std::array<std::uint8_t, 65> width;
  std::array<std::uint32_t, 65> count;
  unsigned size = 0;
};

WidthCounts count_widths(std::span<const u64> values) noexcept {
  // Four interleaved histograms: runs of equal widths would otherwise serialise on one counter.
  std::array<std::array<std::uint8_t, 65>, 4> parts{};
  std::size_t i = 0;
  for (; i + 4 <= values.size(); i += 4) {
    ++parts[0][std::bit_width(values[i])];
    ++parts[1][std::bit_width(values[i + 1])];
    ++parts[2][std::bit_width(values[i + 2])];
    ++parts[3][std::bit_width(values[i + 3])];
  }
  for (; i < values.size(); ++i) ++parts[0][std::bit_width(values[i])];
  WidthCounts present;
  for (unsigned b = 0; b <= 64; ++b) {
    const std::uint32_t n = std::uint32_t{parts[0][b]} + parts[1][b] + parts[2][b] + parts[3][b];
    if (n == 0) continue;
    present.width[present.size] = static_cast<std::uint8_t>(b);
    present.count[present.size++] = n;
  }
  return present;
}

bool patch_exceptions(ByteReader& in, std::size_t n, unsigned w, unsigned count,
                      Lanes& out) noexcept {
  if (w == 64) return false;  // nothing can be wider than 64 bits
  int last = -1;
  for (unsigned e = 0; e < count; ++e) {
    std::uint8_t index;
    u64 high;
    if (!in.read_u8(index) || !in.read_varint(high)) return false;
    if (static_cast<int>(index) <= last || index >= n) return false;
    if (high == 0 || std::bit_width(high) > 64 - w) return false;
    out[index] |= high << w;
    last = index;
  }
  return true;
}

}  // namespace

PackPlan plan_packing(std::span<const u64> values) noexcept {
  static_assert(kBlockSize < 256, "width counts are kept in bytes");
  u64 any = 0;
  for (const u64 v : values) any |= v;
  if (any == 0) return {};
  const WidthCounts present = count_widths(values);
  // The best width is 0 or one that some value has; every wider value becomes an exception
  // costing an index byte and a varint of its high bits.
  PackPlan best{64, 0, 1 + packed_bytes(values.size(), 64)};
  for (int c = -1; c < static_cast<int>(present.size); ++c) {
    const unsigned w = c < 0 ? 0 : present.width[c];
    std::size_t bytes = 1 + packed_bytes(values.size(), w);
    unsigned exceptions = 0;
    for (unsigned k = static_cast<unsigned>(c + 1); k < present.size; ++k) {
      if (present.width[k] == 0) continue;  // zeros always fit
      exceptions += present.count[k];
      bytes += present.count[k] * (1 + (present.width[k] - w + 6) / 7);
    }
    bytes += exceptions ? 1 : 0;
    if (bytes < best.bytes) best = {w, exceptions, bytes};
  }
  return best;
}

void write_packed(std::span<const u64> values, const PackPlan& plan, Bytes& out,
                  bool with_header) {
  assert(!values.empty() && values.size() <= kBlockSize);
  const unsigned w = plan.width;
  if (with_header) out.push_back(packing_header(plan));
  if (plan.exceptions) out.push_back(static_cast<std::uint8_t>(plan.exceptions));
  if (w > 0) pack(values, w, out);
  if (plan.exceptions == 0) return;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::bit_width(values[i]) <= w) continue;
    out.push_back(static_cast<std::uint8_t>(i));
    put_varint(out, values[i] >> w);
  }
}

bool read_packed(ByteReader& in, std::size_t n, Lanes& out) noexcept {
  std::uint8_t head = 0;
  return read_packed(in, n, out, head, false);
}

bool read_packed(ByteReader& in, std::size_t n, Lanes& out, std::uint8_t& head,
                 bool header_known) noexcept {
  if (n == 0 || n > kBlockSize || (!header_known && !in.read_u8(head))) return false;
  const unsigned w = head & 0x7f;
  if (w > 64) return false;
  std::uint8_t count = 0;
  if ((head & 0x80) != 0 && (!in.read_u8(count) || count == 0 || count > n)) return false;
  std::span<const std::uint8_t> packed;
  if (!in.read_span(packed_bytes(n, w), packed)) return false;
  if (w == 0) {
    std::fill_n(out.begin(), n, 0);
    return count == 0 || patch_exceptions(in, n, w, count, out);
  }
  // Whole groups are unpacked: copy into zeroed words so a short block reads only zeros past
  // its data.
  std::array<u64, kBlockSize> words;
  const std::size_t group_bytes = groups_of(n) * w * 8;
  std::memcpy(words.data(), packed.data(), packed.size());
  std::memset(reinterpret_cast<std::uint8_t*>(words.data()) + packed.size(), 0,
              group_bytes - packed.size());
  for (std::size_t g = 0; g < groups_of(n); ++g) {
    kUnpackers[w](words.data() + g * w, out.data() + g * kGroup);
  }
  return count == 0 || patch_exceptions(in, n, w, count, out);
}

}  // namespace castor::history::codec
