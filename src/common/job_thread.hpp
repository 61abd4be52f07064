// JobThread: one named thread that runs posted jobs in the order they were posted, for blocking
// work that must stay off IO and shard threads (model uploads, history reads). Its destructor
// runs every job already posted, then joins; it never drops or reorders a job.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace castor {

class JobThread {
 public:
  // `name`: the thread's name in ps/top/perf (at most 15 characters are kept).
  explicit JobThread(const char* name);
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;
  void post(std::function<void()> job);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after every member above exists
};

}  // namespace castor
