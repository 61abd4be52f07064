// The one translation unit with Boost.Beast's HTTP machinery (compiled separately through
// beast_src.cpp). Each IO thread runs its own io_context and owns the connections accepted onto
// it, so a connection needs no strand; a request's completion is dispatched to that context.
// Responses are serialized here into one reused buffer per connection (Beast parses requests).
#include "api/http_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iterator>

#include <mutex>
#include <thread>

#include "api/error.hpp"
#include "api/transport.hpp"
#include "common/log.hpp"

namespace castor::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using beast::error_code;

namespace {

bool is_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted;
}

// Header fields from handlers must not split the response (CR/LF) or name nothing.
bool safe_field(std::string_view name, std::string_view value) {
  return !name.empty() && name.find_first_of("\r\n: ") == std::string_view::npos &&
         value.find_first_of("\r\n") == std::string_view::npos;
}

std::string bracket(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// Statuses that never carry a body nor a Content-Length (RFC 9110 §8.6: 1xx, 204; 304 would
// describe the selected representation, which these handlers do not know).
bool bodyless(int status) {
  return status < 200 || status == 204 || status == 304;
}

// Appends the status line and header block of `r` (without the body) to `out`. `length` is the
// body's length (also for HEAD, which sends none).
void serialize_head(const HttpResponse& r, std::size_t length, bool keep_alive, std::string& out) {
  out += "HTTP/1.1 ";
  char digits[4] = {static_cast<char>('0' + r.status / 100),
                    static_cast<char>('0' + r.status / 10 % 10),
                    static_cast<char>('0' + r.status % 10), ' '};
  out.append(digits, 4);
  out += http::obsolete_reason(static_cast<http::status>(r.status));
  out += "\r\nServer: Castor\r\n";
  if (!r.content_type.empty()) {
    out += "Content-Type: ";
    out += r.content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    if (!safe_field(name, value) || beast::iequals(name, "Content-Length") ||
        beast::iequals(name, "Connection") || beast::iequals(name, "Transfer-Encoding")) {
      log::error("dropped a response header with CR, LF, an invalid name or one the transport "
                 "owns",
                 {{"name", name}});
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!bodyless(r.status)) {
    out += "Content-Length: ";
    out += std::to_string(length);
    out += "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
}

// An IO thread's run(), in bursts when the options have a burst hook: handlers that are ready
// run back to back (up to io_burst), then the hook, and only then the thread waits for IO.
void run_io_thread(net::io_context& context, const ServerOptions& o) {
  if (o.on_io_thread_start) o.on_io_thread_start();
  if (!o.on_io_burst_end) {
    context.run();
  } else {
    std::size_t ran = 1;
    while (ran != 0 || context.run_one() != 0) {  // run_one: 0 when stopped or out of work
      ran = 0;
      while (ran < o.io_burst && context.poll_one() != 0) ++ran;
      o.on_io_burst_end();
    }
  }
  if (o.on_io_thread_stop) o.on_io_thread_stop();
}

}  // namespace

// One HTTP/1.1 connection: read header, enforce limits, read body, dispatch, write, repeat.
template <class Stream>
class HttpSession final : public Connection,
                          public StreamUpgrader,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(ServerCore& server, Stream stream, std::string remote)
      : server_(server),
        stream_(std::move(stream)),
        executor_(stream_.get_executor()),
        remote_(std::move(remote)) {}

  void start() {
    net::post(executor_, [self = this->shared_from_this()] { self->begin(); });
  }

  void shutdown() override {
    net::post(executor_, [self = this->shared_from_this()] { self->on_shutdown(); });
  }

  void force_close() override {
    net::post(executor_, [self = this->shared_from_this()] { self->close(); });
  }

  void upgrade(HttpRequest request, StreamTransport transport, StreamHandler handler) override;

 private:
  enum class State { handshake, reading_header, reading_body, handling, writing, closed };
  using Self = HttpSession<Stream>;

  void on_shutdown() {
    if (state_ == State::closed) return;
    shutdown_requested_ = true;
    // An idle keep-alive connection (no byte of a next request yet) closes now; requests in
    // progress finish and their response carries "Connection: close".
    if ((state_ == State::reading_header && buffer_.size() == 0) || state_ == State::handshake) {
      beast::get_lowest_layer(stream_).cancel();
    }
  }

  void begin() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      state_ = State::handshake;
      beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
      stream_.async_handshake(
          net::ssl::stream_base::server,
          [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    } else {
      read_header();
    }
  }

  void on_handshake(error_code ec) {
    if (ec) {
      if (!is_disconnect(ec)) {
        server_.probe.tls_failures.inc();
        log::debug("TLS handshake failed", {{"remote", remote_}, {"error", ec.message()}});
      }
      return close();
    }
    read_header();
  }

  void read_header() {
    if (shutdown_requested_ || server_.stopping()) return graceful_close();
    state_ = State::reading_header;
    parser_.emplace();
    parser_->header_limit(server_.options.max_header_size);
    parser_->body_limit(server_.options.max_body_size);
    beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(error_code ec) {
    if (ec == beast::error::timeout) {
      if (buffer_.size() > 0) server_.probe.timeouts.inc();  // idle keep-alive expiry is normal
      return close();
    }
    if (ec == http::error::body_limit) return reject_body_too_large();
    if (ec == http::error::header_limit) {
      return reject(error_response(431, "RequestHeaderFieldsTooLarge",
                                   "The request headers exceed " +
                                       std::to_string(server_.options.max_header_size) +
                                       " bytes; send fewer or shorter headers."));
    }
    // An idle connection cut by a graceful stop: TLS clients get a close_notify.
    if (ec == net::error::operation_aborted && shutdown_requested_) return graceful_close();
    if (ec && (is_disconnect(ec) || buffer_.size() == 0)) return close();
    if (ec) {
      return reject(error_response(
          400, "BadRequest",
          "The request is not valid HTTP/1.1 (" + ec.message() + "); check the client."));
    }
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue") && !parser_->is_done()) {
      return send_continue();
    }
    if (parser_->is_done() || parse_buffered_body(ec)) return handle_request();
    if (ec) return on_body(ec);
    read_body();
  }

  // A small body usually arrives in the same segment as the head: parse what the buffer holds
  // now instead of a second trip through the reactor. True once the message is complete; on a
  // parse error `ec` says which (as async_read would have).
  bool parse_buffered_body(error_code& ec) {
    parser_->eager(true);
    while (!parser_->is_done() && buffer_.size() > 0) {
      const std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0) break;
    }
    return !ec && parser_->is_done();
  }

  void send_continue() {
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](error_code ec, std::size_t) {
                        if (ec) return self->close();
                        self->read_body();
                      });
  }

  void read_body() {
    state_ = State::reading_body;
    beast::get_lowest_layer(stream_).expires_after(server_.options.body_timeout);
    if (read_body_directly()) return;
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
  }

  // A large body of announced length (an ingest batch, an import) is read straight into the
  // request's string, in reads as large as the socket has ready, instead of through the
  // connection buffer and the parser: that path read it in pieces sized by the buffer's room
  // (down to 512 bytes), each a trip through the reactor, the timer and the parser, and the IO
  // thread's share of a 20,000-point ingest batch was most of its round trip. What the parser
  // already took from the buffer stays at the front. The string grows a step at a time, as the
  // bytes arrive, so an announced length costs no memory before it is sent. False when the body
  // is chunked, small, or partly still in the buffer.
  bool read_body_directly() {
    const auto remaining = parser_->content_length_remaining();
    if (parser_->chunked() || !remaining || *remaining < kDirectBody || buffer_.size() != 0) {
      return false;
    }
    read_body_step(static_cast<std::size_t>(*remaining));
    return true;
  }

  void read_body_step(std::size_t left) {
    std::string& body = parser_->get().body();
    const std::size_t have = body.size();
    const std::size_t step = std::min(left, kDirectStep);
    body.resize(have + step);
    net::async_read(
        stream_, net::buffer(body.data() + have, step),
        [self = this->shared_from_this(), left = left - step](error_code ec, std::size_t) {
          if (ec == net::error::eof) ec = http::error::partial_message;
          if (ec || left == 0) return self->on_body(ec);
          self->read_body_step(left);
        });
  }

  void on_body(error_code ec) {
    if (ec == http::error::body_limit) return reject_body_too_large();
    if (ec == beast::error::timeout) {
      server_.probe.timeouts.inc();
      return reject(error_response(408, "RequestTimeout",
                                   "The request body did not arrive within the body timeout; "
                                   "send it faster or raise body_timeout."));
    }
    if (ec) return close();
    handle_request();
  }

  // The request as handlers see it; the Beast header stays in parser_ for a WebSocket upgrade.
  HttpRequest to_request(bool with_body) {
    auto& req = parser_->get();
    HttpRequest r;
    r.method_text = std::string(req.method_string());
    r.method = parse_method(r.method_text);
    r.remote_address = remote_;
    r.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
    for (const auto& field : req) {
      r.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    if (with_body) r.body = std::move(req.body());
    if (Status s = parse_target(req.target(), r); !s) {
      r.path = std::string(req.target().substr(0, req.target().find('?')));
      bad_target_ = s.message();
    }
    return r;
  }

  void handle_request() {
    state_ = State::handling;
    beast::get_lowest_layer(stream_).expires_never();
    keep_alive_ = parser_->get().keep_alive();
    head_ = parser_->get().method() == http::verb::head;
    bad_target_.clear();
    HttpRequest request = to_request(true);
    hold();
    if (!bad_target_.empty()) {
      return server_.dispatcher.reject(
          std::move(request), error_response(400, "InvalidArgument", bad_target_), completion());
    }
    server_.dispatcher.dispatch(std::move(request), completion(), this, &token_memo_);
  }

  // Called when the request was refused before dispatch; the connection closes afterwards
  // because the rest of the request (e.g. an oversized body) was not read.
  void reject(HttpResponse response) {
    keep_alive_ = false;
    state_ = State::handling;
    head_ = false;
    bad_target_.clear();
    HttpRequest request = to_request(false);
    hold();
    server_.dispatcher.reject(std::move(request), std::move(response), completion());
  }

  void reject_body_too_large() {
    server_.probe.rejected_bodies.inc();
    linger_ = true;  // the client is likely still sending; let it finish and read the 413
    reject(error_response(413, "PayloadTooLarge",
                          "The request body exceeds the limit of " +
                              std::to_string(server_.options.max_body_size) +
                              " bytes. Send less per request (e.g. split a batch), or raise "
                              "max_body_size."));
  }

  // While a handler works no pending IO owns the session: it keeps itself alive until the
  // response is written or it closes (a cycle broken by release(); callers hold a reference).
  void hold() { held_ = this->shared_from_this(); }
  void release() { held_.reset(); }

  Responder completion() {
    std::weak_ptr<Self> weak = this->shared_from_this();
    // dispatch, not post: a handler that answers at once on this connection's IO thread (e.g. a
    // cached read) writes without another trip through the I/O queue.
    return Responder::with([weak, executor = executor_](HttpResponse&& response) {
      net::dispatch(executor, [weak, response = std::move(response)]() mutable {
        if (auto self = weak.lock()) self->write_response(std::move(response));
      });
    });
  }

  void write_response(HttpResponse r) {
    auto self = this->shared_from_this();  // release() may drop the last other reference
    release();
    if (state_ != State::handling) return;  // closed meanwhile, or upgraded
    state_ = State::writing;
    if (r.status < 100 || r.status > 599) {
      log::error("handler returned an invalid HTTP status; sending 500", {{"status", r.status}});
      r = error_response(500, "InternalServerError", "The server produced an invalid response.");
    }
    bool keep_alive = keep_alive_ && !shutdown_requested_ && !server_.stopping();
    if (bodyless(r.status)) r.body.clear();
    out_head_.clear();
    serialize_head(r, r.body.size(), keep_alive, out_head_);
    if (head_) r.body.clear();
    if (r.body.size() <= kInlineBody) {
      // One buffer: one small write (TlsSocket also gathers a head and a large body's start into
      // one record).
      out_head_ += r.body;
      out_body_.clear();
    } else {
      out_body_ = std::move(r.body);
    }
    std::array<net::const_buffer, 2> buffers{net::buffer(out_head_), net::buffer(out_body_)};
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    net::async_write(stream_, buffers,
                     [self = std::move(self), keep_alive](error_code ec, std::size_t) {
                       if (ec) {
                         if (ec == beast::error::timeout) self->server_.probe.timeouts.inc();
                         return self->close();
                       }
                       // A large body's memory goes back now rather than at the next response.
                       if (self->out_head_.capacity() > kKeptBody) std::string().swap(self->out_head_);
                       if (self->out_body_.capacity() > kKeptBody) std::string().swap(self->out_body_);
                       if (!keep_alive) {
                         return self->linger_ ? self->drain() : self->graceful_close();
                       }
                       self->read_header();
                     });
  }

  // Lingering close (as nginx and Apache do): after refusing a request whose body was not read,
  // discard what the client still sends for a short while, so that a client blocked sending the
  // rest sees the response instead of a reset. Bounded in time and bytes.
  void drain() {
    linger_ = false;
    if (!drain_buffer_) drain_buffer_ = std::make_unique<char[]>(kDrainChunk);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    drain_some(0);
  }

  void drain_some(std::size_t drained) {
    stream_.async_read_some(
        net::buffer(drain_buffer_.get(), kDrainChunk),
        [self = this->shared_from_this(), drained](error_code ec, std::size_t n) {
          std::size_t total = drained + n;
          if (ec) return is_disconnect(ec) ? self->close() : self->graceful_close();
          if (total > std::max<std::size_t>(64u << 20, 4 * self->server_.options.max_body_size)) {
            return self->close();
          }
          self->drain_some(total);
        });
  }

  void graceful_close() {
    if (state_ == State::closed) return;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      state_ = State::closed;
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
    } else {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      close();
    }
  }

  void close() {
    if (upgraded_) return;  // the stream session owns the socket now
    auto self = this->shared_from_this();
    state_ = State::closed;
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    release();
    server_.remove(this);
  }

  ServerCore& server_;
  Stream stream_;
  IoExecutor executor_;  // stays valid after an upgrade moved stream_ away
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  State state_ = State::reading_header;
  bool keep_alive_ = true;
  bool head_ = false;
  bool shutdown_requested_ = false;
  bool upgraded_ = false;
  bool linger_ = false;  // drain the unread request body before closing
  static constexpr std::size_t kDrainChunk = 16384;
  std::unique_ptr<char[]> drain_buffer_;
  std::string bad_target_;
  TokenMemo token_memo_;        // the bearer token this connection sent last (dispatch only)
  std::shared_ptr<Self> held_;  // set while a handler works on this connection's request
  std::string out_head_;        // the response being written: status line and headers
  std::string out_body_;        // and its body
  static constexpr std::size_t kKeptBody = 64u << 10;   // buffer capacity kept between responses
  static constexpr std::size_t kInlineBody = 16u << 10;  // smaller bodies are copied after the head
  // Larger bodies of known length are read straight into the body, at most kDirectStep per read.
  static constexpr std::size_t kDirectBody = 64u << 10;
  static constexpr std::size_t kDirectStep = 1u << 20;
};

template <class Stream>
void HttpSession<Stream>::upgrade(HttpRequest request, StreamTransport transport,
                                  StreamHandler handler) {
  // The stream session takes the socket; this session ends without touching it again.
  auto self = this->shared_from_this();
  state_ = State::closed;
  upgraded_ = true;
  release();
  auto& beast_request = parser_->get();
  start_stream_session(server_, std::move(stream_), std::move(buffer_), std::move(beast_request),
                       std::move(request), transport, std::move(handler));
  server_.remove(this);
}

// ---- ServerCore ------------------------------------------------------------------------------

void ServerCore::add(const std::shared_ptr<Connection>& c) {
  std::lock_guard lock(mu_);
  connections_.emplace(c.get(), c);
  probe.connections_open.set(static_cast<double>(connections_.size()));
}

void ServerCore::remove(Connection* c) {
  bool last = false;
  {
    std::lock_guard lock(mu_);
    if (connections_.erase(c) == 0) return;
    probe.connections_open.set(static_cast<double>(connections_.size()));
    last = connections_.empty() && stopping();
  }
  if (last && on_last_connection_gone) on_last_connection_gone();
}

std::vector<std::shared_ptr<Connection>> ServerCore::live() const {
  std::vector<std::shared_ptr<Connection>> out;
  std::lock_guard lock(mu_);
  for (const auto& [ptr, weak] : connections_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

// ---- HttpServer -------------------------------------------------------------------------------

struct HttpServer::Impl {
  Impl(ServerOptions o, Dispatcher& d, HttpProbe& p)
      : core(std::move(o), d, p),
        contexts(make_contexts(core.options.io_threads)),
        control(net::make_strand(*contexts.front())),
        acceptor(control),
        signals(control),
        grace_timer(control),
        retry_timer(control) {
    core.on_last_connection_gone = [this] { net::post(control, [this] { grace_timer.cancel(); }); };
  }
  ~Impl() { core.on_last_connection_gone = nullptr; }

  // One io_context per IO thread (concurrency hint 1: only its own thread runs it).
  static std::vector<std::unique_ptr<net::io_context>> make_contexts(unsigned threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < std::max(1u, threads); ++i) {
      out.push_back(std::make_unique<net::io_context>(1));
    }
    return out;
  }
  // New connections go to the IO threads in turn.
  net::io_context& next_context() { return *contexts[next_accept++ % contexts.size()]; }
  // Lets every IO thread's run() return once its remaining work is done (on the control strand).
  void release_threads() {
    for (auto& guard : work) guard.reset();
  }

  Status load_tls();
  Status bind();
  void accept();
  void on_accept(error_code ec, Socket socket);
  void begin_stop(bool force);  // on the control strand
  template <class Session, class Stream>
  void start_session(Stream stream, std::string remote);

  ServerCore core;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  // Keep idle IO threads running until the server stops.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::size_t next_accept = 0;  // on the control strand
  // Acceptor, signals and timers live on one strand, so stopping never races with itself.
  net::strand<net::io_context::executor_type> control;
  std::optional<net::ssl::context> ssl;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer grace_timer;
  net::steady_timer retry_timer;
  std::vector<std::thread> threads;
  std::uint16_t bound_port = 0;
  bool grace_armed = false;
};

Status HttpServer::Impl::load_tls() {
  const auto& o = core.options;
  try {
    ssl.emplace(net::ssl::context::tls_server);
    ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    SSL_CTX_set_options(ssl->native_handle(), SSL_OP_NO_RENEGOTIATION);
    ssl->use_certificate_chain_file(o.cert_file);
    ssl->use_private_key_file(o.key_file, net::ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    return invalid_argument("cannot load the TLS certificate '" + o.cert_file + "' or key '" +
                            o.key_file + "': " + e.code().message() +
                            ". Check that both files are PEM and belong together.");
  }
  return Status::ok();
}

Status HttpServer::Impl::bind() {
  const auto& o = core.options;
  error_code ec;
  tcp::resolver resolver(*contexts.front());
  auto results = resolver.resolve(o.host, std::to_string(o.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return invalid_argument("cannot resolve the listen host '" + o.host + "': " + ec.message() +
                            ". Use an IP address or a resolvable name.");
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::unavailable,
                  "cannot listen on " + bracket(o.host) + ":" + std::to_string(o.port) + ": " +
                      ec.message() +
                      ". Choose another --listen port or stop the process using it.");
  }
  bound_port = acceptor.local_endpoint().port();
  return Status::ok();
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(next_context(), [this](error_code ec, Socket socket) {
    on_accept(ec, std::move(socket));
  });
}

template <class Session, class Stream>
void HttpServer::Impl::start_session(Stream stream, std::string remote) {
  auto session = std::make_shared<Session>(core, std::move(stream), std::move(remote));
  core.add(session);
  session->start();
}

void HttpServer::Impl::on_accept(error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || core.stopping()) return;
  if (ec) {
    // e.g. too many open files: back off instead of spinning.
    log::warn("accept failed; retrying", {{"error", ec.message()}});
    retry_timer.expires_after(std::chrono::milliseconds(100));
    retry_timer.async_wait([this](error_code tec) {
      if (!tec && !core.stopping()) accept();
    });
    return;
  }
  core.probe.connections.inc();
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto remote = socket.remote_endpoint(ignored).address().to_string();
  if (ssl) {
    start_session<HttpSession<TlsStream>>(TlsStream(std::move(socket), ssl->native_handle()),
                                          std::move(remote));
  } else {
    start_session<HttpSession<PlainStream>>(PlainStream(std::move(socket)), std::move(remote));
  }
  accept();
}

void HttpServer::Impl::begin_stop(bool force) {
  bool first = !core.stopping_flag.exchange(true);
  if (first) {
    if (core.options.on_stopping) core.options.on_stopping();
    log::info("shutting down: no new connections; finishing requests in flight",
              {{"grace_ms", static_cast<std::int64_t>(core.options.shutdown_timeout.count())}});
    error_code ignored;
    acceptor.close(ignored);
    retry_timer.cancel();
  }
  auto live = core.live();
  for (auto& c : live) force ? c->force_close() : c->shutdown();
  if (force) return;
  if (!grace_armed) {
    grace_armed = true;
    grace_timer.expires_after(core.options.shutdown_timeout);
    grace_timer.async_wait([this](error_code ec) {
      if (!ec) {
        log::warn("shutdown grace period over; closing the remaining connections");
        begin_stop(true);
      }
      signals.cancel();
      release_threads();
    });
  }
  if (live.empty()) grace_timer.cancel();
}

HttpServer::HttpServer(ServerOptions options, Dispatcher& dispatcher, HttpProbe& probe)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher, probe)) {}

HttpServer::~HttpServer() {
  if (!impl_->threads.empty()) {
    stop();
    wait();
  }
}

Status HttpServer::start() {
  if (impl_->core.options.tls) CASTOR_RETURN_IF_ERROR(impl_->load_tls());
  CASTOR_RETURN_IF_ERROR(impl_->bind());
  impl_->accept();
  for (auto& context : impl_->contexts) {
    impl_->work.push_back(net::make_work_guard(*context));
    impl_->threads.emplace_back(
        [context = context.get(), &o = impl_->core.options] { run_io_thread(*context, o); });
  }
  return Status::ok();
}

std::uint16_t HttpServer::port() const noexcept {
  return impl_->bound_port;
}

std::string HttpServer::url() const {
  std::string host = impl_->core.options.host;
  if (host == "0.0.0.0") host = "127.0.0.1";  // wildcard binds: point people at loopback
  if (host == "::") host = "::1";
  return std::string(impl_->core.options.tls ? "https://" : "http://") + bracket(host) + ":" +
         std::to_string(impl_->bound_port) + "/";
}

void HttpServer::stop() {
  net::post(impl_->control, [impl = impl_.get()] { impl->begin_stop(false); });
}

void HttpServer::stop_on_signals() {
  impl_->signals.add(SIGINT);
  impl_->signals.add(SIGTERM);
  struct Waiter {
    Impl* impl;
    void operator()(error_code ec, int signal) const {
      if (ec) return;
      log::info("signal received", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      bool again = impl->core.stopping();
      impl->signals.async_wait(*this);
      impl->begin_stop(again);  // a second signal cuts every connection
    }
  };
  net::post(impl_->control, [impl = impl_.get()] { impl->signals.async_wait(Waiter{impl}); });
}

void HttpServer::wait() {
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace castor::api
