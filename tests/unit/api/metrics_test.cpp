#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <thread>

#include "common/metrics.hpp"

namespace castor::metrics {
namespace {

TEST(Metrics, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  Registry r;
  auto& requests = r.counter_family("castor_requests_total", "Requests served.", {"route", "code"});
  requests.with({"/a", "200"}).inc();
  requests.with({"/a", "200"}).inc(2);
  requests.with({"/b\"\\\n", "500"}).inc();
  r.gauge("castor_temperature", "Line 1\nline 2 \\").set(21.5);
  std::string text = r.expose();
  EXPECT_NE(text.find("# HELP castor_requests_total Requests served.\n"
                      "# TYPE castor_requests_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("castor_requests_total{route=\"/a\",code=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("castor_requests_total{route=\"/b\\\"\\\\\\n\",code=\"500\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# HELP castor_temperature Line 1\\nline 2 \\\\\n"), std::string::npos);
  EXPECT_NE(text.find("castor_temperature 21.5\n"), std::string::npos);
  // Families are sorted by name.
  EXPECT_LT(text.find("castor_requests_total"), text.find("castor_temperature"));
}

TEST(Metrics, HistogramHasCumulativeBucketsSumAndCount) {
  Registry r;
  const double bounds[] = {0.25, 1, 10};
  auto& h = r.histogram("castor_latency_seconds", "Latency.", bounds);
  h.observe(0.125);
  h.observe(0.25);  // le is inclusive
  h.observe(5);
  h.observe(50);
  std::string text = r.expose();
  EXPECT_NE(text.find("# TYPE castor_latency_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("castor_latency_seconds_bucket{le=\"0.25\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("castor_latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("castor_latency_seconds_bucket{le=\"10\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("castor_latency_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("castor_latency_seconds_sum 55.375\n"), std::string::npos) << text;
  EXPECT_NE(text.find("castor_latency_seconds_count 4\n"), std::string::npos);
}

TEST(Metrics, CallbackGaugesAreReadAtScrapeAndRemovedWithTheirHandle) {
  Registry r;
  double depth = 3;
  {
    auto h0 =
        r.callback_gauge("castor_queue_depth", "Depth.", {{"shard", "0"}}, [&] { return depth; });
    auto h1 =
        r.callback_gauge("castor_queue_depth", "Depth.", {{"shard", "1"}}, [] { return 7.0; });
    depth = 4;
    std::string text = r.expose();
    EXPECT_EQ(text.find("# TYPE castor_queue_depth gauge"),
              text.rfind("# TYPE castor_queue_depth gauge"));
    EXPECT_NE(text.find("castor_queue_depth{shard=\"0\"} 4\n"), std::string::npos) << text;
    EXPECT_NE(text.find("castor_queue_depth{shard=\"1\"} 7\n"), std::string::npos);
  }
  EXPECT_EQ(r.expose().find("castor_queue_depth"), std::string::npos);
}

TEST(Metrics, SpecialValuesAndNames) {
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_TRUE(valid_metric_name("castor:x_total"));
  EXPECT_FALSE(valid_metric_name("1x"));
  EXPECT_FALSE(valid_label_name("__reserved"));
  EXPECT_FALSE(valid_label_name("le"));
}

TEST(Metrics, ConflictingRegistrationsAreProgrammingErrors) {
  Registry r;
  r.counter_family("castor_x_total", "X.", {"a"});
  EXPECT_NO_THROW(r.counter_family("castor_x_total", "X.", {"a"}));
  EXPECT_THROW(r.counter_family("castor_x_total", "X.", {"b"}), std::logic_error);
  EXPECT_THROW(r.gauge_family("castor_x_total", "X.", {"a"}), std::logic_error);
  EXPECT_THROW(r.counter("bad name", "X."), std::logic_error);
  EXPECT_THROW(r.counter_family("castor_y_total", "Y.", {"a"}).with({"1", "2"}), std::logic_error);
  const double unsorted[] = {2, 1};
  EXPECT_THROW(r.histogram("castor_h", "H.", unsorted), std::logic_error);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry r;
  auto& fam = r.counter_family("castor_c_total", "C.", {"t"});
  auto& h = r.histogram("castor_h_seconds", "H.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        fam.with({"x"}).inc();
        h.observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fam.with({"x"}).value(), 40000u);
  EXPECT_EQ(h.snapshot().count, 40000u);
}

TEST(Metrics, ProcessProbeExposesStandardMetrics) {
  Registry r;
  ProcessProbe probe(r, "1.2.3");
  std::string text = r.expose();
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  EXPECT_NE(text.find("castor_build_info{version=\"1.2.3\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace castor::metrics
