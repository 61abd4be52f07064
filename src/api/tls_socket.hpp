// Internal to the HTTP transport: a server-side TLS stream that runs OpenSSL straight on the
// socket's descriptor, as nginx does, instead of through Asio's SSL engine. Asio's engine moves
// every record through a memory BIO pair and a chain of composed operations (engine, io_op,
// Beast's flat_stream); on a keep-alive GET of a cached twin that layering cost about as much as
// the cipher itself. Here SSL_read and SSL_write talk to the kernel, and the reactor is only asked
// to wait when OpenSSL says it would block.
//
// It is an AsyncReadStream and AsyncWriteStream (Beast's HTTP and WebSocket code run on it) and,
// like beast::basic_stream, its own lowest layer with expires_after / expires_never / cancel and
// socket(): an operation pending when the deadline passes completes with beast::error::timeout.
// One thread at a time: a connection lives on its IO thread's io_context.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace castor::api {

namespace tls_detail {

// OpenSSL's socket BIO sends with write(2), which raises SIGPIPE when the peer has reset the
// connection (OpenSSL even answers a peer's unexpected end with an alert). Records go out through
// this one instead, with send(MSG_NOSIGNAL) as Asio sends; reading stays OpenSSL's socket BIO.
inline int send_records(BIO* bio, const char* data, std::size_t size, std::size_t* sent) {
  BIO_clear_retry_flags(bio);
  const int fd = static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
  ssize_t n;
  do {
    n = ::send(fd, data, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *sent = static_cast<std::size_t>(n);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
  return 0;
}

inline long control(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
}

// Created once and never changed.
inline const BIO_METHOD* send_method() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "castor send");
    if (m != nullptr) {
      BIO_meth_set_write_ex(m, send_records);
      BIO_meth_set_ctrl(m, control);
    }
    return m;
  }();
  return method;
}

}  // namespace tls_detail

class TlsSocket {
 public:
  using executor_type = boost::asio::io_context::executor_type;
  using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;
  using clock = std::chrono::steady_clock;

  // Takes the accepted socket; the SSL object comes from `ctx` (a server context).
  TlsSocket(socket_type socket, SSL_CTX* ctx) : state_(std::make_shared<State>(std::move(socket))) {
    boost::system::error_code ignored;
    state_->socket.non_blocking(true, ignored);  // OpenSSL reads and writes the descriptor itself
    const int fd = static_cast<int>(state_->socket.native_handle());
    BIO* in = BIO_new_socket(fd, BIO_NOCLOSE);
    BIO* out = tls_detail::send_method() ? BIO_new(tls_detail::send_method()) : nullptr;
    state_->ssl = in && out ? SSL_new(ctx) : nullptr;
    if (state_->ssl == nullptr) {  // out of memory: the handshake then fails with a clear error
      BIO_free(in);
      BIO_free(out);
      return;
    }
    BIO_set_data(out, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
    BIO_set_init(out, 1);
    SSL_set_bio(state_->ssl, in, out);  // the SSL object owns both
    SSL_set_accept_state(state_->ssl);
    // Whole records per read (one recv for a request instead of header then body); a write may
    // return early and be continued from a moved buffer, as Asio's stream_base expects. An idle
    // connection gives its record buffers back (as under Asio's engine): no slower in http_bench
    // at 64 or 256 connections, and 1,000 idle TLS clients cost 17.5 KB of RSS each, not 26.9.
    SSL_set_read_ahead(state_->ssl, 1);
    SSL_set_mode(state_->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  }
  TlsSocket(TlsSocket&&) noexcept = default;
  TlsSocket& operator=(TlsSocket&&) noexcept = default;

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  socket_type& socket() noexcept { return state_->socket; }
  SSL* native_handle() noexcept { return state_->ssl; }

  // Deadlines as beast::basic_stream has them: for the operations pending now or started later.
  void expires_after(clock::duration d) { state_->set_deadline(clock::now() + d, state_); }
  void expires_never() { state_->set_deadline(clock::time_point::max(), state_); }
  // Cancels the pending operations (they complete with operation_aborted).
  void cancel() {
    boost::system::error_code ignored;
    state_->socket.cancel(ignored);
  }

  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type, Token&& token) {
    return start<void(boost::system::error_code)>(Handshake{}, std::forward<Token>(token));
  }
  // Sends close_notify; does not wait for the peer's (the connection closes right after).
  template <class Token>
  auto async_shutdown(Token&& token) {
    return start<void(boost::system::error_code)>(Shutdown{}, std::forward<Token>(token));
  }
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::mutable_buffer b(*it); b.size() != 0) {
        first = b;
        break;
      }
    }
    return start<void(boost::system::error_code, std::size_t)>(Read{first},
                                                               std::forward<Token>(token));
  }
  // Writes one TLS record from the first buffer, or from the buffers gathered into one (up to a
  // record) so that a gather write does not become many small records.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    boost::asio::const_buffer data = boost::beast::buffers_front(buffers);
    const std::size_t total = boost::asio::buffer_size(buffers);
    if (data.size() < total && data.size() < kRecord) {
      std::string& gather = state_->gather;
      gather.resize(std::min(total, kRecord));
      boost::asio::buffer_copy(boost::asio::buffer(gather), buffers);
      data = boost::asio::buffer(gather);
    }
    return start<void(boost::system::error_code, std::size_t)>(Write{data},
                                                               std::forward<Token>(token));
  }

 private:
  static constexpr std::size_t kRecord = 16384;  // TLS's largest plaintext record

  struct State {
    explicit State(socket_type s) : socket(std::move(s)), timer(socket.get_executor()) {}
    ~State() {
      if (ssl != nullptr) SSL_free(ssl);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    bool expired() const {
      return timed_out || (deadline != clock::time_point::max() && deadline <= clock::now());
    }

    // The timer is armed lazily: a later deadline keeps the armed wait (which re-arms when it
    // fires early), so a keep-alive request costs no timer-queue work; an earlier one re-arms.
    void set_deadline(clock::time_point d, const std::shared_ptr<State>& self) {
      deadline = d;
      timed_out = false;
      if (d == clock::time_point::max() || (armed && armed_at <= d)) return;
      arm(d, self);
    }
    void arm(clock::time_point at, const std::shared_ptr<State>& self) {
      armed = true;
      armed_at = at;
      const unsigned generation = ++timer_generation;
      timer.expires_at(at);  // a previous wait completes as aborted and sees a stale generation
      timer.async_wait([weak = std::weak_ptr<State>(self), generation](boost::system::error_code) {
        auto s = weak.lock();
        if (!s || generation != s->timer_generation) return;
        s->armed = false;
        if (s->deadline == clock::time_point::max()) return;
        if (s->deadline > clock::now()) return s->arm(s->deadline, s);
        s->timed_out = true;
        boost::system::error_code ignored;
        s->socket.cancel(ignored);
      });
    }

    socket_type socket;
    SSL* ssl = nullptr;
    boost::asio::steady_timer timer;
    clock::time_point deadline = clock::time_point::max();
    clock::time_point armed_at{};
    unsigned timer_generation = 0;
    bool armed = false;
    bool timed_out = false;
    std::string gather;  // a gather write's buffers made one
  };

  // What an operation asks of OpenSSL; > 0 is done, else SSL_get_error says why not.
  struct Handshake {
    int operator()(SSL* ssl, std::size_t&) const { return SSL_do_handshake(ssl); }
  };
  struct Shutdown {
    int operator()(SSL* ssl, std::size_t&) const {
      const int r = SSL_shutdown(ssl);
      return r == 0 ? 1 : r;  // 0: our close_notify is out; the peer's is not awaited
    }
  };
  struct Read {
    boost::asio::mutable_buffer buffer;
    int operator()(SSL* ssl, std::size_t& n) const {
      if (buffer.size() == 0) return 1;
      return SSL_read_ex(ssl, buffer.data(), buffer.size(), &n);
    }
  };
  struct Write {
    boost::asio::const_buffer buffer;
    int operator()(SSL* ssl, std::size_t& n) const {
      if (buffer.size() == 0) return 1;
      return SSL_write_ex(ssl, buffer.data(), buffer.size(), &n);
    }
  };

  // `err`: SSL_get_error's answer for the failed call.
  static boost::system::error_code error_of(int err) {
    namespace net = boost::asio;
    boost::system::error_code ec;
    if (err == SSL_ERROR_ZERO_RETURN) {
      ec = net::error::eof;  // the peer's close_notify
    } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      ec = errno != 0 ? boost::system::error_code(errno, boost::system::system_category())
                      : boost::system::error_code(net::ssl::error::stream_truncated);
    } else if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ec = net::ssl::error::stream_truncated;  // closed without close_notify
    } else {
      ec = boost::system::error_code(static_cast<int>(ERR_get_error()),
                                     net::error::get_ssl_category());
      if (!ec) ec = net::ssl::error::stream_truncated;
    }
    ERR_clear_error();
    return ec;
  }

  // Runs `action` until it is done, waiting on the socket whenever OpenSSL would block.
  template <class Action, class Handler, bool WithSize>
  struct Op {
    std::shared_ptr<State> s;
    Action action;
    Handler handler;

    void run(bool first) {
      namespace net = boost::asio;
      // OpenSSL knows the descriptor only by number: once the socket is closed that number may
      // already belong to another connection, so nothing reaches OpenSSL after a close.
      if (!s->socket.is_open() || s->ssl == nullptr) {
        return complete(net::error::bad_descriptor, 0, first);
      }
      if (s->expired()) return complete(boost::beast::error::timeout, 0, first);
      // SSL_get_error reads this thread's error queue, which must start empty. error_of leaves
      // it so; peeking is cheaper than clearing all sixteen slots on every record.
      if (ERR_peek_error() != 0) ERR_clear_error();
      std::size_t n = 0;
      const int r = action(s->ssl, n);
      if (r > 0) return complete({}, n, first);
      const int err = SSL_get_error(s->ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        auto& socket = s->socket;
        socket.async_wait(
            err == SSL_ERROR_WANT_READ ? socket_type::wait_read : socket_type::wait_write,
            [op = std::move(*this)](boost::system::error_code ec) mutable {
              if (!ec && !op.s->socket.is_open()) ec = net::error::bad_descriptor;
              if (ec) {
                if (op.s->timed_out) ec = boost::beast::error::timeout;
                return op.complete(ec, 0, false);
              }
              op.run(false);
            });
        return;
      }
      complete(error_of(err), 0, first);
    }

    // Never from within the initiating call (Asio's rule): posted when the first try finished.
    void complete(boost::system::error_code ec, std::size_t n, bool first) {
      namespace net = boost::asio;
      auto executor = s->socket.get_executor();
      s.reset();
      auto bound = [&] {
        if constexpr (WithSize) {
          return boost::beast::bind_front_handler(std::move(handler), ec, n);
        } else {
          return boost::beast::bind_front_handler(std::move(handler), ec);
        }
      }();
      first ? net::post(executor, std::move(bound)) : net::dispatch(executor, std::move(bound));
    }
  };

  template <class Signature, class Action, class Token>
  auto start(Action action, Token&& token) {
    constexpr bool with_size = !std::is_same_v<Signature, void(boost::system::error_code)>;
    return boost::asio::async_initiate<Token, Signature>(
        [this, action](auto handler) {
          using H = std::decay_t<decltype(handler)>;
          Op<Action, H, with_size>{state_, action, std::move(handler)}.run(true);
        },
        token);
  }

  std::shared_ptr<State> state_;
};

// Beast's WebSocket stream closes and tears down its next layer through these (found by ADL).
inline void beast_close_socket(TlsSocket& s) {
  boost::system::error_code ignored;
  s.socket().close(ignored);
}

template <class Handler>
void async_teardown(boost::beast::role_type, TlsSocket& s, Handler&& handler) {
  s.async_shutdown([&s, h = std::forward<Handler>(handler)](boost::system::error_code) mutable {
    boost::system::error_code ec;
    s.socket().shutdown(TlsSocket::socket_type::shutdown_send, ec);
    if (ec == boost::asio::error::not_connected) ec = {};
    std::move(h)(ec);
  });
}

}  // namespace castor::api
