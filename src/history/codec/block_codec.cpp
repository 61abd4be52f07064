#include "history/codec/block_codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>

namespace castor::history::codec {

void write_block(ValueType type, std::span<const std::int64_t> ts,
                 std::span<const std::uint64_t> values, BlockChains& chains, Bytes& out) {
  assert(!ts.empty() && ts.size() == values.size() && ts.size() <= kBlockSize);
  write_int_column(ts, kDifferenceTransforms, chains.ts, out);
  if (type == ValueType::float64) {
    std::array<double, kBlockSize> doubles;
    std::transform(values.begin(), values.end(), doubles.begin(),
                   [](std::uint64_t bits) { return std::bit_cast<double>(bits); });
    write_float_column({doubles.data(), values.size()}, chains.floats, out);
    return;
  }
  std::array<std::int64_t, kBlockSize> ints;
  std::transform(values.begin(), values.end(), ints.begin(),
                 [](std::uint64_t v) { return static_cast<std::int64_t>(v); });
  write_int_column({ints.data(), values.size()}, kAnyTransform, chains.ints, out);
}

namespace {

bool all_below(std::span<const std::int64_t> v, std::uint64_t limit) noexcept {
  return std::all_of(v.begin(), v.end(),
                     [limit](std::int64_t x) { return static_cast<std::uint64_t>(x) < limit; });
}

}  // namespace

bool read_block(ValueType type, ByteReader& in, std::size_t dictionary_size, BlockChains& chains,
                std::span<std::int64_t> ts, std::span<std::int64_t> ints,
                std::span<double> doubles) noexcept {
  if (!read_int_column(in, chains.ts, ts)) return false;
  switch (type) {
    case ValueType::float64: return read_float_column(in, chains.floats, doubles);
    case ValueType::int64: return read_int_column(in, chains.ints, ints);
    case ValueType::boolean: return read_int_column(in, chains.ints, ints) && all_below(ints, 2);
    case ValueType::string:
      return read_int_column(in, chains.ints, ints) && all_below(ints, dictionary_size);
  }
  return false;
}

}  // namespace castor::history::codec
