// The third translation unit that includes Boost.Beast (client side): keep Beast out of others.
#include "api/webhook_sender.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <atomic>
#include <optional>

namespace castor::api {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using beast::error_code;
using rules::SendResult;

constexpr std::size_t kResponseBodyLimit = 1 << 20;

struct Target {
  bool tls = false;
  std::string host, port, path, host_header;
};

Result<Target> parse_target(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  auto bad = [&](std::string why) {
    return invalid_argument("webhook url '" + url + "' " + why +
                            "; write http(s)://HOST[:PORT]/PATH");
  };
  if (!u) return bad("is not a URL (" + u.error().message() + ")");
  Target t;
  t.tls = u->scheme() == "https";
  if (!t.tls && u->scheme() != "http") return bad("is neither http nor https");
  if (u->host().empty()) return bad("has no host");
  if (!u->userinfo().empty()) return bad("must not carry credentials; use headers instead");
  t.host = u->host_address();
  t.port = u->has_port() ? std::string(u->port()) : (t.tls ? "443" : "80");
  t.host_header = std::string(u->encoded_host_and_port());
  t.path = std::string(u->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (u->has_query()) t.path += "?" + std::string(u->encoded_query());
  return t;
}

// What one request/response exchange produced.
struct Exchange {
  error_code ec;
  const char* stage = "";
  bool responded = false;
  int status = 0;
  std::string reason, body;
  bool keep_alive = false;
};

class WebhookSender final : public rules::EndpointSender {
 public:
  WebhookSender(const EndpointConfig& e, Target t, std::unique_ptr<net::ssl::context> ssl)
      : url_(e.url),
        target_(std::move(t)),
        headers_(e.headers),
        timeout_(e.timeout),
        ssl_(std::move(ssl)) {}

  SendResult send(std::string_view body) override {
    if (interrupted_) return SendResult::failed("delivery is stopping");
    bool reused = open();
    Exchange x = run(body);
    if (x.ec && reused && !x.responded) {  // the server closed an idle kept-alive connection
      reset();
      x = run(body);
    }
    if (x.ec || !x.keep_alive) reset();
    return classify(x);
  }

  void interrupt() override {
    // The cancel runs on the sending thread inside run(): a pending operation ends at once.
    interrupted_ = true;
    net::post(ioc_, [this] { cancel(); });
  }

 private:
  bool open() const { return plain_.has_value() || tls_.has_value(); }

  tcp::socket& socket() {
    return tls_ ? beast::get_lowest_layer(*tls_).socket() : plain_->socket();
  }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void cancel() {
    resolver_.cancel();
    if (open()) {
      error_code ignored;
      socket().close(ignored);
    }
  }

  void reset() {
    cancel();
    tls_.reset();
    plain_.reset();
  }

  Exchange run(std::string_view body) {
    Exchange x;
    ioc_.restart();
    net::co_spawn(ioc_, exchange(body, x), net::detached);
    ioc_.run();
    if (interrupted_ && !x.responded && !x.ec) x.ec = net::error::operation_aborted;
    return x;
  }

  net::awaitable<void> exchange(std::string_view body, Exchange& x) {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    if (!open()) {
      co_await connect(deadline, x);
      if (x.ec) co_return;
    }
    http::request<http::string_body> req{http::verb::post, target_.path, 11};
    req.set(http::field::host, target_.host_header);
    req.set(http::field::user_agent, "Castor");
    req.set(http::field::content_type, "application/cloudevents+json; charset=utf-8");
    for (const auto& [name, value] : headers_) req.set(name, value);
    req.keep_alive(true);
    req.body() = std::string(body);
    req.prepare_payload();
    x.stage = "sending the request";
    lowest().expires_at(deadline);
    if (tls_)
      co_await http::async_write(*tls_, req, net::redirect_error(net::use_awaitable, x.ec));
    else
      co_await http::async_write(*plain_, req, net::redirect_error(net::use_awaitable, x.ec));
    if (x.ec) co_return;
    x.stage = "waiting for the response";
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseBodyLimit);
    beast::flat_buffer buffer;
    if (tls_)
      co_await http::async_read(*tls_, buffer, parser,
                                net::redirect_error(net::use_awaitable, x.ec));
    else
      co_await http::async_read(*plain_, buffer, parser,
                                net::redirect_error(net::use_awaitable, x.ec));
    if (x.ec) co_return;
    const auto& res = parser.get();
    x.responded = true;
    x.status = res.result_int();
    x.reason = std::string(res.reason());
    x.body = res.body().substr(0, 200);
    x.keep_alive = res.keep_alive();
  }

  net::awaitable<void> connect(std::chrono::steady_clock::time_point deadline, Exchange& x) {
    x.stage = "resolving the host";
    net::steady_timer timer(ioc_);
    timer.expires_at(deadline);
    timer.async_wait([this](error_code ec) {
      if (!ec) resolver_.cancel();
    });
    auto endpoints = co_await resolver_.async_resolve(
        target_.host, target_.port, net::redirect_error(net::use_awaitable, x.ec));
    timer.cancel();
    if (x.ec) co_return;
    x.stage = "connecting";
    if (ssl_)
      tls_.emplace(ioc_, *ssl_);
    else
      plain_.emplace(ioc_);
    lowest().expires_at(deadline);
    co_await lowest().async_connect(endpoints, net::redirect_error(net::use_awaitable, x.ec));
    if (x.ec || !tls_) co_return;
    x.stage = "the TLS handshake";
    error_code not_ip;
    net::ip::make_address(target_.host, not_ip);  // SNI carries names only, never addresses
    if (not_ip && !SSL_set_tlsext_host_name(tls_->native_handle(), target_.host.c_str())) {
      x.ec = error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
      co_return;
    }
    tls_->set_verify_callback(net::ssl::host_name_verification(target_.host));
    co_await tls_->async_handshake(net::ssl::stream_base::client,
                                   net::redirect_error(net::use_awaitable, x.ec));
  }

  SendResult classify(const Exchange& x) const {
    if (x.ec) {
      std::string what = x.ec == beast::error::timeout
                             ? "timed out after " + std::to_string(timeout_.count()) + " ms"
                             : x.ec.message();
      return SendResult::failed("POST " + url_ + ": " + x.stage + " failed: " + what);
    }
    std::string status = "HTTP " + std::to_string(x.status) + " " + x.reason;
    if (!x.body.empty()) status += ": " + x.body;
    if (x.status >= 200 && x.status < 300) return SendResult::ok();
    if (x.status == 400 || x.status == 413 || x.status == 415)
      return SendResult::rejected("POST " + url_ + " answered " + status);
    return SendResult::failed("POST " + url_ + " answered " + status);
  }

  std::string url_;
  Target target_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<net::ssl::context> ssl_;
  net::io_context ioc_{1};
  tcp::resolver resolver_{ioc_};
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::atomic<bool> interrupted_{false};
};

Result<std::unique_ptr<net::ssl::context>> tls_context(const EndpointConfig& e) {
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  error_code ec;
  ctx->set_verify_mode(net::ssl::verify_peer, ec);
  if (!ec) {
    if (e.ca_file.empty())
      ctx->set_default_verify_paths(ec);
    else
      ctx->load_verify_file(e.ca_file, ec);
  }
  if (ec)
    return invalid_argument("endpoint '" + e.name + "': cannot load the CAs to trust" +
                            (e.ca_file.empty() ? std::string() : " from '" + e.ca_file + "'") +
                            " (" + ec.message() + "); give ca_file as a PEM file");
  return ctx;
}

}  // namespace

Result<std::unique_ptr<rules::EndpointSender>> make_webhook_sender(const EndpointConfig& endpoint) {
  auto target = parse_target(endpoint.url);
  if (!target) return target.status();
  std::unique_ptr<net::ssl::context> ssl;
  if (target->tls) {
    auto ctx = tls_context(endpoint);
    if (!ctx) return ctx.status();
    ssl = std::move(*ctx);
  }
  return std::unique_ptr<rules::EndpointSender>(
      std::make_unique<WebhookSender>(endpoint, std::move(*target), std::move(ssl)));
}

}  // namespace castor::api
