// Test helpers: a real mosquitto broker on a free loopback port (started by the test, stopped by
// its PID) and a recording ObservationSink that answers after a delay or only when released.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ingest/observation.hpp"

extern char** environ;

namespace castor::ingest::testing {

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0)
    throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

inline int run(const std::vector<std::string>& argv) {
  pid_t pid = spawn(argv);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("castor-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// mosquitto with a generated config: one listener on 127.0.0.1:PORT, plus `extra` lines.
class Mosquitto {
 public:
  explicit Mosquitto(std::filesystem::path dir, std::string extra = "", int port = 0)
      : dir_(std::move(dir)), extra_(std::move(extra)), port_(port ? port : free_port()) {
    start();
  }
  ~Mosquitto() { stop(); }
  int port() const { return port_; }
  void start() {
    auto conf = dir_ / "mosquitto.conf";
    std::ofstream(conf) << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
                        << "max_inflight_messages 1000\nmax_queued_messages 1000000\n"
                        << "log_type error\nlog_type warning\n"
                        << extra_ << "\n";
    pid_ = spawn({"/usr/sbin/mosquitto", "-c", conf.string()});
    for (int i = 0; i < 200 && !port_open(port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!port_open(port_)) throw std::runtime_error("mosquitto did not start");
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::filesystem::path dir_;
  std::string extra_;
  int port_;
  pid_t pid_ = -1;
};

// Records every batch; answers `done` from its own thread after `delay`, or holds every answer
// while `hold` is set (a pipeline that has not committed yet).
class RecordingSink final : public ObservationSink {
 public:
  explicit RecordingSink(std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : delay_(delay), worker_([this] { loop(); }) {}
  ~RecordingSink() override {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void submit(std::vector<Observation> batch, Partial,
              std::function<void(IngestResult)> done) override {
    std::lock_guard lock(mu_);
    in_flight_ += batch.size();
    auto due = std::chrono::steady_clock::now() + delay_;
    for (auto& o : batch) received_.push_back(o);
    queue_.push_back({std::move(batch), std::move(done), due});
    cv_.notify_all();
  }
  std::size_t in_flight() const override {
    std::lock_guard lock(mu_);
    return in_flight_;
  }

  void hold(bool on) {
    {
      std::lock_guard lock(mu_);
      hold_ = on;
    }
    cv_.notify_all();
  }
  // The next `n` batches are answered `unavailable` (nothing written), like an overloaded
  // or stopping pipeline.
  void fail_next(std::size_t n) {
    std::lock_guard lock(mu_);
    fail_ = n;
  }
  std::vector<Observation> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::size_t committed() const {
    std::lock_guard lock(mu_);
    return committed_;
  }
  // Waits until at least `n` observations were submitted.
  bool wait_received(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }

 private:
  struct Item {
    std::vector<Observation> batch;
    std::function<void(IngestResult)> done;
    std::chrono::steady_clock::time_point due;
  };
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || (!hold_ && !queue_.empty()); });
      if (quit_) return;
      auto item = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      std::this_thread::sleep_until(item.due);
      IngestResult r;
      bool fail = false;
      {
        std::lock_guard relock(mu_);
        fail = fail_ > 0;
        if (fail) --fail_;
      }
      if (fail)
        r.status = Status(Code::unavailable, "test: the pipeline is stopping");
      else
        r.accepted = item.batch.size();
      item.done(std::move(r));
      lock.lock();
      in_flight_ -= item.batch.size();
      committed_ += item.batch.size();
    }
  }

  std::chrono::milliseconds delay_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::vector<Observation> received_;
  std::size_t in_flight_ = 0, committed_ = 0, fail_ = 0;
  bool hold_ = false, quit_ = false;
  std::thread worker_;
};

}  // namespace castor::ingest::testing
