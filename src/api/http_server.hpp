// The HTTP/1.1 transport: accepts connections (TLS or plain), parses requests with Boost.Beast,
// enforces size limits and timeouts, hands each request to the Dispatcher, and shuts down
// gracefully. This header exposes no Beast or Asio types; only http_server.cpp includes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/dispatcher.hpp"
#include "api/http_probe.hpp"
#include "common/status.hpp"

namespace castor::api {

struct ServerOptions {
  std::string host = "127.0.0.1";  // name or address to bind
  std::uint16_t port = 8443;       // 0 picks a free port; see HttpServer::port()
  bool tls = true;
  std::string cert_file, key_file;  // PEM, required when tls
  unsigned io_threads = 2;
  std::uint64_t max_body_size = 8u << 20;     // larger bodies get 413 and the connection closes
  std::uint32_t max_header_size = 64u << 10;  // larger headers get 431
  std::chrono::milliseconds header_timeout{30000};  // incl. keep-alive idle time
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds write_timeout{60000};
  std::chrono::milliseconds shutdown_timeout{10000};  // grace for in-flight requests
  std::size_t stream_queue_limit = 1024;  // messages queued per WebSocket/SSE connection
  std::chrono::milliseconds stream_heartbeat{15000};  // SSE keep-alive comment interval
  std::function<void()> on_stopping;  // called once when a stop begins (e.g. flip readiness)
  // Called on each IO thread: when it starts, after each burst of handlers it ran (at most
  // `io_burst` handlers, or fewer when no more were ready; always before it waits for IO), and
  // before it ends. The twin engine uses them to wake its shards once per burst.
  std::function<void()> on_io_thread_start, on_io_burst_end, on_io_thread_stop;
  std::size_t io_burst = 32;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Dispatcher& dispatcher, HttpProbe& probe);
  ~HttpServer();  // stops and joins the IO threads
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads TLS material, binds, listens and starts the IO threads.
  Status start();
  std::uint16_t port() const noexcept;  // the bound port (useful with port 0)
  std::string url() const;              // e.g. "https://127.0.0.1:8443/"

  // Graceful stop from any thread: stop accepting, close idle connections, let in-flight
  // requests finish (up to shutdown_timeout), then cut what remains. Idempotent.
  void stop();
  // SIGINT and SIGTERM call stop(); a second signal cuts every connection at once.
  void stop_on_signals();
  // Blocks until stop() has completed and every IO thread has finished.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castor::api
