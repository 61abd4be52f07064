// OrderedPool: worker threads that turn blocks of import lines into results (parsed, validated
// entities) in parallel and hand the results back in the order the blocks were submitted, so
// an import applies its file in order. Each worker owns a LineParser. The caller bounds how many
// blocks are in flight; submit() never blocks, take() waits for the oldest result.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "twin/jobs/import_reader.hpp"
#include "twin/jobs/line_parser.hpp"

namespace castor::twin::jobs {

template <class R>
class OrderedPool {
 public:
  using Work = std::function<R(Block&&, LineParser&)>;

  OrderedPool(std::size_t threads, Work work) : work_(std::move(work)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
      threads_.emplace_back([this] { run(); });
  }
  ~OrderedPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  OrderedPool(const OrderedPool&) = delete;
  OrderedPool& operator=(const OrderedPool&) = delete;

  void submit(Block b) {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(next_submit_++, std::move(b));
    }
    work_cv_.notify_one();
  }
  // The result of the oldest block not yet taken; only when in_flight() > 0.
  R take() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [this] { return done_.count(next_take_) > 0; });
    auto node = done_.extract(next_take_++);
    return std::move(node.mapped());
  }
  std::size_t in_flight() const {
    std::lock_guard lock(mu_);
    return static_cast<std::size_t>(next_submit_ - next_take_);
  }

 private:
  void run() {
    pthread_setname_np(pthread_self(), "castor-import");
    LineParser parser;
    while (true) {
      std::pair<std::uint64_t, Block> job;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      R result = work_(std::move(job.second), parser);
      {
        std::lock_guard lock(mu_);
        done_.emplace(job.first, std::move(result));
      }
      done_cv_.notify_all();
    }
  }

  Work work_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::pair<std::uint64_t, Block>> queue_;
  std::map<std::uint64_t, R> done_;
  std::uint64_t next_submit_ = 0, next_take_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: the threads use every member above
};

}  // namespace castor::twin::jobs
