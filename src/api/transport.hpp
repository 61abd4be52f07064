// Internal to the HTTP transport (http_server.cpp, stream_session.cpp): the state every connection
// shares with the server, and the hand-over of a connection to a WebSocket or SSE stream.
// Includes Boost.Beast: never include it from handler code or other public headers.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "api/dispatcher.hpp"
#include "api/http_probe.hpp"
#include "api/http_server.hpp"
#include "api/stream.hpp"
#include "api/tls_socket.hpp"

namespace castor::api {

// Connections carry their IO thread's concrete executor type: no type erasure per operation.
using IoExecutor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, IoExecutor>;
using PlainStream = boost::beast::basic_stream<boost::asio::ip::tcp, IoExecutor>;
using TlsStream = TlsSocket;  // OpenSSL on the descriptor (tls_socket.hpp)
using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// A connection the server can ask to wind down (graceful) or cut (forced). Both may be called
// from any thread; they run on the connection's own IO thread.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void shutdown() = 0;
  virtual void force_close() = 0;
};

// What connections share with the server: options, the pipeline, metrics and the registry of
// live connections used for graceful shutdown.
struct ServerCore {
  ServerCore(ServerOptions o, Dispatcher& d, HttpProbe& p)
      : options(std::move(o)), dispatcher(d), probe(p) {}

  void add(const std::shared_ptr<Connection>& c);
  void remove(Connection* c);  // idempotent
  std::vector<std::shared_ptr<Connection>> live() const;
  bool stopping() const noexcept { return stopping_flag.load(std::memory_order_acquire); }

  ServerOptions options;
  Dispatcher& dispatcher;
  HttpProbe& probe;
  std::atomic<bool> stopping_flag{false};
  std::function<void()> on_last_connection_gone;  // set by the server; called under no lock

 private:
  mutable std::mutex mu_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
};

// Takes over an upgraded connection (stream_session.cpp). `buffer` holds bytes already read past
// the request; `beast_request` is the upgrade request (needed for the WebSocket handshake).
void start_stream_session(ServerCore& core, PlainStream stream, boost::beast::flat_buffer buffer,
                          BeastRequest beast_request, HttpRequest request,
                          StreamTransport transport, StreamHandler handler);
void start_stream_session(ServerCore& core, TlsStream stream, boost::beast::flat_buffer buffer,
                          BeastRequest beast_request, HttpRequest request,
                          StreamTransport transport, StreamHandler handler);

}  // namespace castor::api
