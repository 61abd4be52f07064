// `castor sim factory`: the plant simulator, a separate process that stands in for the real
// factory. It talks to Castor only as machines would: telemetry published over MQTT, commands
// and set-points obeyed when they arrive over MQTT (topics in docs/factory.md). `--bench`
// measures how much faster than real time the physics and reporting run, without a broker.
#include <mqtt/async_client.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/cli.hpp"
#include "common/json.hpp"
#include "sim/factory_plant.hpp"
#include "sim/fault_schedule.hpp"

namespace castor::app {
namespace {

struct SimArgs {
  std::string broker = "mqtt://127.0.0.1:1883";
  std::string prefix = "plant";
  std::string client_id = "castor-sim";
  std::string username, password, ca_file;
  int robots = 100;
  int lines = 10;
  double rate = 1.0;   // reports per simulated second, per twin
  double speed = 1.0;  // simulated seconds per wall second
  double duration = 0;  // simulated seconds; 0 = until stopped
  double connect_timeout = 60;  // seconds to keep retrying the first connection
  double bench = 0;     // simulated seconds to run as fast as possible, without a broker
  std::uint64_t seed = 1;
  std::string faults, ground_truth;
};

constexpr double kStep = 0.01;  // physics step, simulated seconds

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What arrived over MQTT, applied by the simulation thread between steps (the plant is
// single-threaded).
struct Inbox {
  std::mutex mu;
  std::deque<std::pair<std::string, std::string>> messages;  // topic, payload
};

// SIGINT/SIGTERM end the run: blocked in every thread, awaited by one.
class StopSignal {
 public:
  StopSignal() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    waiter_ = std::thread([this] {
      int sig = 0;
      sigwait(&set_, &sig);
      stop = true;
    });
  }
  ~StopSignal() {
    if (!stop) pthread_kill(waiter_.native_handle(), SIGTERM);
    waiter_.join();
  }
  std::atomic<bool> stop{false};

 private:
  sigset_t set_;
  std::thread waiter_;
};

int bench(const SimArgs& a) {
  sim::FactoryPlant plant({.lines = a.lines, .robots = a.robots, .seed = a.seed});
  std::vector<sim::Report> reports;
  std::size_t sent = 0, bytes = 0;
  double next_report = 0;
  std::cerr << fmt::format("castor sim: benchmarking {} s of {} robots on {} lines, reports at {} Hz\n", a.bench,
                           a.robots, a.lines, a.rate);
  auto start = std::chrono::steady_clock::now();
  int last_pct = -1;
  while (plant.time() < a.bench) {
    plant.step(kStep);
    if (plant.time() + 1e-9 >= next_report) {
      reports.clear();
      plant.report(static_cast<std::int64_t>(plant.time() * 1e9), reports);
      for (auto& r : reports) bytes += r.payload.size() + a.prefix.size() + r.path.size() + 11;
      sent += reports.size();
      next_report += 1.0 / a.rate;
    }
    int pct = static_cast<int>(100 * plant.time() / a.bench);
    if (pct / 10 != last_pct / 10) {
      std::cerr << "\r  " << pct << " %" << std::flush;
      last_pct = pct;
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cerr << "\r";
  std::cout << fmt::format(
      "simulated {:.0f} s of {} robots + {} lines ({} twins) in {:.3f} s on one core: {:.1f}x real time; "
      "{} reports ({:.1f} MB of JSON) built\n",
      a.bench, plant.robots().size(), a.lines, plant.twin_count(), wall, a.bench / wall, sent, bytes / 1e6);
  return 0;
}

std::string broker_uri(const std::string& url) {
  if (url.starts_with("mqtt://")) return "tcp://" + url.substr(7);
  if (url.starts_with("mqtts://")) return "ssl://" + url.substr(8);
  return url;
}

// plant/<line>/<twin>/commands/<name> and plant/<line>/<twin>/set/<property>.
void handle(sim::FactoryPlant& plant, mqtt::async_client& client, sim::GroundTruth& truth, const SimArgs& a,
            std::int64_t start_ns, const std::string& topic, const std::string& payload) {
  std::string rest = topic.substr(a.prefix.size() + 1);
  if (rest == "sim/faults") {
    auto doc = json::parse(payload);
    auto fault = doc ? sim::parse_fault_request(*doc) : Result<sim::Fault>(doc.status());
    Status s = fault ? plant.inject(*fault) : fault.status();
    if (s) {
      (void)truth.record(*fault, start_ns + static_cast<std::int64_t>(plant.time() * 1e9), plant.time(), "live");
      std::cerr << "castor sim: fault " << sim::fault_name(fault->kind) << " started on " << fault->twin << "\n";
    } else {
      std::cerr << "castor sim: fault request refused: " << s.message() << "\n";
    }
    return;
  }
  std::vector<std::string> parts;
  for (std::size_t p = 0;;) {
    auto q = rest.find('/', p);
    parts.push_back(rest.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  if (parts.size() != 4) return;
  const std::string& twin = parts[1];
  json::value body = nullptr;
  if (!payload.empty()) {
    auto doc = json::parse(payload);
    if (!doc) {
      if (parts[2] == "commands") {
        client.publish(topic + "/response",
                       json::serialize(json::value(json::object{{"status", 400}, {"error", "the payload is not JSON: " + doc.status().message()}})),
                       1, false);
      }
      return;
    }
    body = std::move(*doc);
  }
  if (parts[2] == "commands") {
    json::value request = body;
    json::value request_id = nullptr;
    if (body.is_object() && body.as_object().contains("requestId")) {
      request_id = body.as_object().at("requestId");
      if (auto* p = body.as_object().if_contains("payload")) request = *p;
    }
    auto r = plant.command(twin, parts[3], request);
    json::object out{{"requestId", request_id}};
    if (r) {
      out["status"] = 200;
      out["payload"] = std::move(*r);
    } else {
      out["status"] = r.status().code() == Code::not_found ? 404 : 400;
      out["error"] = r.status().message();
    }
    client.publish(topic + "/response", json::serialize(json::value(std::move(out))), 1, false);
  } else if (parts[2] == "set") {
    if (Status s = plant.set_point(twin, parts[3], body); !s)
      std::cerr << "castor sim: set-point refused: " << s.message() << "\n";
  }
}

int run(const SimArgs& a) {
  if (a.rate <= 0 || a.speed <= 0) {
    std::cerr << "castor sim factory: --rate and --speed must be positive\n";
    return 2;
  }
  if (a.bench > 0) return bench(a);
  std::vector<sim::Fault> schedule;
  if (!a.faults.empty()) {
    auto s = sim::load_fault_schedule(a.faults);
    if (!s) {
      std::cerr << "castor sim factory: " << s.status().message() << "\n";
      return 2;
    }
    schedule = std::move(*s);
  }
  sim::GroundTruth truth;
  if (!a.ground_truth.empty()) {
    if (Status s = truth.open(a.ground_truth); !s) {
      std::cerr << "castor sim factory: " << s.message() << "\n";
      return 2;
    }
  }
  StopSignal stop;
  sim::FactoryPlant plant({.lines = a.lines, .robots = a.robots, .seed = a.seed});
  auto inbox = std::make_shared<Inbox>();
  mqtt::async_client client(broker_uri(a.broker), a.client_id, mqtt::create_options(MQTTVERSION_3_1_1));
  auto opts = mqtt::connect_options_builder()
                  .clean_session(true)
                  .keep_alive_interval(std::chrono::seconds(20))
                  .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(30))
                  .max_inflight(20000);
  if (!a.username.empty()) opts.user_name(a.username).password(a.password);
  if (a.broker.starts_with("mqtts://") || a.broker.starts_with("ssl://")) {
    auto ssl = mqtt::ssl_options_builder().enable_server_cert_auth(true).verify(true);
    if (!a.ca_file.empty()) ssl.trust_store(a.ca_file);
    opts.ssl(ssl.finalize());
  }
  std::vector<std::string> filters{a.prefix + "/+/+/commands/+", a.prefix + "/+/+/set/+", a.prefix + "/sim/faults"};
  client.set_connected_handler([&client, filters](const std::string&) {
    for (auto& f : filters) client.subscribe(f, 1);
  });
  client.set_message_callback([inbox](mqtt::const_message_ptr m) {
    std::lock_guard l(inbox->mu);
    inbox->messages.emplace_back(m->get_topic(), m->to_string());
  });
  // A broker that is not up yet (or restarting) is retried with backoff, saying so each time,
  // until --connect-timeout; a machine would keep trying too.
  auto connect_opts = opts.finalize();
  auto give_up = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<std::int64_t>(a.connect_timeout * 1000));
  for (auto backoff = std::chrono::milliseconds(500);; backoff = std::min(backoff * 2, std::chrono::milliseconds(5000))) {
    std::string why;
    try {
      if (client.connect(connect_opts)->wait_for(std::chrono::seconds(10))) break;
      why = "no answer within 10 s";
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (stop.stop || std::chrono::steady_clock::now() + backoff > give_up) {
      std::cerr << "castor sim factory: cannot connect to " << a.broker << ": " << why
                << " (start a broker, or pass --broker mqtt://HOST:PORT; gave up after "
                << a.connect_timeout << " s, see --connect-timeout)\n";
      return 1;
    }
    std::cerr << "castor sim factory: cannot connect to " << a.broker << ": " << why << "; retrying in "
              << backoff.count() << " ms (is the broker running?)\n";
    std::this_thread::sleep_for(backoff);
  }
  std::cerr << fmt::format("castor sim: {} robots on {} lines ({} twins), reports at {} Hz, {}x real time, "
                           "publishing to {} under {}/\n",
                           plant.robots().size(), a.lines, plant.twin_count(), a.rate, a.speed, a.broker, a.prefix);
  std::int64_t start_ns = now_ns();
  auto wall_start = std::chrono::steady_clock::now();
  std::size_t next_fault = 0, sent = 0, dropped = 0;
  double next_report = 0, next_status = 10;
  std::vector<sim::Report> reports;
  while (!stop.stop && (a.duration <= 0 || plant.time() < a.duration)) {
    // Pace: simulated time follows wall time times --speed.
    double due = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count() * a.speed;
    if (plant.time() >= due) {
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(
          std::min(0.02, (plant.time() - due) / a.speed + 0.0005) * 1e6)));
      continue;
    }
    std::deque<std::pair<std::string, std::string>> messages;
    {
      std::lock_guard l(inbox->mu);
      messages.swap(inbox->messages);
    }
    for (auto& [topic, payload] : messages) handle(plant, client, truth, a, start_ns, topic, payload);
    while (next_fault < schedule.size() && schedule[next_fault].at_s <= plant.time()) {
      const auto& f = schedule[next_fault++];
      if (Status s = plant.inject(f); !s) {
        std::cerr << "castor sim: scheduled fault skipped: " << s.message() << "\n";
        continue;
      }
      (void)truth.record(f, start_ns + static_cast<std::int64_t>(plant.time() * 1e9), plant.time(), "schedule");
      std::cerr << "castor sim: fault " << sim::fault_name(f.kind) << " started on " << f.twin << "\n";
    }
    plant.step(kStep);
    if (plant.time() + 1e-9 >= next_report) {
      next_report += 1.0 / a.rate;
      reports.clear();
      plant.report(start_ns + static_cast<std::int64_t>(plant.time() * 1e9), reports);
      for (auto& r : reports) {
        try {
          client.publish(a.prefix + "/" + r.path + "/telemetry", r.payload.data(), r.payload.size(), 1, false);
          ++sent;
        } catch (const std::exception&) {
          ++dropped;  // not connected and the client's buffer is full: a machine loses it too
        }
      }
    }
    if (plant.time() >= next_status) {
      next_status += 10;
      std::cerr << fmt::format("castor sim: t={:.0f} s simulated, {} messages published, {} not sent\n",
                               plant.time(), sent, dropped);
    }
  }
  std::cerr << fmt::format("castor sim: stopped at t={:.1f} s simulated; {} messages published, {} not sent\n",
                           plant.time(), sent, dropped);
  try {
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const std::exception&) {
    // The broker notices the closed connection.
  }
  return 0;
}

}  // namespace

void add_sim_commands(CLI::App& root, CliContext& ctx) {
  auto* sim = root.add_subcommand("sim", "Simulators that stand in for real machines");
  sim->require_subcommand(1);
  auto args = std::make_shared<SimArgs>();
  auto* f = sim->add_subcommand(
      "factory",
      "Simulate the reference smart factory (robots, conveyors, sensors, line controllers) with physics, "
      "publishing telemetry over MQTT and obeying commands and set-points sent over MQTT (docs/factory.md).");
  f->add_option("--broker", args->broker, "MQTT broker URL: mqtt://HOST:PORT or mqtts://HOST:PORT")
      ->capture_default_str();
  f->add_option("--prefix", args->prefix, "first topic level of every topic")->capture_default_str();
  f->add_option("--client-id", args->client_id, "MQTT client id")->capture_default_str();
  f->add_option("--username", args->username, "MQTT user name");
  f->add_option("--password", args->password, "MQTT password");
  f->add_option("--ca-file", args->ca_file, "PEM CA certificates to trust for mqtts://");
  f->add_option("--robots", args->robots, "robots in the plant, dealt to the lines in turn")
      ->check(CLI::Range(0, 9900))
      ->capture_default_str();
  f->add_option("--lines", args->lines, "production lines, each with a conveyor, a controller and 5 sensors")
      ->check(CLI::Range(1, 99))
      ->capture_default_str();
  f->add_option("--rate", args->rate, "reports per simulated second from every twin and robot joint")
      ->capture_default_str();
  f->add_option("--speed", args->speed, "time acceleration: simulated seconds per wall-clock second")
      ->capture_default_str();
  f->add_option("--duration", args->duration, "stop after this many simulated seconds (default: run until stopped)");
  f->add_option("--seed", args->seed, "random seed (noise, robot timing)")->capture_default_str();
  f->add_option("--connect-timeout", args->connect_timeout,
                "seconds to keep retrying when the broker is not reachable at start (then exit 1)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  f->add_option("--faults", args->faults,
                "fault schedule: a JSON array or NDJSON of {\"at\": SECONDS, \"twin\": ID, \"fault\": KIND, "
                "\"severity\": 0..1, \"joint\": 1..6}");
  f->add_option("--ground-truth", args->ground_truth, "append every fault that starts to this NDJSON file");
  f->add_option("--bench", args->bench,
                "benchmark: simulate this many seconds as fast as possible on one core, without a broker, and "
                "print the factor over real time");
  f->callback([args, &ctx] { ctx.exit_code = run(*args); });
}

}  // namespace castor::app
