#include <gtest/gtest.h>

#include <set>

#include "api/trace.hpp"
#include "common/log.hpp"

namespace castor {
namespace {

TEST(Log, LogfmtQuotesOnlyWhatNeedsIt) {
  std::string line = log::render(log::Format::logfmt, "server listening",
                                 {{"url", "https://127.0.0.1:8443/"},
                                  {"threads", 2},
                                  {"tls", true},
                                  {"note", "a \"b\"\nc"},
                                  {"empty", ""}});
  EXPECT_EQ(line,
            "msg=\"server listening\" url=https://127.0.0.1:8443/ threads=2 tls=true "
            "note=\"a \\\"b\\\"\\nc\" empty=\"\"");
}

TEST(Log, JsonIsOneValidObjectBody) {
  std::string line = log::render(log::Format::json, "hi", {{"n", 1.5}, {"s", "x\"y"}});
  EXPECT_EQ(line, "\"msg\":\"hi\",\"n\":1.5,\"s\":\"x\\\"y\"");
}

TEST(Log, LevelsAndFormatsParse) {
  EXPECT_TRUE(log::parse_level("warn").is_ok());
  EXPECT_FALSE(log::parse_level("verbose").is_ok());
  EXPECT_EQ(*log::parse_format("json"), log::Format::json);
  EXPECT_FALSE(log::parse_format("xml").is_ok());
}

TEST(Trace, AcceptsValidTraceparentAndMintsOtherwise) {
  api::TraceIds ids;
  auto t = api::trace_from_header("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", ids);
  EXPECT_TRUE(t.from_client);
  EXPECT_EQ(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(t.parent_id, "b7ad6b7169203331");
  for (auto bad : {"", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                   "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", "garbage"}) {
    auto m = api::trace_from_header(std::string_view(bad), ids);
    EXPECT_FALSE(m.from_client) << bad;
    EXPECT_EQ(m.trace_id.size(), 32u);
  }
  EXPECT_NE(api::trace_from_header(std::nullopt, ids).trace_id,
            api::trace_from_header(std::nullopt, ids).trace_id);
}

TEST(Trace, ServerTraceIdsAreValidDistinctAndDifferPerServer) {
  api::TraceIds ids, other;
  std::set<std::string> seen;
  for (int i = 0; i < 100000; ++i) {
    auto t = api::trace_from_header(std::nullopt, ids);
    ASSERT_TRUE(api::valid_traceparent("00-" + t.trace_id + "-b7ad6b7169203331-01")) << t.trace_id;
    ASSERT_TRUE(seen.insert(t.trace_id).second) << t.trace_id << " repeated";
  }
  // A second server's ids start elsewhere: its first id is none of the first's.
  EXPECT_EQ(seen.count(other.next()), 0u);
  // A client's valid traceparent still wins.
  auto t = api::trace_from_header("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", ids);
  EXPECT_EQ(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
}

}  // namespace
}  // namespace castor
