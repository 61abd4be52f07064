// `castor demo`: the smart factory in one command. Starts, as child processes it owns, a private
// mosquitto on a free loopback port, `castor serve` with the factory's MQTT subscriptions, and
// the plant simulator; loads the factory's models and twins on the first run; stops everything
// on Ctrl-C or SIGTERM. Loopback only, no tokens: a demo, not a deployment.
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "api/http_client.hpp"
#include "app/cli.hpp"
#include "common/json.hpp"

#ifndef CASTOR_SOURCE_DIR
#define CASTOR_SOURCE_DIR "."
#endif

namespace castor::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct DemoArgs {
  int port = 8080;
  std::string data = ".data/demo";
  bool fresh = false;
  int robots = 100;
  int lines = 10;
  double rate = 1.0;
  double speed = 1.0;
  std::string models = std::string(CASTOR_SOURCE_DIR) + "/examples/factory/models";
  std::string mosquitto = "mosquitto";
  std::string web_root;  // "" = find_web_root()
};

constexpr const char* kApi = "api-version=2023-10-31";

void say(const std::string& line) { std::cerr << "castor demo: " << line << std::endl; }

// A child process, stopped by PID (SIGTERM, then SIGKILL). It dies with the demo.
class Child {
 public:
  Child(std::string name, std::vector<std::string> argv, const fs::path& log, bool pipe_stdout = false)
      : name_(std::move(name)) {
    int fds[2] = {-1, -1};
    if (pipe_stdout && ::pipe2(fds, O_CLOEXEC) != 0) return;
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::setpgid(0, 0);  // Ctrl-C reaches the demo only; it stops the children in order
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      ::dup2(pipe_stdout ? fds[1] : logfd, 1);
      ::dup2(logfd, 2);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
      ::_exit(127);
    }
    if (logfd >= 0) ::close(logfd);
    if (pipe_stdout) {
      ::close(fds[1]);
      out_ = fds[0];
    }
  }
  ~Child() {
    stop();
    if (out_ >= 0) ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  const std::string& name() const { return name_; }
  // True while running; reaps it otherwise.
  bool alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      exit_status_ = status;
      return false;
    }
    return true;
  }
  std::string how_it_ended() const {
    if (WIFEXITED(exit_status_)) return fmt::format("exited with status {}", WEXITSTATUS(exit_status_));
    if (WIFSIGNALED(exit_status_)) return fmt::format("was killed by signal {}", WTERMSIG(exit_status_));
    return "ended";
  }
  // Reads the first stdout line within `timeout`; "" if none came (or the child ended).
  std::string first_line(std::chrono::milliseconds timeout) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char c;
        ssize_t n = ::read(out_, &c, 1);
        if (n <= 0) return "";
        if (c == '\n') return line;
        line += c;
      } else if (!alive()) {
        return "";
      }
    }
    return "";
  }
  void stop(std::chrono::milliseconds grace = 10s) {
    if (!alive()) return;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (alive() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    if (alive()) {
      say(fmt::format("{} did not stop within {} s; killing it", name_, grace.count() / 1000));
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  std::string name_;
  pid_t pid_ = -1;
  int out_ = -1;
  int exit_status_ = 0;
};

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool accepting(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "castor" : p.string();
}

// The built dashboard: --web-root, else web/dist of the source tree this binary was built from,
// else web/dist next to the build folder holding the binary (BUILD/bin/castor -> BUILD/../web/dist).
// When none is built, the source tree's path, so that / says how to build it.
std::string find_web_root(const DemoArgs& a, const std::string& exe) {
  if (!a.web_root.empty()) return fs::absolute(a.web_root).string();
  std::vector<fs::path> candidates{fs::path(CASTOR_SOURCE_DIR) / "web/dist",
                                   fs::path(exe).parent_path() / "../../web/dist"};
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c / "index.html", ec)) return fs::weakly_canonical(c, ec).string();
  }
  return candidates.front().string();
}

// The factory as an ADT import file: models, then twins and relationships named as the
// simulator names its machines (robots dealt to lines in turn: robot-03-07).
Result<std::string> factory_import(const DemoArgs& a, std::size_t& twins, std::size_t& relationships) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(a.models, ec))
    if (e.path().extension() == ".json") files.push_back(e.path());
  if (ec || files.empty()) {
    return Status(Code::not_found, fmt::format("no factory models in {} (pass --models DIR: the folder "
                                               "examples/factory/models of the Castor sources)", a.models));
  }
  std::sort(files.begin(), files.end());
  std::string out = "{\"Section\":\"Header\"}\n{\"fileVersion\":\"1.0.0\",\"author\":\"castor demo\",\"organization\":\"castor\"}\n";
  out += "{\"Section\":\"Models\"}\n";
  for (auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = json::parse(ss.str());
    if (!doc) return Status(Code::invalid_argument, fmt::format("{}: {}", f.string(), doc.status().message()));
    out += json::serialize(*doc) + "\n";
  }
  const std::string P = "dtmi:castor:factory:";
  std::vector<json::value> ts, rs;
  auto twin = [&](std::string id, const char* model, json::object props) {
    props["$dtId"] = id;
    props["$metadata"] = json::object{{"$model", P + model + ";1"}};
    ts.emplace_back(std::move(props));
  };
  auto rel = [&](const std::string& src, const char* name, const std::string& dst) {
    rs.emplace_back(json::object{{"$dtId", src}, {"$relationshipId", fmt::format("{}-{}", name, dst)},
                                 {"$targetId", dst}, {"$relationshipName", name}});
  };
  twin("factory", "Factory", {{"name", "Reference plant"}, {"location", "Hall 1"}});
  std::vector<int> per_line(static_cast<std::size_t>(a.lines), 0);
  for (int i = 0; i < a.robots; ++i) per_line[static_cast<std::size_t>(i % a.lines)]++;
  const char* kinds[] = {"PhotoEye", "PhotoEye", "PhotoEye", "TemperatureSensor", "VibrationSensor"};
  for (int li = 1; li <= a.lines; ++li) {
    auto line = fmt::format("line-{:02d}", li), ctl = fmt::format("controller-{:02d}", li),
         conv = fmt::format("conveyor-{:02d}", li);
    twin(line, "Line", {{"name", fmt::format("Line {}", li)}, {"index", li}, {"targetRate", 60.0}});
    rel("factory", "contains", line);
    twin(ctl, "LineController", {{"mode", "auto"}, {"status", "running"}, {"producedCount", 0}});
    rel(line, "hasController", ctl);
    twin(conv, "Conveyor", {{"speedSetpoint", 0.5}, {"status", "running"}, {"lengthM", 24.0}});
    rel(line, "hasConveyor", conv);
    for (int ri = 1; ri <= per_line[static_cast<std::size_t>(li - 1)]; ++ri) {
      auto robot = fmt::format("robot-{:02d}-{:02d}", li, ri);
      json::object props{{"serial", fmt::format("R{:02d}{:02d}", li, ri)}, {"status", "running"},
                         {"program", "pick-place"}, {"mode", "auto"}, {"cycleCount", 0}};
      for (int j = 1; j <= 6; ++j)
        props[fmt::format("joint{}", j)] = json::object{{"$metadata", json::object{}}, {"maxTemperature", 90.0}};
      twin(robot, "Robot", std::move(props));
      rel(line, "hasRobot", robot);
      rel(robot, "feeds", conv);
    }
    for (int si = 1; si <= 5; ++si) {
      auto sensor = fmt::format("sensor-{:02d}-{}", li, si);
      json::object props{{"serial", fmt::format("S{:02d}{}", li, si)}, {"status", "ok"}, {"position", 4.0 * si}};
      if (si <= 3) props["count"] = 0;
      twin(sensor, kinds[si - 1], std::move(props));
      rel(line, "hasSensor", sensor);
    }
  }
  out += "{\"Section\":\"Twins\"}\n";
  for (auto& t : ts) out += json::serialize(t) + "\n";
  out += "{\"Section\":\"Relationships\"}\n";
  for (auto& r : rs) out += json::serialize(r) + "\n";
  twins = ts.size();
  relationships = rs.size();
  return out;
}

Status load_factory(const DemoArgs& a, api::HttpClient& http, const fs::path& import_dir) {
  auto probe = http.send(api::Method::get, fmt::format("/models/dtmi:castor:factory:Robot;1?{}", kApi));
  if (!probe) return probe.status();
  if (probe->status == 200) {
    say("[3/4] the factory is loaded already (history accumulates; --fresh starts over)");
    return Status::ok();
  }
  std::size_t twins = 0, rels = 0;
  auto file = factory_import(a, twins, rels);
  if (!file) return file.status();
  say(fmt::format("[3/4] loading the factory: models, {} twins, {} relationships", twins, rels));
  std::error_code ec;
  fs::create_directories(import_dir, ec);
  {
    std::ofstream f(import_dir / "factory.ndjson", std::ios::trunc);
    f << *file;
    if (!f) return Status(Code::internal, "cannot write " + (import_dir / "factory.ndjson").string());
  }
  std::string job = fmt::format("factory-{}", std::chrono::system_clock::now().time_since_epoch().count());
  api::Headers h;
  h.add("Content-Type", "application/json");
  auto put = http.send(api::Method::put, fmt::format("/jobs/imports/{}?{}", job, kApi), h,
                       json::serialize(json::value(json::object{{"inputBlobUri", "file://factory.ndjson"},
                                                                {"outputBlobUri", "file://" + job + ".log.ndjson"}})));
  if (!put) return put.status();
  if (put->status / 100 != 2) return Status(Code::internal, fmt::format("the import job was refused: {} {}", put->status, put->body));
  for (auto deadline = std::chrono::steady_clock::now() + 120s; std::chrono::steady_clock::now() < deadline;) {
    auto got = http.send(api::Method::get, fmt::format("/jobs/imports/{}?{}", job, kApi));
    if (!got) return got.status();
    auto doc = json::parse(got->body);
    std::string status = doc && doc->is_object() && doc->as_object().contains("status")
                             ? std::string(json::sv(doc->as_object().at("status").as_string()))
                             : "";
    if (status == "succeeded") return Status::ok();
    if (status == "failed" || status == "cancelled") {
      return Status(Code::internal, fmt::format("the import job {}: {} (see {})", status, got->body,
                                                (import_dir / (job + ".log.ndjson")).string()));
    }
    std::this_thread::sleep_for(100ms);
  }
  return Status(Code::unavailable, "the import job did not finish within 120 s");
}

std::string demo_config(int mqtt_port) {
  // The simulator's topics (docs/factory.md) mapped onto the twins: plant/<line>/<twin>/telemetry
  // and plant/<line>/<twin>/<component>/telemetry, JSON objects with "ts" in nanoseconds.
  return fmt::format(R"(# Written by castor demo; rewritten at every start.
[[mqtt]]
name = "plant"
url = "mqtt://127.0.0.1:{}"
client_id = "castor-demo"
# Set-points written through the API (conveyor speedSetpoint, robot and controller mode) go back
# to the machines; {{line}} is learned from each twin's telemetry topic.
setpoint_topic = "plant/{{line}}/{{twinId}}/set/{{name}}"

  [[mqtt.subscriptions]]
  topic = "plant/{{line}}/{{twinId}}/telemetry"
  timestamp_field = "ts"
  timestamp_unit = "ns"

  [[mqtt.subscriptions]]
  topic = "plant/{{line}}/{{twinId}}/{{component}}/telemetry"
  component = "{{component}}"
  timestamp_field = "ts"
  timestamp_unit = "ns"
)",
                     mqtt_port);
}

// SIGINT/SIGTERM, blocked in every thread and child-free: the demo's own stop request.
bool stop_requested(const sigset_t& set, std::chrono::milliseconds wait) {
  timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000};
  return ::sigtimedwait(&set, nullptr, &ts) > 0;
}

int run(const DemoArgs& a) {
  if (a.port < 1 || a.port > 65535 || a.robots < 0 || a.lines < 1 || a.lines > 99) {
    std::cerr << "castor demo: --port must be 1-65535, --lines 1-99, --robots >= 0\n";
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);

  fs::path data = fs::absolute(a.data);
  std::error_code ec;
  if (a.fresh) {
    say("--fresh: removing " + data.string());
    fs::remove_all(data, ec);
  }
  fs::create_directories(data / "logs", ec);
  if (ec) {
    std::cerr << "castor demo: cannot create " << data << ": " << ec.message() << "\n";
    return 1;
  }
  const std::string exe = self_exe();

  int mqtt_port = free_loopback_port();
  say(fmt::format("[1/4] starting mosquitto on 127.0.0.1:{} (log: {})", mqtt_port, (data / "logs/mosquitto.log").string()));
  {
    std::ofstream conf(data / "mosquitto.conf", std::ios::trunc);
    conf << "# Written by castor demo.\nlistener " << mqtt_port << " 127.0.0.1\nallow_anonymous true\n"
         << "persistence false\nmax_queued_messages 100000\n";
  }
  Child mosquitto("mosquitto", {a.mosquitto, "-c", (data / "mosquitto.conf").string()}, data / "logs/mosquitto.log");
  for (auto until = std::chrono::steady_clock::now() + 10s; !accepting(mqtt_port);) {
    if (!mosquitto.alive() || std::chrono::steady_clock::now() > until) {
      std::cerr << "castor demo: mosquitto did not start (is it installed? scripts/bootstrap.sh installs it); see "
                << (data / "logs/mosquitto.log").string() << "\n";
      return 1;
    }
    std::this_thread::sleep_for(50ms);
  }

  say(fmt::format("[2/4] starting castor serve on 127.0.0.1:{} (data: {}, log: {})", a.port,
                  (data / "castor").string(), (data / "logs/serve.log").string()));
  {
    std::ofstream conf(data / "castor-demo.toml", std::ios::trunc);
    conf << demo_config(mqtt_port);
  }
  const std::string web_root = find_web_root(a, exe);
  say("      the dashboard from " + web_root);
  Child serve("castor serve",
              {exe, "serve", "--data", (data / "castor").string(), "--listen", fmt::format("127.0.0.1:{}", a.port),
               "--insecure-local", "--config", (data / "castor-demo.toml").string(), "--web-root", web_root},
              data / "logs/serve.log", true);
  std::string ready = serve.first_line(120s);
  if (!ready.starts_with("Castor listening on ")) {
    // Say why, from the server's own last words; never remove data to make it start.
    std::string reason;
    {
      std::ifstream log(data / "logs/serve.log");
      for (std::string line; std::getline(log, line);)
        if (line.starts_with("castor serve: ")) reason = line.substr(14);
    }
    if (reason.empty() || reason.find("cannot listen") != std::string::npos)
      reason += fmt::format("{}is port {} free? pass --port N to castor demo", reason.empty() ? "" : "; ",
                            a.port);
    std::cerr << "castor demo: castor serve did not start: " << reason << "\n";
    if (reason.find("corrupt") != std::string::npos)
      std::cerr << "castor demo: the data directory " << (data / "castor").string()
                << " is damaged and was left as it is. Move it aside (or restore a backup) and "
                   "run again, or pass --fresh to delete " << data.string() << " and start empty.\n";
    std::cerr << "castor demo: see " << (data / "logs/serve.log").string() << "\n";
    return 1;
  }
  std::string url = ready.substr(std::string("Castor listening on ").size());
  auto parsed = api::parse_client_url(url);
  if (!parsed) {
    std::cerr << "castor demo: " << parsed.status().message() << "\n";
    return 1;
  }
  api::HttpClient http({.url = *parsed});
  if (Status s = load_factory(a, http, data / "castor" / "import"); !s) {
    std::cerr << "castor demo: loading the factory failed: " << s.message() << "\n";
    return 1;
  }

  say(fmt::format("[4/4] starting the plant simulator: {} robots on {} lines at {} Hz (log: {})", a.robots, a.lines,
                  a.rate, (data / "logs/sim.log").string()));
  Child sim("castor sim",
            {exe, "sim", "factory", "--broker", fmt::format("mqtt://127.0.0.1:{}", mqtt_port), "--robots",
             std::to_string(a.robots), "--lines", std::to_string(a.lines), "--rate", fmt::format("{}", a.rate),
             "--speed", fmt::format("{}", a.speed), "--ground-truth", (data / "ground-truth.ndjson").string()},
            data / "logs/sim.log");
  std::cerr << "castor demo: WARNING: a demo, not a deployment: plain HTTP on loopback without tokens.\n";
  std::cout << "Castor demo ready: " << url << std::endl;

  int rc = 0;
  while (!stop_requested(set, 500ms)) {
    Child* dead = nullptr;
    for (Child* c : {&mosquitto, &serve, &sim})
      if (!c->alive()) dead = c;
    if (dead) {
      std::cerr << "castor demo: " << dead->name() << " " << dead->how_it_ended() << "; stopping (logs in "
                << (data / "logs").string() << ")\n";
      rc = 1;
      break;
    }
  }
  say("stopping the simulator, castor serve and mosquitto ...");
  sim.stop();
  serve.stop(30s);
  mosquitto.stop();
  say("stopped; the data stays in " + data.string() + " for the next run");
  return rc;
}

}  // namespace

void add_demo_command(CLI::App& root, CliContext& ctx) {
  auto args = std::make_shared<DemoArgs>();
  auto* d = root.add_subcommand(
      "demo",
      "The smart factory in one command: a private mosquitto, castor serve with the factory's models, twins and "
      "MQTT subscriptions, and the plant simulator, all on loopback; Ctrl-C stops everything. A second run reuses "
      "the data directory (history accumulates) unless --fresh.");
  d->add_option("--port", args->port, "HTTP port on 127.0.0.1")->capture_default_str();
  d->add_option("--data", args->data, "data directory of the demo")->capture_default_str();
  d->add_flag("--fresh", args->fresh, "start from an empty data directory");
  d->add_option("--robots", args->robots, "robots in the plant")->capture_default_str();
  d->add_option("--lines", args->lines, "production lines")->capture_default_str();
  d->add_option("--rate", args->rate, "telemetry reports per second from every machine")->capture_default_str();
  d->add_option("--speed", args->speed, "simulator time acceleration")->capture_default_str();
  d->add_option("--models", args->models, "folder of the factory's DTDL models")->capture_default_str();
  d->add_option("--mosquitto", args->mosquitto, "the mosquitto program")->capture_default_str();
  d->add_option("--web-root", args->web_root,
                "the built dashboard; default web/dist of the source tree castor was built from");
  d->callback([args, &ctx] { ctx.exit_code = run(*args); });
}

}  // namespace castor::app
