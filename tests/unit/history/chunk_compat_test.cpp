// Chunks written by earlier releases stay readable: fixed bytes of each format version, produced
// by that version's encoder, must decode to the points that were written. Never regenerate these
// with a newer encoder; add a new fixture for a new version instead.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "history/chunk_format.hpp"
#include "history_test_util.hpp"

namespace castor::history {
namespace {

// Written by the version 1 encoder (commit da28d75) from the points of version1_points().
constexpr const char* kVersion1Floats =
    "4353544b010100002c01000000002a36fe9c9717403940d4439d9717e3010000dc34ad270a8401200000d00e"
    "0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000"
    "ed0000d00e0000ed0000d00e0000ed017d8402028802402701dfd405e3ce0be9ccebca11f1ca11f1c813edca"
    "edce11e7d20de1d403dddadbe006d5e60acfea10cdf0cbf014c7f0146b00daffeccbec0acfe608d7e002dbd8"
    "ddd407e5d20de9ca0defcaefca15efca13efcc13e9cee9d009e3d605dbda02d9e4d7e80acfea10cbee12c7f0"
    "c9f016c9f012cbee0ecbe6cfe606d7e200dd009c01019b0132fff0033380010a040000d00e0000ed0000d00e"
    "0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000"
    "ed0000d00e0000ed00040208dc07dfd4e7d20fe7ca0fedc811f1caefc813edca11e9cc0be7d4e5d601dfdc02"
    "d7e208d3e8cfec0ecbf012c9f014c7f0c7ee14cbec10cfea08cfe0d5de02dbd805e1d409e9d0ebcc11edca13"
    "efc813efcaefcc11ebce0be5d005e1d8dddc04d9e20ad3e80ecfeecbee12c7f014c7ee16cbf0c9ea10cde60c"
    "d5e406dbdeddda050a0400d00e0000ed0000d00e0000ed0000d00e0000ed0000040208e3d409e9d011e9caef"
    "ca11f1c811f1ca11edccebce0be5d207e1da01d9dcd5e208d1e80ecdec10c7eec7ee16";
constexpr const char* kVersion1Ints =
    "4353544b010200002c01000000002a36fe9c9717403940d4439d97170e020000c4fda7c60a8401200000d00e"
    "0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000"
    "ed0000d00e0000ed0000d00e0000ed017d02832117499224499224499224499223499224c991244972244992"
    "23497224498e243992e448722439921c498e244772244772007c017d20f90121fa012df9012efa0137f90138"
    "fa0140f90141fa0147f90148fa014ef9014ffa0154f90155fa015af9015bfa015ff90160fa0164f90165fa01"
    "69f9016afa016ef9016ffa0173f90174fa0177f90178fa017bf9017cfa017ff9010a040000d00e0000ed0000"
    "d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e0000ed0000d00e"
    "0000ed0000d00e0000ed00000ae7680472a997e80579890768f87859c8e8fb6919d8d5fe9636285709809617"
    "d7025bed47a9047a6dc828fd9f2218970887c227ea017281a868fd9b3eb8570557e5c728f86e05c896088cea"
    "37e9f67109d8d60751eda7a8f9a432e717036691e8d4fe87aed7a9f5b10a781704658938d50c83e6c7a8fa9a"
    "7287eaf3b40ec8d7017245889606608988550a52bdc8140d48e148d40e42f508940f40f908540f42ed0a0400"
    "d00e0000ed0000d00e0000ed0000d00e0000ed0000000a48140e48d1c8d40b52a58895086069885604721dc8"
    "ebf0b43e872af79aaac7680e43cd389508654178abf0b15ad7e9fa47ede814096631";

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

testing::Series version1_points() {
  testing::Series s;
  for (int i = 0; i < 300; ++i) {
    s.ts.push_back(1'700'000'000'000'000'000 + i * 1'000'000'000LL + (i % 7) * 1'000'000LL);
    double v = std::round((20 + std::sin(i / 10.0) + ((i * 37) % 11) / 100.0) * 1000) / 1000;
    if (i == 50) v = std::nan("");
    if (i == 51) v = -0.0;
    s.doubles.push_back(v);
    s.ints.push_back((i * i) % 1000 - 500);
  }
  return s;
}

TEST(ChunkCompatibility, Version1ChunksDecodeToWhatWasWritten) {
  const testing::Series want = version1_points();
  const Bytes floats = from_hex(kVersion1Floats);
  const Bytes ints = from_hex(kVersion1Ints);
  ASSERT_EQ(floats[4], 1);
  ASSERT_EQ(ints[4], 1);
  Result<testing::Series> f = testing::decode_all(floats);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(f->ts, want.ts);
  testing::expect_same_doubles(want.doubles, f->doubles);
  Result<testing::Series> n = testing::decode_all(ints);
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(n->ts, want.ts);
  EXPECT_EQ(n->ints, want.ints);
}

TEST(ChunkCompatibility, ThisBuildWritesTheCurrentVersion) {
  const testing::Series s = version1_points();
  const Bytes floats = testing::encode_all(ValueType::float64, s);
  EXPECT_EQ(floats[4], kChunkVersion);
  testing::expect_same_doubles(s.doubles, testing::decode_all(floats)->doubles);
  const Bytes ints = testing::encode_all(ValueType::int64, s);
  EXPECT_EQ(ints[4], kChunkVersion);
  EXPECT_EQ(testing::decode_all(ints)->ints, s.ints);
}

}  // namespace
}  // namespace castor::history
