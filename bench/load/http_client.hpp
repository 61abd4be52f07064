// A minimal blocking HTTP/1.1 client over one keep-alive loopback TCP connection, for load
// generators that must not spend their CPU in a big client library. Reads Content-Length and
// chunked bodies. It never retries and never hides a failure: every error throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace castor::bench {

class HttpConnection {
 public:
  // Connects to 127.0.0.1:port or throws std::runtime_error.
  explicit HttpConnection(int port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads the whole answer; returns the status code. `body()` then holds
  // the answer's body (de-chunked).
  int request(std::string_view method, std::string_view target, std::string_view content_type,
              std::string_view body);
  const std::string& body() const { return body_; }

 private:
  void send_all(std::string_view s);
  bool fill();  // reads more into buf_; false on end of stream

  int fd_ = -1;
  std::string head_, buf_, body_;
};

// Percent-encodes a query-string value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view s);

}  // namespace castor::bench
