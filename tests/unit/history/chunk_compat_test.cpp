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

// Written by the version 2 encoder (commit 237ead1) from version2_points() (floats, ints) and
// version2_booleans().
constexpr const char* kVersion2Floats =
    "4353544b020100005802000000002a36fe9c971700af95ad899d971726030000b7686fb02e80010101040288"
    "02a05300c9c8c9ca00cdcccdca01cbc6c9c801cdc8cdc803cbc6cdc805cbc6cfc805cdc4cbc4cfc603d1c8d1"
    "c605cfc6d1c605cfc4cfc405d1c6cfc407cfc6d1c405cfc2cdc2cdc205cfc4cfc403d1c4cfc403cfc4cfc607"
    "cbc2cbc201cfc4cdc603cdc6cdc4cbc601cdc6cdc801cdc8cbc801cdcacbca03c9cacbc802cbcac9ca008603"
    "0185031204020800c9ccc9ca02c9cecbcec9ce00c5cac5cc04c7cec7ce02c3ccc5ce04c5d0c7d004c5d0c3ce"
    "04c3d0c5d0c3d004c1cec3d006c3d0c3d204c3d2c5d204c1d0c1ce06c1cec1d006c5d2c3d0c3d006c3cec1ce"
    "06c5d2c5ce06c3cec3ce04c5d0c5ce04c5ccc3ce02c5ccc5cc04c7cec9cec9ce00c5cac9cc02c9cccbcc00c9"
    "cac9c80a04000000000000000000000000000000000000000000002000900a00a900900a00a900900a00a900"
    "900a00a900900a00a900900a00a900900a00a900900a00a90004020802cbc8c9ca03c9c8c9c601cbc8cbc6cb"
    "c805c9c4cbc603cbc4cdc603cdc4cdc605cdc4cdc403d1c6cdc203d1c6cfc4cfc407cdc4cfc203d1c6d1c405"
    "cfc2cdc203d1c4cfc405cdc2cfc405cfc6cfc201d1c6cfc4cdc605cdc4cdc605cbc4cbc401cfc8cdc803cbc6"
    "cbc601cbc8c9c601cbcacbcacbca00cbcac9ca00c9ccc9ca0a04900a00a900900a00a900900a00a900900a00"
    "a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a"
    "00a904020800c5c8c5ca02c7ccc5ca02c5ccc5cc04c7cec5ccc3cc04c3cec7d202c3cec5d006c5d0c5d202c1"
    "d0c5d008c5d0c3d006c3d2c5d008c5d2c3d0c3d008c5d2c5d206c3d0c3d006c3d0c5d204c1cec3ce06c3cec3"
    "ce06c5d0c7d0c3cc04c5d0c7ce02c5cec5cc02c5ccc7cc02c5cac7cc00c7cac7cc01c7cac9cac9ca01c9cacb"
    "ca0a0400900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900"
    "900a0004020801cbc8c9c600cdcacdc803cbc6cbc601cfc8cdc603cdc4cbc403cfc6cdc4cdc405cfc6cfc607"
    "cdc4d1c605cfc4cfc407cdc4d1c403d1c4d1c605d1c6d1c4cfc405cfc4cfc403d1c4cdc405cfc6cfc403cfc6"
    "cdc405cbc4cd";
constexpr const char* kVersion2Ints =
    "4353544b020200005802000000002a36fe9c971700af95ad899d97170d01000082b5bd222e80010101210148"
    "922449922449922449922449922449122101922449922449922449922449922449920a040000000000000000"
    "00000000000000000000000000002000900a00a900900a00a900900a00a900900a00a900900a00a900900a00"
    "a900900a00a900900a00a9002101244992244992244992244992244992240a04900a00a900900a00a900900a"
    "00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a90090"
    "0a00a900900a00a92101499224499224499224499224499224490a0400900a00a900900a00a900900a00a900"
    "900a00a900900a00a900900a00a900900a00a900900a00a900900a0021019224499224499224499224";
constexpr const char* kVersion2Booleans =
    "4353544b020300005802000000002a36fe9c971700af95ad899d97170d01000007ab97572e80010101200131"
    "8e631cc7388e711ce338c6718ce318122001c7318e631cc7388e711ce338c6718ce30a040000000000000000"
    "00000000000000000000000000002000900a00a900900a00a900900a00a900900a00a900900a00a900900a00"
    "a900900a00a900900a00a900200118c7318e631cc7388e711ce338c6718c0a04900a00a900900a00a900900a"
    "00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a900900a00a90090"
    "0a00a900900a00a92001e318c7318e631cc7388e711ce338c6710a0400900a00a900900a00a900900a00a900"
    "900a00a900900a00a900900a00a900900a00a900900a00a900900a0020018ce318c7318e631cc7388e";

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

// Exercises what version 2 added: an exactly regular clock (all-zero lanes) for the first 300
// points, then a jittered one; a slow wave with noise (the line); a counter and booleans
// (unsigned lanes).
testing::Series version2_points() {
  testing::Series s;
  for (int i = 0; i < 600; ++i) {
    s.ts.push_back(1'700'000'000'000'000'000 + i * 1'000'000'000LL +
                   (i >= 300 ? (i % 5) * 1'000'000LL : 0));
    const double wave = 50 + 5 * std::sin(i / 40.0) + ((i * 7919) % 101) / 1000.0;
    s.doubles.push_back(std::round(wave * 1000) / 1000);
    s.ints.push_back(i / 3);
  }
  return s;
}

// The booleans of the version 2 fixture: runs of on and off.
testing::Series version2_booleans() {
  testing::Series s = version2_points();
  for (std::size_t i = 0; i < s.ints.size(); ++i) s.ints[i] = (i * 31) % 17 < 8 ? 1 : 0;
  return s;
}

// The points of `hex`, a chunk that format `version` wrote (empty, with a failure, if it does
// not decode).
testing::Series decode_fixture(const char* hex, int version) {
  const Bytes bytes = from_hex(hex);
  EXPECT_EQ(bytes[4], version);
  Result<testing::Series> s = testing::decode_all(bytes);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? *s : testing::Series{};
}

void expect_floats(const char* hex, int version, const testing::Series& want) {
  const testing::Series got = decode_fixture(hex, version);
  EXPECT_EQ(got.ts, want.ts);
  testing::expect_same_doubles(want.doubles, got.doubles);
}

void expect_ints(const char* hex, int version, const testing::Series& want) {
  const testing::Series got = decode_fixture(hex, version);
  EXPECT_EQ(got.ts, want.ts);
  EXPECT_EQ(got.ints, want.ints);
}

TEST(ChunkCompatibility, Version1ChunksDecodeToWhatWasWritten) {
  expect_floats(kVersion1Floats, 1, version1_points());
  expect_ints(kVersion1Ints, 1, version1_points());
}

TEST(ChunkCompatibility, Version2ChunksDecodeToWhatWasWritten) {
  expect_floats(kVersion2Floats, 2, version2_points());
  expect_ints(kVersion2Ints, 2, version2_points());
  expect_ints(kVersion2Booleans, 2, version2_booleans());
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
