// Property tests for damaged input: truncated, bit-flipped, random and structurally mutated
// chunks must give a Status error (or, past the checksum, a validated decode), never a crash or an
// out-of-bounds read. Run under ASan+UBSan, these are the decoder's fuzz tests.
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "history/chunk_cursor.hpp"
#include "history/chunk_format.hpp"
#include "history/range_scan.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

using testing::decode_all;
using testing::encode_all;
using testing::Series;

// One chunk of each type, with enough variety to exercise every block scheme.
std::vector<std::pair<ValueType, Bytes>> sample_chunks() {
  std::mt19937_64 rng(5);
  Series s;
  std::int64_t t = 1'700'000'000'000'000'000;
  for (int i = 0; i < 700; ++i) {
    t += 1'000'000'000 + static_cast<std::int64_t>(rng() % 3) * 1'000'000;
    s.ts.push_back(t);
    s.doubles.push_back(i < 300   ? static_cast<double>(rng() % 100000) / 1000
                        : i < 500 ? std::bit_cast<double>(rng())
                                  : 7.25);
    s.ints.push_back(i % 3 == 0 ? static_cast<std::int64_t>(rng()) : i);
    s.strings.push_back(i % 7 == 0 ? "state " + std::to_string(i % 5) : "RUN");
  }
  std::vector<std::pair<ValueType, Bytes>> out;
  for (ValueType type : {ValueType::float64, ValueType::int64, ValueType::string}) {
    out.emplace_back(type, encode_all(type, s));
  }
  for (auto& v : s.ints) v &= 1;
  out.emplace_back(ValueType::boolean, encode_all(ValueType::boolean, s));
  return out;
}

void restamp_checksum(Bytes& chunk) {
  if (chunk.size() < kChunkHeaderSize) return;
  const std::uint32_t crc = compute_checksum(chunk);
  std::memcpy(chunk.data() + 32, &crc, 4);
}

// Either an error, or points that satisfy every promise the decoder makes.
void expect_error_or_valid(const Bytes& chunk, DecodeOptions options = {}) {
  Result<Series> s = decode_all(chunk, options);
  if (!s.is_ok()) {
    EXPECT_EQ(s.status().code(), Code::invalid_argument) << s.status().to_string();
    EXPECT_FALSE(s.status().message().empty());
    return;
  }
  const ChunkHeader h = *read_header(chunk);
  ASSERT_EQ(s->ts.size(), h.count);
  EXPECT_EQ(s->ts.front(), h.min_ts);
  EXPECT_EQ(s->ts.back(), h.max_ts);
  for (std::size_t i = 1; i < s->ts.size(); ++i) ASSERT_LT(s->ts[i - 1], s->ts[i]);
  if (h.type == ValueType::boolean) {
    for (const auto v : s->ints) ASSERT_TRUE(v == 0 || v == 1);
  }
}

TEST(ChunkCorruption, EveryTruncationIsAnError) {
  for (const auto& [type, chunk] : sample_chunks()) {
    for (std::size_t len = 0; len < chunk.size(); ++len) {
      Bytes cut(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(len));
      EXPECT_FALSE(decode_all(cut).is_ok()) << "type " << int(type) << " len " << len;
      // Even with the size and checksum patched to match, the body is incomplete.
      if (len >= kChunkHeaderSize) {
        const auto body = static_cast<std::uint32_t>(len - kChunkHeaderSize);
        std::memcpy(cut.data() + 28, &body, 4);
        restamp_checksum(cut);
        EXPECT_FALSE(decode_all(cut).is_ok()) << "type " << int(type) << " len " << len;
      }
    }
  }
}

TEST(ChunkCorruption, EveryBitFlipIsCaught) {
  for (const auto& [type, chunk] : sample_chunks()) {
    for (std::size_t byte = 0; byte < chunk.size(); byte += 3) {
      Bytes bad = chunk;
      bad[byte] ^= static_cast<std::uint8_t>(1u << (byte % 8));
      EXPECT_FALSE(decode_all(bad).is_ok()) << "type " << int(type) << " byte " << byte;
    }
  }
}

// Past the checksum: mutate the body, re-stamp the checksum, and the structural checks alone must
// hold the line.
TEST(ChunkCorruption, StructuralMutationsNeverCrash) {
  std::mt19937_64 rng(6);
  for (const auto& [type, chunk] : sample_chunks()) {
    for (int round = 0; round < 3000; ++round) {
      Bytes bad = chunk;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = kChunkHeaderSize + rng() % (bad.size() - kChunkHeaderSize);
        switch (rng() % 3) {
          case 0: bad[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
          case 1: bad[at] = static_cast<std::uint8_t>(rng()); break;
          default: bad[at] = rng() % 2 ? 0x00 : 0xff; break;
        }
      }
      restamp_checksum(bad);
      expect_error_or_valid(bad);
      expect_error_or_valid(bad, {.verify_checksum = false});
    }
  }
}

TEST(ChunkCorruption, RandomBodiesBehindAValidHeaderNeverCrash) {
  std::mt19937_64 rng(8);
  for (int round = 0; round < 4000; ++round) {
    const auto type = static_cast<ValueType>(1 + rng() % 4);
    const std::uint32_t count = 1 + static_cast<std::uint32_t>(rng() % 300);
    Bytes body(rng() % 600);
    for (auto& b : body) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() : rng() % 3);
    Bytes chunk;
    const std::int64_t min_ts = static_cast<std::int64_t>(rng() % 1000);
    write_header({type, count, min_ts,
                  count == 1 ? min_ts : min_ts + 1 + static_cast<std::int64_t>(rng() % 100000)},
                 body, chunk);
    chunk.insert(chunk.end(), body.begin(), body.end());
    expect_error_or_valid(chunk);
  }
}

TEST(ChunkCorruption, HeaderFieldsAreValidated) {
  const Bytes good = sample_chunks()[0].second;
  auto mutated = [&](std::size_t offset, std::uint8_t value) {
    Bytes bad = good;
    bad[offset] = value;
    restamp_checksum(bad);
    return bad;
  };
  EXPECT_EQ(read_header(mutated(0, 'X')).status().code(), Code::invalid_argument);  // magic
  const Status version = read_header(mutated(4, kChunkVersion + 1)).status();
  EXPECT_NE(version.message().find("version " + std::to_string(kChunkVersion + 1)),
            std::string::npos)
      << version.message();
  EXPECT_FALSE(read_header(mutated(4, 0)).is_ok());
  EXPECT_FALSE(read_header(mutated(5, 9)).is_ok());      // value type
  EXPECT_FALSE(read_header(mutated(6, 1)).is_ok());      // reserved flags
  EXPECT_FALSE(read_header(mutated(11, 0xff)).is_ok());  // count beyond the maximum
  Bytes zero = good;
  std::memset(zero.data() + 8, 0, 4);  // count 0
  EXPECT_FALSE(read_header(zero).is_ok());
  Bytes reversed = good;  // min ts after max ts
  std::memcpy(reversed.data() + 12, good.data() + 20, 8);
  std::memcpy(reversed.data() + 20, good.data() + 12, 8);
  EXPECT_FALSE(read_header(reversed).is_ok());
  Bytes longer = good;  // a trailing byte the body size does not cover
  longer.push_back(0);
  EXPECT_FALSE(read_header(longer).is_ok());
}

TEST(ChunkCorruption, BytesAfterTheLastBlockAreAnError) {
  Bytes chunk = sample_chunks()[1].second;
  chunk.push_back(0);
  const auto body = static_cast<std::uint32_t>(chunk.size() - kChunkHeaderSize);
  std::memcpy(chunk.data() + 28, &body, 4);
  restamp_checksum(chunk);
  ASSERT_TRUE(read_header(chunk).is_ok());
  EXPECT_FALSE(decode_all(chunk).is_ok());
}

TEST(ChunkCorruption, CursorReportsCorruptionThroughStatus) {
  Bytes chunk = sample_chunks()[0].second;  // 700 points: the last block ends the body
  chunk.pop_back();
  const auto body = static_cast<std::uint32_t>(chunk.size() - kChunkHeaderSize);
  std::memcpy(chunk.data() + 28, &body, 4);
  restamp_checksum(chunk);
  Result<ChunkCursor> c = ChunkCursor::open(chunk);
  ASSERT_TRUE(c.is_ok());
  std::size_t points = 0;
  while (c->next()) ++points;
  EXPECT_EQ(c->status().code(), Code::invalid_argument);
  EXPECT_EQ(points, 5 * kBlockSize) << "the intact blocks before the damage are still read";
  EXPECT_FALSE(c->seek(0)) << "a failed cursor stays failed";
}

}  // namespace
}  // namespace castor::history
