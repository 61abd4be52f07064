#include "common/json.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace castor::json {
namespace {

std::string error_of(std::string_view text, ParseLimits limits = {}) {
  value v;
  ParseError e;
  EXPECT_FALSE(parse(text, v, e, limits)) << text;
  return e.to_string();
}

TEST(JsonParse, AcceptsOrdinaryDocuments) {
  auto r = parse(R"({"a":[1,2.5,"x",true,null],"b":{"c":-3}})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->at("a").as_array().size(), 5u);
  EXPECT_EQ(r->at("b").at("c").as_int64(), -3);
}

TEST(JsonParse, RejectsDuplicateKeysWithPosition) {
  EXPECT_EQ(error_of("{\n  \"a\": 1,\n  \"a\": 2\n}"),
            "line 3, column 5: duplicate key \"a\" in an object");
  // Same key in sibling objects is fine.
  EXPECT_TRUE(parse(R"([{"a":1},{"a":2}])").is_ok());
}

TEST(JsonParse, RejectsByteOrderMarks) {
  EXPECT_NE(error_of("\xEF\xBB\xBF{}").find("byte-order mark"), std::string::npos);
  EXPECT_NE(error_of(std::string("\xFF\xFE{\0}\0", 6)).find("UTF-16"), std::string::npos);
}

TEST(JsonParse, RejectsInvalidUtf8) {
  EXPECT_NE(error_of("{\"a\":\"\xC3\x28\"}").find("line 1"), std::string::npos);
  EXPECT_FALSE(parse("\"\xFF\"").is_ok());
}

TEST(JsonParse, RejectsDeepNestingWithoutCrashing) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  EXPECT_NE(error_of(deep).find("nesting is too deep"), std::string::npos);
}

TEST(JsonParse, RejectsOversizedDocuments) {
  ParseLimits small;
  small.max_bytes = 10;
  EXPECT_NE(error_of("[1,2,3,4,5,6,7,8]", small).find("more than the limit"), std::string::npos);
}

TEST(JsonParse, RejectsMalformedText) {
  EXPECT_NE(error_of("{\"a\":}").find("line 1, column 6"), std::string::npos);
  EXPECT_NE(error_of("{} x").find("unexpected data"), std::string::npos);
  EXPECT_NE(error_of("[1,").find("ends too early"), std::string::npos);
  EXPECT_FALSE(parse("").is_ok());
  EXPECT_FALSE(parse("[1,]").is_ok());
  EXPECT_FALSE(parse("// c\n1").is_ok());
}

// The escaping append_string must produce, byte by byte, written the plain way.
std::string escaped_plainly(std::string_view s) {
  std::string r = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\r': r += "\\r"; break;
      case '\t': r += "\\t"; break;
      case '\b': r += "\\b"; break;
      case '\f': r += "\\f"; break;
      default:
        if (c < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          r += "\\u00";
          r.push_back(hex[c >> 4]);
          r.push_back(hex[c & 15]);
        } else {
          r.push_back(static_cast<char>(c));
        }
    }
  }
  return r + "\"";
}

TEST(JsonSerialize, EscapesStringsLikeThePlainRule) {
  std::mt19937_64 rng(42);
  // Bytes near the edges of the word-at-a-time test, at every position and length.
  static constexpr unsigned char edge[] = {0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']',
                                           0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xe2, 0xff, 'a'};
  for (int n = 0; n < 200000; ++n) {
    std::string s(rng() % 40, 'x');
    for (char& c : s) {
      const auto r = rng() % 4;
      c = static_cast<char>(r == 0 ? edge[rng() % sizeof edge] : r == 1 ? rng() % 256 : 'a' + rng() % 26);
    }
    std::string out = "prefix";
    append_string(out, s);
    ASSERT_EQ(out, "prefix" + escaped_plainly(s)) << n;
  }
  std::string out;
  append_string(out, "");
  EXPECT_EQ(out, "\"\"");
}

TEST(JsonSerialize, EscapesOneSpecialByteAtEveryPositionOfACleanString) {
  static constexpr unsigned char edge[] = {0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '[', '\\', ']',
                                           0x7f, 0x80, 0x9f, 0xa0, 0xdc, 0xe2, 0xff};
  for (std::size_t len = 1; len <= 33; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (unsigned char e : edge) {
        std::string s(len, 'k');
        s[at] = static_cast<char>(e);
        std::string out;
        append_string(out, s);
        ASSERT_EQ(out, escaped_plainly(s)) << len << " " << at << " " << int(e);
      }
    }
  }
}

TEST(JsonSerialize, PrintsShortestRoundTripNumbers) {
  auto v = parse(R"({"t":71.5,"i":-7,"u":18446744073709551615,"s":"a\"b\n\u0001","z":0.1})");
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(serialize(*v),
            R"({"t":71.5,"i":-7,"u":18446744073709551615,"s":"a\"b\n\u0001","z":0.1})");
  value inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(serialize(inf), "null");
}

TEST(JsonParse, ReadsDoublesExactlySoPrintedValuesRoundTrip) {
  // Boost.JSON 1.81 alone reads 93.33333333333333 as 93.33333333333331 (one ulp off).
  for (double d : {280.0 / 3, 0.1 + 0.2, 2.2250738585072014e-308, 1.7976931348623157e308,
                   -123456.78901234567, 5e-324}) {
    std::string text;
    append_double(text, d);
    auto v = parse("[" + text + "]");
    ASSERT_TRUE(v.is_ok()) << text;
    EXPECT_EQ(v->get_array()[0].get_double(), d) << text;
    EXPECT_EQ(serialize(v->get_array()[0]), text);
  }
}

TEST(JsonNumbers, IntegerAndDoubleViews) {
  long long i = 0;
  double d = 0;
  EXPECT_TRUE(as_int64(value(5), i));
  EXPECT_EQ(i, 5);
  EXPECT_FALSE(as_int64(value(5.5), i));
  EXPECT_TRUE(as_double(value(5), d));
  EXPECT_EQ(d, 5.0);
  EXPECT_FALSE(as_double(value("5"), d));
}

}  // namespace
}  // namespace castor::json
