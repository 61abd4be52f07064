// MQTT path benchmark: how fast Castor's MqttConnector drains a stream of QoS 1 messages from
// mosquitto (PUBACK only after an fdatasync'd group commit) compared with mosquitto_sub alone
// draining the same stream, in the same run. Both have persistent sessions; the stream is
// published while both are offline, so the broker holds the same N messages for each; each
// round times mosquitto_sub draining them and then the connector draining them.
//
// usage: mqtt_ingest_bench [messages=100000] [rounds=5]
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ingest/mqtt_connector.hpp"
#include "mosquitto.hpp"

namespace {

using namespace castor;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kRobots = 10;

// The committing sink: a writer thread appends each group of batches to a file and calls
// fdatasync before answering `done`, like a group-committed write-ahead log.
class FileCommitSink final : public ingest::ObservationSink {
 public:
  explicit FileCommitSink(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)),
        writer_([this] { loop(); }) {}
  ~FileCommitSink() override {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    writer_.join();
    ::close(fd_);
  }
  void submit(std::vector<ingest::Observation> batch, ingest::Partial,
              std::function<void(ingest::IngestResult)> done) override {
    std::lock_guard lock(mu_);
    in_flight_ += batch.size();
    queue_.push_back({std::move(batch), std::move(done)});
    cv_.notify_one();
  }
  std::size_t in_flight() const override {
    std::lock_guard lock(mu_);
    return in_flight_;
  }
  std::uint64_t syncs() const { return syncs_; }

 private:
  struct Item {
    std::vector<ingest::Observation> batch;
    std::function<void(ingest::IngestResult)> done;
  };
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || !queue_.empty(); });
      if (quit_) return;
      std::deque<Item> group;
      group.swap(queue_);
      lock.unlock();
      std::string buf;
      for (const auto& item : group)
        for (const auto& o : item.batch) {
          buf += o.twin + '\t' + o.name + '\t' + std::to_string(o.ts_ns) + '\t' +
                 json::serialize(o.value) + '\n';
        }
      if (::write(fd_, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) ||
          ::fdatasync(fd_) != 0)
        std::abort();  // a benchmark on a broken disk measures nothing
      ++syncs_;
      std::size_t n = 0;
      for (auto& item : group) {
        n += item.batch.size();
        ingest::IngestResult r;
        r.accepted = item.batch.size();
        item.done(std::move(r));
      }
      lock.lock();
      in_flight_ -= n;
    }
  }
  int fd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::size_t in_flight_ = 0;
  std::atomic<std::uint64_t> syncs_{0};
  bool quit_ = false;
  std::thread writer_;
};

MqttConfig connector_config(int port) {
  MqttConfig c;
  c.name = "bench";
  c.url = "mqtt://127.0.0.1:" + std::to_string(port);
  c.client_id = "castor-bench";
  MqttSubscriptionConfig s;
  s.topic = "plant/{line}/{twinId}/telemetry";
  s.timestamp_field = "ts";
  c.subscriptions.push_back(s);
  return c;
}

void publish_stream(int port, int messages) {
  std::vector<pid_t> pids;
  for (int r = 0; r < kRobots; ++r) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    auto topic = "plant/l1/robot-" + std::to_string(r) + "/telemetry";
    auto p = std::to_string(port);
    pid_t pid = ::fork();
    if (pid == 0) {  // only async-signal-safe calls until exec
      ::dup2(fds[0], 0);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execlp("mosquitto_pub", "mosquitto_pub", "-h", "127.0.0.1", "-p", p.c_str(), "-q", "1",
               "-t", topic.c_str(), "-l", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[0]);
    std::string lines;
    for (int i = r; i < messages; i += kRobots)
      lines += R"({"temperature":)" + std::to_string(20 + i % 50) + R"(.5,"speed":)" +
               std::to_string(i % 7) + R"(,"ts":)" + std::to_string(1714564800000LL + i) + "}\n";
    for (std::size_t at = 0; at < lines.size();) {
      auto n = ::write(fds[1], lines.data() + at, lines.size() - at);
      if (n <= 0) std::abort();
      at += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    pids.push_back(pid);
  }
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
}

std::vector<std::string> sub_args(int port, const std::string& count) {
  return {"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(port),  "-c", "-i",
          "bench-sub",     "-q", "1",         "-t", "plant/+/+/telemetry", "-C", count};
}

double drain_with_mosquitto_sub(int port, int messages) {
  auto args = sub_args(port, std::to_string(messages));
  auto start = Clock::now();
  pid_t pid = castor::ingest::testing::spawn(args);  // output goes to stdout: silence below
  ::waitpid(pid, nullptr, 0);
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double drain_with_connector(int port, int messages, FileCommitSink& sink) {
  auto config = connector_config(port);
  auto start = Clock::now();
  auto connector = ingest::MqttConnector::create(config, sink, nullptr);
  if (!connector) std::abort();
  (*connector)->start();
  while ((*connector)->stats().acknowledged < static_cast<std::uint64_t>(messages))
    std::this_thread::sleep_for(200us);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  auto stats = (*connector)->stats();
  if (stats.invalid != 0 || stats.observations != 2u * messages) {
    std::fprintf(stderr, "connector saw invalid=%llu observations=%llu\n",
                 static_cast<unsigned long long>(stats.invalid),
                 static_cast<unsigned long long>(stats.observations));
    std::abort();
  }
  (*connector)->stop();
  return secs;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int messages = argc > 1 ? std::atoi(argv[1]) : 100000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto dir = castor::ingest::testing::temp_dir("mqtt-bench");
  castor::ingest::testing::Mosquitto broker(dir);
  int port = broker.port();
  // mosquitto_sub writes every message to stdout; send ours to /dev/null from here on and
  // print results on the original stdout.
  int results = ::dup(1);
  int devnull = ::open("/dev/null", O_WRONLY);
  ::dup2(devnull, 1);
  FILE* out = ::fdopen(results, "w");

  // Persistent sessions for both subscribers (then both go offline).
  auto args = sub_args(port, "1");
  args.push_back("-E");
  castor::ingest::testing::run(args);
  FileCommitSink sink((dir / "commit.log").string());
  {
    auto c = ingest::MqttConnector::create(connector_config(port), sink, nullptr);
    (*c)->start();
    while ((*c)->stats().connected == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(200ms);
  }

  std::vector<double> sub_rates, castor_rates;
  for (int round = 0; round < rounds; ++round) {
    publish_stream(port, messages);
    double s = drain_with_mosquitto_sub(port, messages);
    double c = drain_with_connector(port, messages, sink);
    sub_rates.push_back(messages / s);
    castor_rates.push_back(messages / c);
    std::fprintf(out, "round=%d mosquitto_sub_msgs_per_s=%.0f castor_msgs_per_s=%.0f\n", round,
                 messages / s, messages / c);
    std::fflush(out);
  }
  double sub = median(sub_rates), castor_rate = median(castor_rates);
  std::fprintf(
      out,
      "mqtt_ingest messages=%d rounds=%d fdatasyncs=%llu median_mosquitto_sub_msgs_per_s=%.0f "
      "median_castor_msgs_per_s=%.0f ratio=%.3f\n",
      messages, rounds, static_cast<unsigned long long>(sink.syncs()), sub, castor_rate,
      castor_rate / sub);
  std::fclose(out);
  return 0;
}
