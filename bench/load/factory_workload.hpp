// The reference factory's telemetry as a load: 100 robots x 30 signals and 10 lines x 20 signals
// (examples/factory), rendered as InfluxDB line protocol for Castor's POST /castor/v1/ingest or
// for VictoriaMetrics' /write, with the same timestamps and values for both. Values are a
// deterministic function of (series, time). It never invents a signal the factory models lack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace castor::bench {

enum class Target { castor, victoria };

struct FactoryShape {
  int lines = 10;
  int robots_per_line = 10;
};

// One twin (and component) and the fields it reports together on one line-protocol line.
struct SignalGroup {
  std::string twin;         // robot-03-07
  std::string model;        // dtmi:castor:factory:Robot;1
  std::string measurement;  // VictoriaMetrics' metric prefix: robot, joint, conveyor, ...
  std::string component;    // joint1, or empty
  std::vector<std::string> fields;
  std::vector<char> kinds;  // per field: 'f' double, 'i' integer, 'b' boolean
  int line = 0;             // 1-based line of the twin
};

class FactoryWorkload {
 public:
  // `only`: keep just these field names (e.g. {"power"}); empty keeps every signal.
  explicit FactoryWorkload(FactoryShape shape, std::vector<std::string> only = {});

  const FactoryShape& shape() const { return shape_; }
  const std::vector<SignalGroup>& groups() const { return groups_; }
  std::size_t series() const { return series_; }

  // Line-protocol bodies for `seconds` of data from `t0_ns` at `hz` points per signal and
  // second, split by connection (group i goes to connection i % connections, so each series is
  // written in time order by one connection) into bodies of about `batch_points` points.
  // `points[c][b]` counts the points of `bodies[c][b]`.
  struct Bodies {
    std::vector<std::vector<std::string>> bodies;
    std::vector<std::vector<std::size_t>> points;
    std::size_t total_points = 0, total_bytes = 0;
  };
  Bodies render(Target target, std::int64_t t0_ns, double seconds, double hz, int connections,
                std::size_t batch_points) const;

  // The twins of the plant as ADT documents, one per element (for PUT /digitaltwins/{id}).
  std::vector<std::pair<std::string, std::string>> twin_documents() const;

  // The value of field f of group g at time ts (ns); what render() writes.
  static double value(std::size_t g, std::size_t f, char kind, std::int64_t ts_ns);

 private:
  void add(SignalGroup g, const std::vector<std::string>& only);

  FactoryShape shape_;
  std::vector<SignalGroup> groups_;
  std::size_t series_ = 0;
};

// Reads every *.json model in `dir` (examples/factory/models) into one JSON array text.
std::string read_models(const std::string& dir);

// Creates the factory's models and twins on a running Castor (insecure-local) through its ADT
// API: POST /models (409 when they exist is fine), PUT each twin. Throws with the server's
// answer on failure.
void setup_castor(int port, const std::string& models_dir, const FactoryWorkload& w);

// Sends prepared bodies over one keep-alive connection per element of `bodies`, all at once,
// to `path` (Castor: /castor/v1/ingest, expects 202; VictoriaMetrics: /write, expects 204).
struct SendResult {
  std::size_t points = 0, bytes = 0, failures = 0;
  double seconds = 0;                 // first request to last answer
  double latency_p50_ms = 0, latency_p99_ms = 0;
  std::string first_error;
  double points_per_second() const { return seconds > 0 ? points / seconds : 0; }
};
SendResult send_bodies(int port, Target target, const FactoryWorkload::Bodies& b);

// Nanoseconds since 1970 now.
std::int64_t now_ns();

}  // namespace castor::bench
