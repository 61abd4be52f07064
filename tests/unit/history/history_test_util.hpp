// Helpers shared by the history unit tests: encode a series into a chunk, decode a chunk into
// plain vectors, compare doubles bit for bit (NaN payloads and -0.0 included).
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "history/chunk_decoder.hpp"
#include "history/chunk_encoder.hpp"

namespace castor::history::testing {

struct Series {
  std::vector<std::int64_t> ts;
  std::vector<double> doubles;
  std::vector<std::int64_t> ints;  // int64 values, booleans as 0/1
  std::vector<std::string> strings;
};

inline std::uint64_t bits(double v) {
  return std::bit_cast<std::uint64_t>(v);
}

// Decodes every point of a chunk; the Status of the first failure otherwise.
inline Result<Series> decode_all(std::span<const std::uint8_t> chunk, DecodeOptions options = {}) {
  Result<ChunkDecoder> d = ChunkDecoder::open(chunk, options);
  if (!d.is_ok()) return std::move(d).take_status();
  Series out;
  for (;;) {
    Result<std::size_t> n = d->next_block();
    if (!n.is_ok()) return n.status();
    if (*n == 0) break;
    const auto ts = d->timestamps();
    out.ts.insert(out.ts.end(), ts.begin(), ts.end());
    if (d->type() == ValueType::float64) {
      out.doubles.insert(out.doubles.end(), d->doubles().begin(), d->doubles().end());
    } else if (d->type() == ValueType::string) {
      for (const std::int64_t id : d->ints()) out.strings.emplace_back(d->string(id));
    } else {
      out.ints.insert(out.ints.end(), d->ints().begin(), d->ints().end());
    }
  }
  return out;
}

// Appends every point of `s` (using the member that matches `type`); all must be accepted.
inline Bytes encode_all(ValueType type, const Series& s) {
  ChunkEncoder enc(type);
  for (std::size_t i = 0; i < s.ts.size(); ++i) {
    Status st;
    switch (type) {
      case ValueType::float64: st = enc.append(s.ts[i], s.doubles[i]); break;
      case ValueType::int64: st = enc.append(s.ts[i], s.ints[i]); break;
      case ValueType::boolean: st = enc.append(s.ts[i], s.ints[i] != 0); break;
      case ValueType::string: st = enc.append(s.ts[i], std::string_view(s.strings[i])); break;
    }
    EXPECT_TRUE(st.is_ok()) << st.to_string();
  }
  Result<Bytes> sealed = enc.seal();
  EXPECT_TRUE(sealed.is_ok()) << sealed.status().to_string();
  return sealed.is_ok() ? std::move(sealed).value() : Bytes{};
}

inline void expect_same_doubles(const std::vector<double>& want, const std::vector<double>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(bits(want[i]), bits(got[i])) << "at " << i << ": " << want[i] << " vs " << got[i];
  }
}

// Regular timestamps from `start` every `period` ns.
inline std::vector<std::int64_t> regular_ts(std::size_t n, std::int64_t start,
                                            std::int64_t period) {
  std::vector<std::int64_t> ts(n);
  for (std::size_t i = 0; i < n; ++i) ts[i] = start + static_cast<std::int64_t>(i) * period;
  return ts;
}

}  // namespace castor::history::testing
