// Responder: how a handler completes its request, now or later, from any thread (e.g. a shard
// thread after the engine applied a write). It must be called once; if every copy is dropped
// without a response, the client gets a 500 instead of a hung connection.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "api/http.hpp"
#include "common/status.hpp"

namespace castor::api {

class Responder {
 public:
  using Completion = std::function<void(HttpResponse&&)>;

  Responder() = default;  // empty: respond() does nothing
  explicit Responder(Completion completion);
  // The same with any callable taking HttpResponse&&, kept in the shared state itself: one
  // allocation per request instead of two (every request makes two responders).
  template <class F>
  static Responder with(F&& completion) {
    Responder r;
    r.state_ = std::make_shared<StateOf<std::decay_t<F>>>(std::forward<F>(completion));
    return r;
  }

  // Sends `response`. Thread-safe and cheap to copy; the first call wins, later calls are
  // ignored and logged as bugs.
  void respond(HttpResponse response) const;
  void operator()(HttpResponse response) const { respond(std::move(response)); }

  // Shorthands for the ADT error shape (see api/error.hpp).
  void fail(int status, std::string_view code, std::string_view message) const;
  void fail(const Status& status) const;

  // Marks the request answered without sending anything, because the connection was handed to
  // a stream (WebSocket/SSE). Transport use only.
  void detach() const noexcept;

  bool responded() const noexcept;
  explicit operator bool() const noexcept { return state_ != nullptr; }

 private:
  struct State {
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    virtual ~State() = default;
    virtual void complete(HttpResponse&& response) = 0;
    // The answer for a request that every copy dropped unanswered (logs the bug).
    static HttpResponse unanswered();
    std::atomic<bool> done{false};
  };
  template <class F>
  struct StateOf final : State {
    explicit StateOf(F f) : completion(std::move(f)) {}
    // Every copy is gone and nobody answered: answer for the handler rather than hang the client.
    ~StateOf() override {
      if (!done.exchange(true)) completion(unanswered());
    }
    void complete(HttpResponse&& response) override { completion(std::move(response)); }
    F completion;
  };
  std::shared_ptr<State> state_;
};

}  // namespace castor::api
