// A small synchronous HTTP/1.1 client over plain TCP or TLS (certificate and host name verified,
// SNI), with keep-alive and timeouts, for Castor's command-line tools and other outgoing calls.
// This header exposes no Beast, Asio or OpenSSL types; only http_client.cpp includes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/http.hpp"
#include "common/status.hpp"

namespace castor::api {

// An http:// or https:// URL split into what a connection needs. IPv6 hosts are kept without
// their brackets; `base_path` always ends with '/' ("/" when the URL has no path).
struct ClientUrl {
  bool tls = true;
  std::string host;
  std::uint16_t port = 443;
  std::string base_path = "/";
  std::string text() const;  // normalised: "https://[::1]:8443/"
};

// Fails with invalid_argument (and how to fix it) unless `url` is http(s)://host[:port][/path]
// without query, fragment or user info.
Result<ClientUrl> parse_client_url(std::string_view url);

// The origin-form target ("/path?query") of an absolute URL such as a nextLink; "" when the
// text is not an absolute http(s) URL.
std::string origin_target(std::string_view absolute_url);

struct HttpClientOptions {
  ClientUrl url;
  // PEM file of trusted CAs; empty means the system's roots. Only for https.
  std::string ca_file;
  // false skips certificate and host name checks (tests, emergencies): anyone on the path can
  // then read and change the traffic.
  bool verify = true;
  std::chrono::milliseconds connect_timeout{10000};  // resolve + TCP connect + TLS handshake
  std::chrono::milliseconds request_timeout{60000};  // write the request, read the whole answer
  // Largest accepted response body. Default 1 GiB: far above any page of results.
  std::uint64_t max_body_size = 1ull << 30;
  std::string user_agent = "castor";
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
};

// Status::reason() of transport failures, so callers can say what to do about each. The
// Status::message() says what happened in words (e.g. the certificate check that failed).
namespace client_error {
inline constexpr std::string_view kBadUrl = "BadUrl";
inline constexpr std::string_view kResolve = "ResolveFailed";      // unknown host name
inline constexpr std::string_view kRefused = "ConnectionRefused";  // nothing listens there
inline constexpr std::string_view kUnreachable = "Unreachable";    // no route, host down
inline constexpr std::string_view kTimeout = "Timeout";            // connect or request
inline constexpr std::string_view kTlsVerify = "TlsVerifyFailed";  // untrusted certificate
inline constexpr std::string_view kTlsName = "TlsNameMismatch";    // not issued for this host
inline constexpr std::string_view kTlsConfig = "TlsConfig";        // unreadable --cacert file
inline constexpr std::string_view kNotTls = "NotTls";              // https:// to a plain server
inline constexpr std::string_view kTlsHandshake = "TlsHandshakeFailed";
inline constexpr std::string_view kClosed = "ConnectionClosed";  // closed before an answer
inline constexpr std::string_view kBadResponse = "BadResponse";  // not HTTP, or too large
inline constexpr std::string_view kIo = "IoError";
}  // namespace client_error

// One connection to one origin, opened on the first request, kept open between requests and
// reopened when the server closed it. Not thread-safe: one HttpClient per thread.
class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request. `target` is origin-form ("/models?x=1"), sent as is. Any HTTP status is
  // a successful exchange; a non-ok Status means no answer arrived (reason: client_error).
  Result<ClientResponse> send(Method method, std::string_view target, const Headers& headers = {},
                              std::string body = {});

  const HttpClientOptions& options() const noexcept;
  // Closes the connection (the next request opens a new one).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace castor::api
