// Live streams (WebSocket or Server-Sent Events) for handler authors, without transport types.
// A stream route's handler gets a StreamSink to push messages into; the transport owns a bounded
// outbound queue per connection and never lets a slow client grow memory without bound.
#pragma once

#include <functional>
#include <memory>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.hpp"

namespace castor::api {

enum class StreamTransport : unsigned char { websocket, sse };

// The outbound side of one live connection. Thread-safe.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues one message (usually a JSON text). Returns false when the stream is closed or its
  // queue is full; a full queue closes the stream (the client is too slow) so the producer
  // should drop its subscription.
  virtual bool send(std::string message) = 0;
  virtual void close() = 0;
  virtual bool is_open() const noexcept = 0;
  virtual StreamTransport transport() const noexcept = 0;
  // Messages queued and not yet written: a producer that coalesces keeps this low and holds
  // back the rest until StreamListener::on_drain().
  virtual std::size_t queued() const noexcept = 0;
  // Stops reading the client's messages until resume_reading() (backpressure for WebSocket
  // producers such as ingest). Idempotent; safe from any thread.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;
  // Runs `fn` soon on the connection's own thread (not if the stream has ended), after what
  // the caller is doing now: producers use it to gather values into one message.
  virtual void defer(std::function<void()> fn) = 0;
};

// Receives what happens on the connection after the upgrade. Called on the connection's IO thread,
// never concurrently for one stream.
class StreamListener {
 public:
  virtual ~StreamListener() = default;
  virtual void on_message(std::string_view /*text*/) {}  // WebSocket text frames only
  virtual void on_close() {}                             // exactly once, when the stream ends
  virtual void on_drain() {}  // the outbound queue has just become empty
};

// Called once per accepted stream with the authenticated request. May return nullptr when it
// needs no callbacks.
using StreamHandler =
    std::function<std::shared_ptr<StreamListener>(const HttpRequest&, std::shared_ptr<StreamSink>)>;

// Checks a stream request before the upgrade: an error response refuses it (e.g. 400 for a bad
// filter), nullopt lets it through.
using StreamPrecheck = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// WebSocket when the request asks to upgrade to it, SSE when it accepts text/event-stream.
std::optional<StreamTransport> requested_stream(const HttpRequest& request);

// Implemented by the transport: takes over the connection of `request` for a stream.
class StreamUpgrader {
 public:
  virtual ~StreamUpgrader() = default;
  virtual void upgrade(HttpRequest request, StreamTransport transport, StreamHandler handler) = 0;
};

}  // namespace castor::api
