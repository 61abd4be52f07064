// Responder: how a handler completes its request, now or later, from any thread (e.g. a shard
// thread after the engine applied a write). It must be called once; if every copy is dropped
// without a response, the client gets a 500 instead of a hung connection.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "api/http.hpp"
#include "common/status.hpp"

namespace castor::api {

class Responder {
 public:
  using Completion = std::function<void(HttpResponse&&)>;

  Responder() = default;  // empty: respond() does nothing
  explicit Responder(Completion completion);

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
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace castor::api
