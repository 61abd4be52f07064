// Live streams after the upgrade: WebSocket (Boost.Beast) and Server-Sent Events, each with a
// bounded outbound queue. A client that cannot keep up is disconnected, never buffered without
// limit. The second (and last) translation unit that includes Beast.
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <mutex>

#include "api/transport.hpp"
#include "common/log.hpp"

namespace castor::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using beast::error_code;

namespace {

template <class T>
struct IsWebSocket : std::false_type {};
template <class S>
struct IsWebSocket<websocket::stream<S>> : std::true_type {};

constexpr std::string_view kSseHeader =
    "HTTP/1.1 200 OK\r\n"
    "Server: Castor\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

// "data: <line>\n" per line, then a blank line: one SSE event.
std::string sse_event(std::string_view message) {
  std::string out;
  out.reserve(message.size() + 16);
  std::size_t pos = 0;
  while (true) {
    std::size_t nl = message.find('\n', pos);
    out += "data: ";
    out += message.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    out += '\n';
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  out += '\n';
  return out;
}

// One live stream. `Socket` is websocket::stream<S> or, for SSE, the plain or TLS stream itself.
template <class Socket>
class LiveStream final : public Connection,
                         public StreamSink,
                         public std::enable_shared_from_this<LiveStream<Socket>> {
  static constexpr bool kWebSocket = IsWebSocket<Socket>::value;

 public:
  template <class S>
  LiveStream(ServerCore& core, S&& stream)
      : core_(core),
        socket_(std::forward<S>(stream)),
        executor_(socket_.get_executor()),
        heartbeat_(executor_) {}

  void start(BeastRequest upgrade, HttpRequest request, StreamHandler handler) {
    core_.probe.streams_open.inc();
    auto self = this->shared_from_this();
    if constexpr (kWebSocket) {
      socket_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
      socket_.set_option(websocket::stream_base::decorator(
          [](websocket::response_type& res) { res.set(http::field::server, "Castor"); }));
      socket_.read_message_max(core_.options.max_body_size);
      auto req = std::make_shared<BeastRequest>(std::move(upgrade));
      socket_.async_accept(*req, [self, req, request = std::move(request),
                                  handler = std::move(handler)](error_code ec) mutable {
        if (ec) return self->finish();
        self->open(request, handler);
      });
    } else {
      // The response header goes out before the handler can queue any message.
      beast::get_lowest_layer(socket_).expires_after(core_.options.write_timeout);
      net::async_write(socket_, net::buffer(kSseHeader),
                       [self, request = std::move(request), handler = std::move(handler)](
                           error_code ec, std::size_t) {
                         if (ec) return self->finish();
                         self->open(request, handler);
                       });
    }
  }

  bool send(std::string message) override {
    return enqueue(kWebSocket ? std::move(message) : sse_event(message));
  }

  void close() override {
    net::post(executor_, [self = this->shared_from_this()] { self->close_gracefully(); });
  }

  bool is_open() const noexcept override {
    std::lock_guard lock(mu_);
    return open_;
  }

  StreamTransport transport() const noexcept override {
    return kWebSocket ? StreamTransport::websocket : StreamTransport::sse;
  }

  std::size_t queued() const noexcept override {
    std::lock_guard lock(mu_);
    return queue_.size() + (writing_ ? 1 : 0);
  }

  void defer(std::function<void()> fn) override {
    net::post(executor_, [self = this->shared_from_this(), fn = std::move(fn)] {
      if (!self->finished_) fn();
    });
  }

  // The flag is set at once (not posted): a pause and a resume from different threads take
  // effect in the order they were called, whatever order their posted work runs in.
  void pause_reading() override { paused_.store(true); }

  void resume_reading() override {
    paused_.store(false);
    net::post(executor_, [self = this->shared_from_this()] {
      // A read parked while paused starts again now (one read is outstanding at most).
      if (!self->paused_.load() && self->parked_ && !self->finished_) {
        self->parked_ = false;
        self->read();
      }
    });
  }

  void shutdown() override { close(); }
  void force_close() override {
    net::post(executor_, [self = this->shared_from_this()] { self->finish(); });
  }

 private:
  void open(const HttpRequest& request, const StreamHandler& handler) {
    try {
      listener_ = handler(request, this->shared_from_this());
    } catch (const std::exception& e) {
      log::error("stream handler threw", {{"path", request.path}, {"error", e.what()}});
      return finish();
    }
    read();
    if constexpr (!kWebSocket) heartbeat();
  }

  // Queues bytes for the writer; a full queue means the client is too slow: close it.
  bool enqueue(std::string data) {
    bool start_writer = false;
    bool too_slow = false;
    {
      std::lock_guard lock(mu_);
      if (!open_) return false;
      if (queue_.size() >= core_.options.stream_queue_limit) {
        open_ = false;
        too_slow = true;
      } else {
        queue_.push_back(std::move(data));
        start_writer = !writing_;
        writing_ = writing_ || start_writer;
      }
    }
    if (too_slow) {
      core_.probe.slow_consumers.inc();
      net::post(executor_, [self = this->shared_from_this()] { self->finish(); });
      return false;
    }
    if (start_writer) {
      net::post(executor_, [self = this->shared_from_this()] { self->write_next(); });
    }
    return true;
  }

  void write_next() {
    bool drained = false;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty() || finished_) {
        writing_ = false;
        drained = !finished_;
      }
    }
    if (drained) {
      // The listener may queue more (coalesced values); send() restarts the writer.
      if (listener_) listener_->on_drain();
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (queue_.empty() || finished_) return;
      current_ = std::move(queue_.front());
      queue_.pop_front();
    }
    auto done = [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->finish();
      self->core_.probe.stream_messages.inc();
      self->write_next();
    };
    if constexpr (kWebSocket) {
      socket_.text(true);
      socket_.async_write(net::buffer(current_), std::move(done));
    } else {
      beast::get_lowest_layer(socket_).expires_after(core_.options.write_timeout);
      net::async_write(socket_, net::buffer(current_), std::move(done));
    }
  }

  void read() {
    auto self = this->shared_from_this();
    if constexpr (kWebSocket) {
      socket_.async_read(buffer_, [self](error_code ec, std::size_t) {
        if (ec) return self->finish();
        if (self->listener_ && self->socket_.got_text()) {
          auto data = self->buffer_.data();
          self->listener_->on_message(
              std::string_view(static_cast<const char*>(data.data()), data.size()));
        }
        self->buffer_.consume(self->buffer_.size());
        if (self->paused_.load()) {
          self->parked_ = true;
          return;
        }
        self->read();
      });
    } else {
      // SSE clients send nothing after the request; a read completes when they go away.
      socket_.async_read_some(buffer_.prepare(512), [self](error_code ec, std::size_t n) {
        if (ec) return self->finish();
        self->buffer_.commit(n);
        self->buffer_.consume(self->buffer_.size());
        self->read();
      });
    }
  }

  void heartbeat() {
    heartbeat_.expires_after(core_.options.stream_heartbeat);
    heartbeat_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->finished_) return;
      self->enqueue(": keep-alive\n\n");
      self->heartbeat();
    });
  }

  void close_gracefully() {
    if (finished_) return;
    if constexpr (kWebSocket) {
      {
        std::lock_guard lock(mu_);
        open_ = false;
      }
      socket_.async_close(websocket::close_code::going_away,
                          [self = this->shared_from_this()](error_code) { self->finish(); });
    } else {
      finish();
    }
  }

  void finish() {
    if (finished_) return;
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      open_ = false;
      queue_.clear();
    }
    heartbeat_.cancel();
    error_code ignored;
    beast::get_lowest_layer(socket_).socket().close(ignored);
    core_.probe.streams_open.dec();
    if (auto listener = std::move(listener_)) listener->on_close();
    core_.remove(this);
  }

  ServerCore& core_;
  Socket socket_;
  IoExecutor executor_;
  net::steady_timer heartbeat_;
  beast::flat_buffer buffer_;
  std::shared_ptr<StreamListener> listener_;
  std::string current_;  // the message being written

  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  bool open_ = true;
  bool writing_ = false;
  bool finished_ = false;  // written under mu_, on the connection's thread
  std::atomic<bool> paused_{false};  // pause_reading() was called last
  bool parked_ = false;  // on the connection's thread: a read is due once reading resumes
};

template <class Stream>
void start(ServerCore& core, Stream stream, BeastRequest beast_request, HttpRequest request,
           StreamTransport transport, StreamHandler handler) {
  if (transport == StreamTransport::websocket) {
    auto s = std::make_shared<LiveStream<websocket::stream<Stream>>>(core, std::move(stream));
    core.add(s);
    s->start(std::move(beast_request), std::move(request), std::move(handler));
  } else {
    auto s = std::make_shared<LiveStream<Stream>>(core, std::move(stream));
    core.add(s);
    s->start(std::move(beast_request), std::move(request), std::move(handler));
  }
}

}  // namespace

void start_stream_session(ServerCore& core, PlainStream stream, beast::flat_buffer,
                          BeastRequest beast_request, HttpRequest request,
                          StreamTransport transport, StreamHandler handler) {
  beast::get_lowest_layer(stream).expires_never();
  start(core, std::move(stream), std::move(beast_request), std::move(request), transport,
        std::move(handler));
}

void start_stream_session(ServerCore& core, TlsStream stream, beast::flat_buffer,
                          BeastRequest beast_request, HttpRequest request,
                          StreamTransport transport, StreamHandler handler) {
  beast::get_lowest_layer(stream).expires_never();
  start(core, std::move(stream), std::move(beast_request), std::move(request), transport,
        std::move(handler));
}

}  // namespace castor::api
