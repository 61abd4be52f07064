// One block of a chunk: a timestamp column (delta-of-delta or delta) followed by the value column
// for the chunk's type. Shared by ChunkEncoder and ChunkDecoder so the two can never disagree on
// the layout. Reading checks everything a block can get wrong except the time order across blocks.
#pragma once

#include <cstdint>
#include <span>

#include "history/codec/byte_io.hpp"
#include "history/codec/float_column.hpp"
#include "history/codec/int_column.hpp"

namespace castor::history::codec {

// State carried from one block to the next.
struct BlockChains {
  IntChain ts;
  IntChain ints;
  FloatChain floats;

  // The chains at the start of a chunk whose first timestamp is `first_ts`.
  static BlockChains start(std::int64_t first_ts) noexcept {
    BlockChains c;
    c.ts.prev = first_ts;
    return c;
  }
};

// `values` are raw 64-bit lanes: double bits for float64, the integer for int64, 0/1 for boolean,
// the dictionary id for string.
void write_block(ValueType type, std::span<const std::int64_t> ts,
                 std::span<const std::uint64_t> values, BlockChains& chains, Bytes& out);

// Decodes ts.size() points. Float64 values land in `doubles`, every other type in `ints`.
// `dictionary_size` bounds string ids. False if the bytes are not a valid block.
bool read_block(ValueType type, ByteReader& in, std::size_t dictionary_size, BlockChains& chains,
                std::span<std::int64_t> ts, std::span<std::int64_t> ints,
                std::span<double> doubles) noexcept;

}  // namespace castor::history::codec
