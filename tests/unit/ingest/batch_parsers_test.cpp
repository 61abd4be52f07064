// The three HTTP batch formats: what they accept, and that every bad entry is reported with its
// position instead of being skipped or guessed.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <random>
#include <string>
#include <vector>

#include "ingest/batch_parsers.hpp"

namespace castor::ingest {
namespace {

TEST(LineProtocol, ReadsFieldsTagsTimestampsAndEscapes) {
  auto b = parse_line_protocol(
      "# comment\n"
      "robot-1 temp=21.5,rpm=1200i,on=true,mode=\"auto \\\"x\\\"\" 1700000000000000000\n"
      "\n"
      "robot\\ 2,component=arm axis=-3e2\r\n");
  ASSERT_TRUE(b.errors.empty()) << b.errors[0].message;
  ASSERT_EQ(b.observations.size(), 5u);
  EXPECT_EQ(b.observations[0].twin, "robot-1");
  EXPECT_EQ(b.observations[0].name, "temp");
  EXPECT_EQ(b.observations[0].value.as_double(), 21.5);
  EXPECT_EQ(b.observations[0].ts_ns, 1700000000000000000);
  EXPECT_EQ(b.observations[1].value.as_int64(), 1200);
  EXPECT_TRUE(b.observations[2].value.as_bool());
  EXPECT_EQ(json::sv(b.observations[3].value.as_string()), "auto \"x\"");
  EXPECT_EQ(b.observations[4].twin, "robot 2");
  EXPECT_EQ(b.observations[4].component, "arm");
  EXPECT_EQ(b.observations[4].value.as_double(), -300.0);
  EXPECT_EQ(b.observations[4].ts_ns, 0);  // "now", set at receipt
  EXPECT_EQ(b.origin, (std::vector<std::size_t>{2, 2, 2, 2, 4}));
}

TEST(LineProtocol, EscapedDelimitersStayInNamesAndOtherBackslashesAreKept) {
  auto b = parse_line_protocol(
      "tw\\,in\\=x,component=c\\ 1 fi\\=eld=1,b\\,c=2i\n"
      "a\\b,component=x\\y n\\q=3 5\n");
  ASSERT_TRUE(b.errors.empty()) << b.errors[0].message;
  ASSERT_EQ(b.observations.size(), 3u);
  EXPECT_EQ(b.observations[0].twin, "tw,in=x");
  EXPECT_EQ(b.observations[0].component, "c 1");
  EXPECT_EQ(b.observations[0].name, "fi=eld");
  EXPECT_EQ(b.observations[1].name, "b,c");
  EXPECT_EQ(b.observations[1].component, "c 1");
  EXPECT_EQ(b.observations[2].twin, "a\\b");
  EXPECT_EQ(b.observations[2].component, "x\\y");
  EXPECT_EQ(b.observations[2].name, "n\\q");
  EXPECT_EQ(b.observations[2].ts_ns, 5);
}

TEST(LineProtocol, ReportsEveryBadLineWithItsNumberAndKeepsNothingOfIt) {
  auto b = parse_line_protocol(
      "ok v=1\n"
      "nofields\n"
      "t,site=a v=1\n"
      "t v=abc\n"
      "t v=1,w=\"open\n"
      "t v=1 12x\n"
      "t v=2,w=3 5\n");
  ASSERT_EQ(b.errors.size(), 5u);
  EXPECT_EQ(b.errors[0].index, 2u);
  EXPECT_NE(b.errors[1].message.find("unknown tag 'site'"), std::string::npos);
  EXPECT_NE(b.errors[2].message.find("line 4"), std::string::npos);
  EXPECT_EQ(b.errors[3].index, 5u);
  EXPECT_NE(b.errors[4].message.find("timestamp"), std::string::npos);
  ASSERT_EQ(b.observations.size(), 3u);  // line 1 and both fields of line 7
  EXPECT_EQ(b.origin, (std::vector<std::size_t>{1, 7, 7}));
}

// Float fields are read without from_chars when they are short decimals: the value must be the
// same double, bit for bit, as from_chars gives, for every length and sign.
TEST(LineProtocol, DecimalFieldsAreTheSameDoublesAsFromChars) {
  std::mt19937_64 rng(42);
  std::vector<std::string> texts = {"0",   "-0.0",  "5",   "1200", "21.347", "-3.25", "0.1",
                                    "0.3", "1e3",   "5.",  ".5",   "-.5",    "007.50",
                                    "123456789012345", "1234567890123456", "0.000000000000001",
                                    "9007199254740993", "-999999999999999.9"};
  for (int i = 0; i < 2000; ++i) {
    int digits = 1 + static_cast<int>(rng() % 17);
    std::string t = rng() % 2 ? "-" : "";
    for (int d = 0; d < digits; ++d) t.push_back(static_cast<char>('0' + rng() % 10));
    if (digits > 1 && rng() % 4) t.insert(t.size() - 1 - rng() % (digits - 1), ".");
    texts.push_back(t);
  }
  std::string body;
  for (const auto& t : texts) body += "robot-1 temp=" + t + "\n";
  auto b = parse_line_protocol(body);
  ASSERT_TRUE(b.errors.empty()) << b.errors[0].message;
  ASSERT_EQ(b.observations.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double want = 0;
    std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), want);
    ASSERT_TRUE(b.observations[i].value.is_double()) << texts[i];
    EXPECT_EQ(std::bit_cast<std::uint64_t>(b.observations[i].value.get_double()),
              std::bit_cast<std::uint64_t>(want))
        << texts[i];
  }
}

TEST(JsonBatch, ReadsObservationsWithRfc3339AndNanosecondTimes) {
  auto b = parse_json_batch(R"([
    {"twin":"a","name":"temp","value":1.5,"ts":"2026-11-24T10:00:00.5Z"},
    {"twin":"a","component":"arm","name":"pose","value":{"x":1},"ts":1700000000000000001},
    {"twin":"b","name":"ok","value":false}])");
  ASSERT_TRUE(b.errors.empty()) << b.errors[0].message;
  ASSERT_EQ(b.observations.size(), 3u);
  EXPECT_EQ(b.observations[0].ts_ns, 1795514400500000000);
  EXPECT_EQ(b.observations[1].component, "arm");
  EXPECT_TRUE(b.observations[1].value.is_object());
  EXPECT_EQ(b.observations[1].ts_ns, 1700000000000000001);
  EXPECT_EQ(b.observations[2].ts_ns, 0);
}

TEST(JsonBatch, ListsEveryInvalidEntryByIndex) {
  auto b = parse_json_batch(R"([{"twin":"a","name":"x","value":1},
    {"name":"x","value":1},
    {"twin":"a","name":"x"},
    {"twin":"a","name":"x","value":1,"ts":"yesterday"},
    {"twin":"a","name":"x","value":[1]},
    {"twin":"a","name":"x","value":1,"extra":2},
    7])");
  ASSERT_EQ(b.errors.size(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(b.errors[i].index, i + 1);
  EXPECT_NE(b.errors[0].message.find("twin"), std::string::npos);
  EXPECT_NE(b.errors[2].message.find("ts"), std::string::npos);
  EXPECT_NE(b.errors[4].message.find("extra"), std::string::npos);
  EXPECT_EQ(b.observations.size(), 1u);
  EXPECT_FALSE(parse_json_batch("{\"twin\":1}").errors.empty());
  EXPECT_FALSE(parse_json_batch("[1,").errors.empty());
}

TEST(NdjsonBatch, OneObservationPerLineAndBadLinesByNumber) {
  auto b = parse_ndjson_batch(
      "{\"twin\":\"a\",\"name\":\"x\",\"value\":1}\n\n{oops}\n{\"twin\":\"b\",\"name\":\"y\","
      "\"value\":\"s\"}\n");
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].index, 3u);
  ASSERT_EQ(b.observations.size(), 2u);
  EXPECT_EQ(b.origin, (std::vector<std::size_t>{1, 4}));
}

TEST(BatchFormat, FromContentType) {
  EXPECT_EQ(*batch_format("application/json; charset=utf-8"), BatchFormat::json);
  EXPECT_EQ(*batch_format("application/x-ndjson"), BatchFormat::ndjson);
  EXPECT_EQ(*batch_format("text/plain; charset=utf-8"), BatchFormat::line_protocol);
  EXPECT_FALSE(batch_format("application/xml").is_ok());
}

}  // namespace
}  // namespace castor::ingest
