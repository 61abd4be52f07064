// The real transport in-process on a loopback port, driven by a raw socket client, so that
// session lifetimes (keep-alive, pipelining, late async responses, shutdown) run under ASan. Every
// test runs over plain HTTP and over TLS (the client then speaks OpenSSL on the same socket).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "api/certificates.hpp"
#include "api/http_server.hpp"
#include "common/log.hpp"
#include "test_dir.hpp"

namespace castor::api {
namespace {

class Client {
 public:
  Client(std::uint16_t port, bool tls) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (connected_ && tls) {
      ctx_ = SSL_CTX_new(TLS_client_method());  // the transport is under test, not the CA
      ssl_ = SSL_new(ctx_);
      SSL_set_fd(ssl_, fd_);
      connected_ = SSL_connect(ssl_) == 1;
    }
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }
  void send(std::string_view data) {
    if (ssl_ != nullptr) {
      ASSERT_EQ(SSL_write(ssl_, data.data(), static_cast<int>(data.size())), int(data.size()));
      return;
    }
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL), ssize_t(data.size()));
  }
  // Reads until `n` responses (by Content-Length) arrived or the peer closed.
  std::string read_responses(int n) {
    std::string data;
    while (count(data) < n) {
      char buf[4096];
      ssize_t got = receive(buf, sizeof buf);
      if (got <= 0) break;
      data.append(buf, static_cast<std::size_t>(got));
    }
    return data;
  }
  bool closed_by_peer() {
    char c;
    return receive(&c, 1) == 0;
  }

 private:
  // > 0: bytes; 0: the peer closed (TLS: close_notify or the end of the stream); < 0: error.
  ssize_t receive(char* buf, std::size_t size) {
    if (ssl_ == nullptr) return ::recv(fd_, buf, size, 0);
    const int got = SSL_read(ssl_, buf, static_cast<int>(size));
    if (got > 0) return got;
    const int err = SSL_get_error(ssl_, got);
    return err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0) ? 0 : -1;
  }

  static int count(const std::string& data) {
    int n = 0;
    std::size_t pos = 0;
    while ((pos = data.find("\r\n\r\n", pos)) != std::string::npos) {
      ++n;
      pos += 4;
    }
    return n;
  }
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
};

class HttpServerTest : public ::testing::TestWithParam<bool> {
 protected:
  bool tls() const { return GetParam(); }

  void SetUp() override {
    log::init({log::Level::warn});
    router.add(
        {.method = Method::get, .path = "/hello", .access = Access::anyone},
        sync_handler([](const HttpRequest&) { return HttpResponse::json(200, "{\"hi\":1}"); }));
    router.add({.method = Method::post, .path = "/echo", .access = Access::anyone},
               sync_handler([](const HttpRequest& r) {
                 return HttpResponse::json(200, "[" + std::to_string(r.body.size()) + "]" + r.body);
               }));
    router.add({.method = Method::post, .path = "/late", .access = Access::anyone},
               [](HttpRequest, Responder respond) {
                 std::thread([respond] {
                   std::this_thread::sleep_for(std::chrono::milliseconds(200));
                   respond(HttpResponse::empty(204));
                 }).detach();
               });
    audit = AuditLog::open_or_throw(dir.path() / "audit.log", registry);
    auth = std::make_unique<Authenticator>(nullptr);
    probe = std::make_unique<HttpProbe>(registry);
    dispatcher =
        std::make_unique<Dispatcher>(router, *auth, *audit, *probe, DispatcherOptions{false});
    ServerOptions options;
    options.port = 0;
    options.tls = tls();
    if (tls()) {
      auto files = ensure_certificates(dir.path() / "tls", default_certificate_request());
      ASSERT_TRUE(files.is_ok()) << files.status().message();
      options.cert_file = files->cert.string();
      options.key_file = files->key.string();
    }
    options.max_body_size = 100;
    options.shutdown_timeout = std::chrono::milliseconds(2000);
    server = std::make_unique<HttpServer>(options, *dispatcher, *probe);
    ASSERT_TRUE(server->start().is_ok());
  }
  void TearDown() override {
    server->stop();
    server->wait();
  }

  castor::testing::TempDir dir;
  metrics::Registry registry;
  Router router;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<HttpProbe> probe;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<HttpServer> server;
};

TEST_P(HttpServerTest, KeepAliveAndPipelinedRequestsShareOneConnection) {
  Client c(server->port(), tls());
  ASSERT_TRUE(c.connected());
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(c.read_responses(1).find("{\"hi\":1}"), std::string::npos);
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string two = c.read_responses(2);
  EXPECT_NE(two.find("HTTP/1.1 200"), std::string::npos) << two;
  EXPECT_NE(two.find("HTTP/1.1 404"), std::string::npos) << two;
  EXPECT_EQ(probe->connections.value(), 1u);
}

TEST_P(HttpServerTest, HeadHasLengthButNoBody) {
  Client c(server->port(), tls());
  c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string data = c.read_responses(2);
  EXPECT_NE(data.find("Content-Length: 8\r\n\r\nHTTP/1.1 200"), std::string::npos) << data;
}

TEST_P(HttpServerTest, OversizedBodyGets413AndTheConnectionCloses) {
  Client c(server->port(), tls());
  c.send("POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  std::string data = c.read_responses(1);
  EXPECT_TRUE(data.starts_with("HTTP/1.1 413")) << data;
  EXPECT_NE(data.find("PayloadTooLarge"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer());
}

// A body that came with its head is parsed at once; one that is split, chunked, or followed by
// a pipelined request must arrive whole and exact all the same; a chunked body over the limit
// is refused.
TEST_P(HttpServerTest, BodiesArriveWholeHoweverTheyAreCut) {
  Client c(server->port(), tls());
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(c.read_responses(1).find("[5]hello"), std::string::npos);
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhel");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  c.send("lo world");  // 3 + 7 bytes; the 11th byte belongs to nobody and must not be read
  std::string split = c.read_responses(1);
  EXPECT_NE(split.find("[10]hello worl"), std::string::npos) << split;
  c.send("\r\n");  // ends the stray "d" line: a malformed next request, answered 400
  EXPECT_NE(c.read_responses(1).find("HTTP/1.1 400"), std::string::npos);

  Client d(server->port(), tls());
  d.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  d.send("2\r\nde\r\n0\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  std::string two = d.read_responses(2);
  EXPECT_NE(two.find("[5]abcde"), std::string::npos) << two;
  EXPECT_NE(two.find("[2]ok"), std::string::npos) << two;

  Client e(server->port(), tls());
  e.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "80\r\n" + std::string(128, 'x') + "\r\n0\r\n\r\n");
  std::string big = e.read_responses(1);
  EXPECT_TRUE(big.starts_with("HTTP/1.1 413")) << big;
}

TEST_P(HttpServerTest, MalformedRequestsGet400) {
  Client c(server->port(), tls());
  c.send("BLAH\r\n\r\n");
  EXPECT_TRUE(c.read_responses(1).starts_with("HTTP/1.1 400"));
  Client d(server->port(), tls());
  d.send("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(d.read_responses(1).starts_with("HTTP/1.1 400"));
}

TEST_P(HttpServerTest, LateResponseAfterTheClientLeftIsHarmless) {
  {
    Client c(server->port(), tls());
    c.send("POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  }  // closed before the handler answers
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  Client again(server->port(), tls());
  again.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(again.read_responses(1).starts_with("HTTP/1.1 200"));
}

TEST_P(HttpServerTest, StopFinishesInFlightRequestsAndClosesIdleOnes) {
  Client idle(server->port(), tls());
  idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  idle.read_responses(1);
  Client busy(server->port(), tls());
  busy.send("POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  server->stop();
  std::string reply = busy.read_responses(1);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 204")) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(idle.closed_by_peer());
  server->wait();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

INSTANTIATE_TEST_SUITE_P(Transports, HttpServerTest, ::testing::Values(false, true),
                         [](const auto& param_info) { return param_info.param ? "Tls" : "Plain"; });

}  // namespace
}  // namespace castor::api
