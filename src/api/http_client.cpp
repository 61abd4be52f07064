// The client side of Castor's HTTP: the one translation unit of the client that includes Beast.
// Requests run as asynchronous Beast operations on a private io_context driven to completion
// by the caller's thread, because only asynchronous operations honour tcp_stream's timeouts.
#include "api/http_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>

namespace castor::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using beast::error_code;
using Request = http::request<http::string_body>;

namespace {

// A reused connection idle for longer may have been closed by the server (its header_timeout
// defaults to 30 s); opening a new one is cheaper than a failed request.
constexpr auto kMaxIdle = std::chrono::seconds(10);

Status failure(std::string_view reason, std::string message) {
  return Status(Code::unavailable, std::move(message), std::string(reason));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

std::optional<http::verb> verb_of(Method m) {
  switch (m) {
    case Method::get: return http::verb::get;
    case Method::head: return http::verb::head;
    case Method::post: return http::verb::post;
    case Method::put: return http::verb::put;
    case Method::patch: return http::verb::patch;
    case Method::delete_: return http::verb::delete_;
    case Method::options: return http::verb::options;
    case Method::other: break;
  }
  return std::nullopt;
}

bool idempotent(Method m) {
  return m != Method::post && m != Method::patch;
}

bool is_closed(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::connection_aborted || ec == net::ssl::error::stream_truncated;
}

// The OpenSSL reason of an error from Asio's SSL category (0 for other categories).
int ssl_reason(const error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return 0;
  return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
}

bool safe_header(std::string_view name, std::string_view value) {
  return !name.empty() && name.find_first_of("\r\n: ") == std::string_view::npos &&
         value.find_first_of("\r\n") == std::string_view::npos;
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string ClientUrl::text() const {
  return (tls ? "https://" : "http://") + bracketed(host) + ":" + std::to_string(port) + base_path;
}

Result<ClientUrl> parse_client_url(std::string_view text) {
  auto bad = [&](std::string why) {
    return Status(Code::invalid_argument,
                  "the URL '" + std::string(text) + "' " + why +
                      "; give one like https://127.0.0.1:8443/ or http://[::1]:8080/",
                  std::string(client_error::kBadUrl));
  };
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return bad("is not an absolute URL");
  const auto& u = *parsed;
  ClientUrl out;
  std::string scheme = lower(std::string_view(u.scheme().data(), u.scheme().size()));
  if (scheme != "http" && scheme != "https") return bad("must start with http:// or https://");
  out.tls = scheme == "https";
  if (!u.has_authority() || u.host_address().empty()) return bad("has no host");
  if (u.has_userinfo()) return bad("must not contain a user name or password (use --token)");
  if (u.has_query()) return bad("must not have a query (?...)");
  out.host = u.host_address();
  out.port = out.tls ? 443 : 80;
  if (u.has_port()) {
    if (u.port_number() == 0) return bad("has an invalid port");
    out.port = u.port_number();
  }
  std::string path(u.encoded_path().data(), u.encoded_path().size());
  if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
  if (path.back() != '/') path.push_back('/');
  out.base_path = std::move(path);
  return out;
}

std::string origin_target(std::string_view absolute_url) {
  auto parsed = boost::urls::parse_absolute_uri(absolute_url);
  if (!parsed) return {};
  std::string scheme = lower(std::string_view(parsed->scheme().data(), parsed->scheme().size()));
  if (scheme != "http" && scheme != "https") return {};
  std::string target(parsed->encoded_path().data(), parsed->encoded_path().size());
  if (target.empty()) target = "/";
  if (parsed->has_query()) {
    target += '?';
    target.append(parsed->encoded_query().data(), parsed->encoded_query().size());
  }
  return target;
}

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions o) : options(std::move(o)) {}

  // Runs one asynchronous operation to completion on this thread and returns its error.
  template <class Start>
  error_code run(Start&& start) {
    error_code result = net::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  template <class Fn>
  decltype(auto) with_stream(Fn&& fn) {
    return tls ? fn(*tls) : fn(*plain);
  }
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  bool connected() const { return tls.has_value() || plain.has_value(); }

  Status make_tls_context();
  Status connect();
  Status handshake(beast::tcp_stream stream);
  Status handshake_failure(const error_code& ec);
  Request build(Method m, std::string_view target, const Headers& headers, std::string body) const;
  Result<ClientResponse> exchange(const Request& req, bool& wrote, bool& got_some);
  Status read_failure(const error_code& ec) const;
  void close();

  HttpClientOptions options;
  net::io_context ioc;
  std::optional<net::ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point last_used;
};

Status HttpClient::Impl::make_tls_context() {
  ssl_ctx.emplace(net::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ssl_ctx->native_handle(), TLS1_2_VERSION);
  error_code ec;
  const std::string& ca = options.ca_file;
  if (ca.empty()) {
    ssl_ctx->set_default_verify_paths(ec);
  } else if (std::error_code fec; !std::filesystem::is_regular_file(ca, fec)) {
    ssl_ctx.reset();
    return failure(client_error::kTlsConfig, "the CA file '" + ca + "' does not exist");
  } else {
    ssl_ctx->load_verify_file(ca, ec);
  }
  if (ec) {
    ssl_ctx.reset();
    return failure(client_error::kTlsConfig,
                   ca.empty() ? "cannot load the system's trusted certificates: " + ec.message()
                              : "cannot load the CA file '" + ca + "' (" + ec.message() +
                                    "); it must hold PEM certificates");
  }
  return Status::ok();
}

Status HttpClient::Impl::connect() {
  close();
  const ClientUrl& u = options.url;
  std::string where = bracketed(u.host) + ":" + std::to_string(u.port);
  error_code ec;
  tcp::resolver resolver(ioc);
  auto endpoints =
      resolver.resolve(u.host, std::to_string(u.port), tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    return failure(client_error::kResolve,
                   "cannot resolve the host '" + u.host + "': " + ec.message());
  beast::tcp_stream stream(ioc);
  stream.expires_after(options.connect_timeout);
  ec = run([&](auto done) { stream.async_connect(endpoints, std::move(done)); });
  if (ec == beast::error::timeout)
    return failure(client_error::kTimeout, "no connection to " + where + " within " +
                                               std::to_string(options.connect_timeout.count()) +
                                               " ms");
  if (ec == net::error::connection_refused)
    return failure(client_error::kRefused, "connection to " + where + " refused");
  if (ec == net::error::host_unreachable || ec == net::error::network_unreachable)
    return failure(client_error::kUnreachable, "cannot reach " + where + ": " + ec.message());
  if (ec) return failure(client_error::kIo, "cannot connect to " + where + ": " + ec.message());
  stream.socket().set_option(tcp::no_delay(true), ec);
  if (!u.tls) {
    plain.emplace(std::move(stream));
    return Status::ok();
  }
  return handshake(std::move(stream));
}

Status HttpClient::Impl::handshake(beast::tcp_stream stream) {
  if (!ssl_ctx) {
    if (Status s = make_tls_context(); !s) return s;
  }
  tls.emplace(std::move(stream), *ssl_ctx);
  SSL* ssl = tls->native_handle();
  const std::string& host = options.url.host;
  bool ip = is_ip_literal(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI is for names only (RFC 6066)
  if (options.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (ip)
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    else
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    tls->set_verify_mode(net::ssl::verify_peer);
  } else {
    tls->set_verify_mode(net::ssl::verify_none);
  }
  beast::get_lowest_layer(*tls).expires_after(options.connect_timeout);
  error_code ec =
      run([&](auto done) { tls->async_handshake(net::ssl::stream_base::client, std::move(done)); });
  if (!ec) return Status::ok();
  Status s = handshake_failure(ec);
  close();
  return s;
}

Status HttpClient::Impl::handshake_failure(const error_code& ec) {
  std::string where = options.url.text();
  long verify = SSL_get_verify_result(tls->native_handle());
  if (options.verify &&
      (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH))
    return failure(client_error::kTlsName, "the server's certificate at " + where +
                                               " is not issued for '" + options.url.host + "'");
  if (options.verify && verify != X509_V_OK)
    return failure(client_error::kTlsVerify,
                   "the server's certificate at " + where +
                       " is not trusted: " + X509_verify_cert_error_string(verify));
  if (ec == beast::error::timeout)
    return failure(client_error::kTimeout, "the TLS handshake with " + where + " timed out");
  int reason = ssl_reason(ec);
  if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
      reason == SSL_R_HTTP_REQUEST)
    return failure(client_error::kNotTls, "the server at " + where + " does not speak TLS");
  return failure(client_error::kTlsHandshake,
                 "the TLS handshake with " + where + " failed: " + ec.message());
}

Request HttpClient::Impl::build(Method m, std::string_view target, const Headers& headers,
                                std::string body) const {
  Request req{*verb_of(m), target, 11};
  const ClientUrl& u = options.url;
  bool default_port = u.port == (u.tls ? 443 : 80);
  req.set(http::field::host,
          bracketed(u.host) + (default_port ? "" : ":" + std::to_string(u.port)));
  req.set(http::field::user_agent, options.user_agent);
  for (const auto& [name, value] : headers) req.insert(name, value);
  if (!body.empty() || m == Method::post || m == Method::put || m == Method::patch) {
    req.body() = std::move(body);
    req.prepare_payload();
  }
  return req;
}

Status HttpClient::Impl::read_failure(const error_code& ec) const {
  std::string where = options.url.text();
  if (ec == beast::error::timeout)
    return failure(client_error::kTimeout, "no complete answer from " + where + " within " +
                                               std::to_string(options.request_timeout.count()) +
                                               " ms");
  if (is_closed(ec))
    return failure(client_error::kClosed, where + " closed the connection without an answer");
  if (ec == http::error::body_limit)
    return failure(client_error::kBadResponse, "the answer from " + where + " is larger than " +
                                                   std::to_string(options.max_body_size) +
                                                   " bytes");
  if (ec.category() == make_error_code(http::error::bad_target).category())  // parse errors
    return failure(client_error::kBadResponse,
                   "the answer from " + where + " is not HTTP (" + ec.message() + ")");
  return failure(client_error::kIo, "reading from " + where + " failed: " + ec.message());
}

Result<ClientResponse> HttpClient::Impl::exchange(const Request& req, bool& wrote, bool& got_some) {
  lowest().expires_after(options.request_timeout);
  error_code ec = run([&](auto done) {
    with_stream([&](auto& s) { http::async_write(s, req, std::move(done)); });
  });
  if (ec) return read_failure(ec);
  wrote = true;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_size);
  if (req.method() == http::verb::head) parser.skip(true);
  ec = run([&](auto done) {
    with_stream([&](auto& s) { http::async_read(s, buffer, parser, std::move(done)); });
  });
  got_some = parser.got_some();
  if (ec) return read_failure(ec);
  auto res = parser.release();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res)
    out.headers.add(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(res.body());
  if (!res.keep_alive()) close();
  last_used = std::chrono::steady_clock::now();
  return out;
}

void HttpClient::Impl::close() {
  error_code ignored;
  if (tls) beast::get_lowest_layer(*tls).socket().close(ignored);
  if (plain) plain->socket().close(ignored);
  tls.reset();
  plain.reset();
  buffer.consume(buffer.size());
}

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

const HttpClientOptions& HttpClient::options() const noexcept {
  return impl_->options;
}

void HttpClient::close() {
  impl_->close();
}

Result<ClientResponse> HttpClient::send(Method method, std::string_view target,
                                        const Headers& headers, std::string body) {
  if (!verb_of(method))
    return Status(Code::invalid_argument, "the HTTP client cannot send method OTHER");
  if (target.empty() || target.front() != '/' ||
      target.find_first_of("\r\n ") != std::string_view::npos)
    return Status(Code::invalid_argument, "the request target '" + std::string(target) +
                                              "' must start with '/' and contain no spaces");
  for (const auto& [name, value] : headers) {
    if (!safe_header(name, value))
      return Status(Code::invalid_argument,
                    "the header '" + name + "' has an empty name or a line break in its value");
  }
  Request req = impl_->build(method, target, headers, std::move(body));
  if (impl_->connected() && std::chrono::steady_clock::now() - impl_->last_used > kMaxIdle)
    impl_->close();
  bool reused = impl_->connected();
  for (int attempt = 0;; ++attempt) {
    if (!impl_->connected()) {
      if (Status s = impl_->connect(); !s) return s;
    }
    bool wrote = false, got_some = false;
    auto r = impl_->exchange(req, wrote, got_some);
    if (r) return r;
    impl_->close();
    // A kept-alive connection the server closed meanwhile: resend once on a new one when the
    // request cannot have taken effect (not written) or taking effect twice is harmless.
    bool stale = reused && !got_some && r.status().reason() == client_error::kClosed;
    if (attempt > 0 || !stale || (wrote && !idempotent(method))) return r.status();
    reused = false;
  }
}

}  // namespace castor::api
