// End-to-end ingest load: creates a model and N twins on a running `castor serve
// --insecure-local`, then posts InfluxDB line-protocol batches over C keep-alive connections for S
// seconds and counts the points acknowledged with 202 (durable). Prints points/s per second and
// the median, plus p50/p99 batch latency. Timestamps rise per series, so every point is new.
// Usage: ingest_load --port P [--twins 100] [--fields 10] [--lines 2000] [--connections 4]
// [--seconds 10]
//        [--server-pid PID]   (adds the server's CPU time per point, the steadier figure on a busy
//        box)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  int server_pid = 0;  // when given, the server's CPU time per point is reported too
  int twins = 100, fields = 10, lines = 2000, connections = 4, seconds = 10;
};

// User + system CPU seconds of a process (from /proc), or -1.
double cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = 0;
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
  if (!p) return -1;
  unsigned long long utime = 0, stime = 0;
  // Fields after ")": state(3) ... utime is field 14, stime 15.
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2)
    return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class Connection {
 public:
  explicit Connection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }

  // Sends one request and returns the status code (reads the whole response).
  int request(const std::string& method, const std::string& path, const std::string& type,
              const std::string& body) {
    std::string req = method + " " + path +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    send_all(req);
    send_all(body);
    std::string head;
    char buf[65536];
    std::size_t header_end;
    while ((header_end = head.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("connection closed");
      head.append(buf, static_cast<std::size_t>(n));
    }
    int status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    auto cl = head.find("Content-Length: ");
    if (cl == std::string::npos) cl = head.find("content-length: ");
    if (cl != std::string::npos) length = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
    std::size_t have = head.size() - header_end - 4;
    last_body_ = head.substr(header_end + 4);
    while (have < length) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("connection closed");
      have += static_cast<std::size_t>(n);
      last_body_.append(buf, static_cast<std::size_t>(n));
    }
    return status;
  }
  const std::string& last_body() const { return last_body_; }

 private:
  void send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }
  int fd_;
  std::string last_body_;
};

void setup(const Options& o) {
  Connection c(o.port);
  std::string contents;
  for (int f = 0; f < o.fields; ++f)
    contents += std::string(f ? "," : "") + R"({"@type":"Telemetry","name":"f)" +
                std::to_string(f) + R"(","schema":"double"})";
  std::string model =
      R"([{"@id":"dtmi:bench:Sensor;1","@type":"Interface","@context":"dtmi:dtdl:context;3","contents":[)" +
      contents + "]}]";
  int s = c.request("POST", "/models?api-version=2023-10-31", "application/json", model);
  if (s != 201 && s != 409) throw std::runtime_error("model upload failed: " + c.last_body());
  for (int t = 0; t < o.twins; ++t) {
    s = c.request("PUT", "/digitaltwins/bench-" + std::to_string(t) + "?api-version=2023-10-31",
                  "application/json", R"({"$metadata":{"$model":"dtmi:bench:Sensor;1"}})");
    if (s != 200) throw std::runtime_error("twin create failed: " + c.last_body());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--port")
      o.port = v;
    else if (k == "--twins")
      o.twins = v;
    else if (k == "--fields")
      o.fields = v;
    else if (k == "--lines")
      o.lines = v;
    else if (k == "--connections")
      o.connections = v;
    else if (k == "--seconds")
      o.seconds = v;
    else if (k == "--server-pid")
      o.server_pid = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!o.port) {
    std::fprintf(stderr,
                 "usage: ingest_load --port P [--twins N] [--fields F] [--lines L] [--connections "
                 "C] [--seconds S]\n");
    return 2;
  }
  try {
    setup(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "setup: %s\n", e.what());
    return 1;
  }
  std::atomic<std::uint64_t> points{0}, failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(o.connections));
  std::vector<std::thread> threads;
  const std::int64_t base = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(o.port);
      // Each connection writes its own twins (twin % connections == c), so series stay in order.
      std::vector<int> mine;
      for (int t = c; t < o.twins; t += o.connections) mine.push_back(t);
      if (mine.empty()) return;
      std::int64_t ts = base;
      std::string body;
      std::size_t next = 0;
      char num[32];
      while (!stop.load()) {
        body.clear();
        for (int l = 0; l < o.lines; ++l) {
          int t = mine[next++ % mine.size()];
          if (next % mine.size() == 0) ++ts;
          body += "bench-";
          body += std::to_string(t);
          body.push_back(' ');
          for (int f = 0; f < o.fields; ++f) {
            if (f) body.push_back(',');
            body.push_back('f');
            body += std::to_string(f);
            int n = std::snprintf(num, sizeof num, "=%.2f",
                                  20.0 + static_cast<double>((ts + f) % 1000) / 100.0);
            body.append(num, static_cast<std::size_t>(n));
          }
          body.push_back(' ');
          body += std::to_string(ts + 1000);
          body.push_back('\n');
        }
        auto start = Clock::now();
        int s = conn.request("POST", "/castor/v1/ingest", "text/plain", body);
        latencies[static_cast<std::size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (s == 202)
          points += static_cast<std::uint64_t>(o.lines) * static_cast<std::uint64_t>(o.fields);
        else if (++failures < 5)
          std::fprintf(stderr, "HTTP %d: %s\n", s, conn.last_body().substr(0, 300).c_str());
      }
    });
  }
  std::vector<double> rates;
  std::uint64_t last = 0;
  const double cpu_start = cpu_seconds(o.server_pid);
  const std::uint64_t points_start = points.load();
  for (int s = 0; s < o.seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::uint64_t now = points.load();
    rates.push_back(static_cast<double>(now - last));
    std::printf("second %d: %.0f points/s\n", s + 1, rates.back());
    last = now;
  }
  const double cpu_used = cpu_seconds(o.server_pid) - cpu_start;
  const double points_measured = static_cast<double>(points.load() - points_start);
  stop = true;
  for (auto& t : threads) t.join();
  std::vector<double> lat;
  for (auto& l : latencies) lat.insert(lat.end(), l.begin(), l.end());
  std::sort(lat.begin(), lat.end());
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
  auto pct = [&](double q) {
    return lat.empty() ? 0.0
                       : lat[static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1))];
  };
  std::printf(
      "{\"bench\":\"ingest_line_protocol\",\"median_points_per_s\":%.0f,\"batch_points\":%d,"
      "\"connections\":%d,"
      "\"twins\":%d,\"batch_latency_ms_p50\":%.1f,\"batch_latency_ms_p99\":%.1f,\"failed_batches\":"
      "%llu,"
      "\"server_cpu_ns_per_point\":%.0f,\"points_per_server_cpu_second\":%.0f}\n",
      median, o.lines * o.fields, o.connections, o.twins, pct(0.5), pct(0.99),
      static_cast<unsigned long long>(failures.load()),
      cpu_start >= 0 && points_measured > 0 ? cpu_used * 1e9 / points_measured : 0.0,
      cpu_start >= 0 && cpu_used > 0 ? points_measured / cpu_used : 0.0);
  return failures.load() > 0 ? 1 : 0;
}
