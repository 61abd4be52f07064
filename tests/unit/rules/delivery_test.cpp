// Delivery to a configured endpoint: backoff, dead-letter, order, bounded queue, and events that
// survive a restart — against a real store, with a fake clock and a scripted sender.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/json.hpp"
#include "fakes.hpp"
#include "rules/endpoint_channel.hpp"
#include "rules/outbox.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

namespace castor::rules {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::ScriptedSender;
using testing::SharedSender;

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return done();
}

std::vector<json::value> read_ndjson(const std::filesystem::path& p) {
  std::vector<json::value> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(*json::parse(line));
  return out;
}

class Delivery : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::Store::open(dir_.path() / "store", {kEventRoutesFamily});
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    store_ = std::move(*s);
    cf_ = *store_->column_family(kEventRoutesFamily);
  }

  std::unique_ptr<EndpointChannel> channel(ScriptedSender& sender, RetryPolicy retry,
                                           std::size_t limit = 100, Clock* clock = nullptr) {
    ChannelOptions o{"hook", retry, limit, dir_.path() / "deadletter"};
    return std::make_unique<EndpointChannel>(o, std::make_unique<SharedSender>(sender), *store_,
                                             cf_, clock ? *clock : clock_);
  }

  std::size_t stored() {
    auto all = load_outbox(*store_, cf_);
    return all->count("hook") ? all->at("hook").size() : 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  store::ColumnFamily cf_;
  FakeClock clock_;
};

TEST(RetryPolicy, BackoffDoublesUpToTheCap) {
  RetryPolicy p{10, 1000ms, 5000ms};
  std::vector<long long> waits;
  for (std::uint64_t a = 1; a <= 6; ++a) waits.push_back(p.backoff(a).count());
  EXPECT_EQ(waits, (std::vector<long long>{1000, 2000, 4000, 5000, 5000, 5000}));
  EXPECT_EQ(p.backoff(1000).count(), 5000);
  EXPECT_FALSE(p.exhausted(9));
  EXPECT_TRUE(p.exhausted(10));
}

TEST_F(Delivery, RetriesWithExponentialBackoffUntilDelivered) {
  ScriptedSender sender(&clock_, {SendResult::failed("HTTP 503"), SendResult::failed("HTTP 503")},
                        SendResult::ok());
  auto ch = channel(sender, {10, 1000ms, 60000ms});
  ch->start();
  OutboxWriter writer(*store_, cf_);
  writer.submit(*ch, "hook", R"({"id":"e1"})");
  ASSERT_TRUE(eventually([&] { return ch->stats().delivered == 1; }));
  auto calls = sender.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].at_ms - calls[0].at_ms, 1000);
  EXPECT_EQ(calls[2].at_ms - calls[1].at_ms, 2000);
  EXPECT_EQ(ch->stats().failed_attempts, 2u);
  EXPECT_TRUE(eventually([&] { return stored() == 0; }));  // delivered events leave the outbox
}

TEST_F(Delivery, DeadLettersAfterTheLastAttemptAndMovesOn) {
  ScriptedSender sender(
      &clock_,
      {SendResult::failed("connection refused"), SendResult::failed("connection refused"),
       SendResult::failed("connection refused")},
      SendResult::ok());
  auto ch = channel(sender, {3, 500ms, 60000ms});
  ch->start();
  OutboxWriter writer(*store_, cf_);
  writer.submit(*ch, "hook", R"({"id":"doomed"})");
  writer.submit(*ch, "hook", R"({"id":"next"})");
  ASSERT_TRUE(eventually([&] { return ch->stats().delivered == 1; }));
  EXPECT_EQ(ch->stats().dead_lettered, 1u);
  auto letters = read_ndjson(dir_.path() / "deadletter" / "hook.ndjson");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(json::sv(letters[0].at("event").at("id").get_string()), "doomed");
  EXPECT_EQ(letters[0].at("attempts").as_int64(), 3);
  EXPECT_EQ(json::sv(letters[0].at("endpoint").get_string()), "hook");
  EXPECT_NE(
      json::sv(letters[0].at("reason").get_string()).find("connection refused (after 3 attempts)"),
      std::string_view::npos);
  auto calls = sender.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[3].event, R"({"id":"next"})");
  EXPECT_TRUE(eventually([&] { return stored() == 0; }));
}

TEST_F(Delivery, RejectedEventsAreDeadLetteredAtOnce) {
  ScriptedSender sender(&clock_, {SendResult::rejected("HTTP 400 Bad Request")}, SendResult::ok());
  auto ch = channel(sender, {10, 1000ms, 60000ms});
  ch->start();
  OutboxWriter writer(*store_, cf_);
  writer.submit(*ch, "hook", R"({"id":"bad"})");
  ASSERT_TRUE(eventually([&] { return ch->stats().dead_lettered == 1; }));
  EXPECT_EQ(sender.calls().size(), 1u);
  auto letters = read_ndjson(dir_.path() / "deadletter" / "hook.ndjson");
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(json::sv(letters[0].at("reason").get_string()), "rejected: HTTP 400 Bad Request");
}

TEST_F(Delivery, KeepsOrderAcrossFailures) {
  std::deque<SendResult> script;
  for (int i = 0; i < 40; ++i)
    script.push_back(i % 3 == 0 ? SendResult::failed("flaky") : SendResult::ok());
  ScriptedSender sender(&clock_, script, SendResult::ok());
  auto ch = channel(sender, {10, 10ms, 100ms});
  OutboxWriter writer(*store_, cf_);
  for (int i = 0; i < 30; ++i) writer.submit(*ch, "hook", "{\"n\":" + std::to_string(i) + "}");
  ch->start();
  ASSERT_TRUE(eventually([&] { return ch->stats().delivered == 30; }));
  std::vector<std::string> delivered;
  std::string last;
  for (const auto& c : sender.calls()) {
    if (c.event != last) delivered.push_back(c.event);
    last = c.event;
  }
  ASSERT_EQ(delivered.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(delivered[i], "{\"n\":" + std::to_string(i) + "}");
}

TEST_F(Delivery, AFullQueueDeadLettersNewEventsInsteadOfGrowing) {
  ScriptedSender sender(&clock_, {}, SendResult::failed("down"));
  auto ch = channel(sender, {1000, 3600000ms, 3600000ms}, 2);
  OutboxWriter writer(*store_, cf_);
  for (int i = 0; i < 5; ++i) writer.submit(*ch, "hook", "{\"n\":" + std::to_string(i) + "}");
  writer.stop();
  EXPECT_EQ(ch->stats().queued, 2u);
  EXPECT_EQ(ch->stats().dead_lettered, 3u);
  EXPECT_EQ(stored(), 2u);
  auto letters = read_ndjson(dir_.path() / "deadletter" / "hook.ndjson");
  ASSERT_EQ(letters.size(), 3u);
  EXPECT_EQ(json::serialize(letters[0].at("event")), R"({"n":2})");
  EXPECT_NE(json::sv(letters[0].at("reason").get_string()).find("queue was full (2 undelivered"),
            std::string_view::npos);
}

TEST_F(Delivery, UndeliveredEventsSurviveARestart) {
  {
    SteadyClock real;  // the first failure waits an hour, until stop()
    ScriptedSender down(nullptr, {}, SendResult::failed("down"));
    auto ch = channel(down, {1000, 3600000ms, 3600000ms}, 100, &real);
    ch->start();
    OutboxWriter writer(*store_, cf_);
    for (int i = 0; i < 3; ++i) writer.submit(*ch, "hook", "{\"n\":" + std::to_string(i) + "}");
    writer.stop();  // taken: durable in the outbox
    ASSERT_TRUE(eventually([&] { return !down.calls().empty(); }));
    ch->stop();
  }
  store_->close();
  auto reopened = store::Store::open(dir_.path() / "store", {kEventRoutesFamily});
  ASSERT_TRUE(reopened.is_ok());
  store_ = std::move(*reopened);
  cf_ = *store_->column_family(kEventRoutesFamily);
  ASSERT_EQ(stored(), 3u);

  ScriptedSender up(&clock_, {}, SendResult::ok());
  auto ch = channel(up, {10, 10ms, 10ms});
  ch->restore(std::move(load_outbox(*store_, cf_)->at("hook")));
  ch->start();
  ASSERT_TRUE(eventually([&] { return ch->stats().delivered == 3; }));
  auto calls = up.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].event, R"({"n":0})");
  EXPECT_EQ(calls[2].event, R"({"n":2})");
  OutboxWriter writer(*store_, cf_);
  writer.submit(*ch, "hook", R"({"n":3})");  // numbering continues after the restored ones
  ASSERT_TRUE(eventually([&] { return ch->stats().delivered == 4; }));
  EXPECT_TRUE(eventually([&] { return stored() == 0; }));
  ch->stop();
}

TEST_F(Delivery, StopInterruptsAWaitingChannelPromptly) {
  ScriptedSender sender(nullptr, {}, SendResult::failed("down"));
  ChannelOptions o{"hook", {1000, 3600000ms, 3600000ms}, 10, dir_.path() / "deadletter"};
  SteadyClock real;
  EndpointChannel ch(o, std::make_unique<SharedSender>(sender), *store_, cf_, real);
  ch.start();
  OutboxWriter writer(*store_, cf_);
  writer.submit(ch, "hook", "{}");
  ASSERT_TRUE(eventually([&] { return !sender.calls().empty(); }));
  auto start = std::chrono::steady_clock::now();
  ch.stop();  // it is waiting an hour before the next attempt
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(stored(), 1u);
}

TEST(OutboxKeys, SortBySequence) {
  EXPECT_LT(outbox_key("a", 9), outbox_key("a", 10));
  EXPECT_LT(outbox_key("a", 0xff), outbox_key("a", 0x100));
  EXPECT_TRUE(outbox_key("hook", 1).starts_with(outbox_prefix("hook")));
}

}  // namespace
}  // namespace castor::rules
