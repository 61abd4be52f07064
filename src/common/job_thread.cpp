#include "common/job_thread.hpp"

#include <pthread.h>

#include <string>
#include <utility>

namespace castor {

JobThread::JobThread(const char* name)
    : thread_([this, thread_name = std::string(name).substr(0, 15)] {
        pthread_setname_np(pthread_self(), thread_name.c_str());
        std::unique_lock lock(mu_);
        while (true) {
          cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          auto job = std::move(jobs_.front());
          jobs_.pop_front();
          lock.unlock();
          job();
          lock.lock();
        }
      }) {}

JobThread::~JobThread() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void JobThread::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

}  // namespace castor
