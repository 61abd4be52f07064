// A test-only server: the real ApiServer with routes that exercise what `castor serve` cannot yet
// (no engine is attached): WebSocket and SSE streams, a flood that overflows a stream's queue, and
// a slow asynchronous handler for graceful shutdown. Takes serve's options as --key value.
#include <chrono>
#include <iostream>
#include <thread>

#include "api/api_server.hpp"
#include "common/config.hpp"
#include "common/log.hpp"

namespace {

using namespace castor;

class Echo final : public api::StreamListener {
 public:
  explicit Echo(std::shared_ptr<api::StreamSink> sink) : sink_(std::move(sink)) {}
  void on_message(std::string_view text) override { sink_->send("echo:" + std::string(text)); }

 private:
  std::shared_ptr<api::StreamSink> sink_;
};

void register_test_routes(api::Router& router) {
  router.add_stream(
      {.method = api::Method::get, .path = "/test/stream", .access = api::Access::viewer},
      [](const api::HttpRequest& req, std::shared_ptr<api::StreamSink> sink) {
        sink->send("hello " + req.principal->name);
        for (int i = 1; i <= 3; ++i) sink->send("{\"n\":" + std::to_string(i) + "}");
        return std::make_shared<Echo>(sink);
      });
  router.add_stream(
      {.method = api::Method::get, .path = "/test/flood", .access = api::Access::viewer},
      [](const api::HttpRequest&, std::shared_ptr<api::StreamSink> sink) {
        // Runs on the connection's strand, so nothing drains meanwhile.
        int sent = 0;
        while (sent < 100000 && sink->send(std::string(100, 'x'))) ++sent;
        std::cerr << "flood: queue full after " << sent << " messages\n";
        return nullptr;
      });
  router.add({.method = api::Method::get, .path = "/test/slow", .access = api::Access::viewer},
             [](api::HttpRequest req, api::Responder respond) {
               int ms = std::stoi(std::string(req.query_param("ms").value_or("1000")));
               std::thread([respond, ms] {
                 std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                 respond(api::HttpResponse::json(200, "{\"slow\":true}"));
               }).detach();
             });
}

}  // namespace

int main(int argc, char** argv) {
  ConfigSources sources;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) continue;
    std::string key = arg.substr(2);
    for (char& c : key) c = c == '-' ? '_' : c;
    bool boolean = false;
    for (const auto& o : config_options()) boolean |= o.key == key && o.kind == OptionKind::boolean;
    sources.flags[key] = boolean || i + 1 >= argc ? "true" : argv[++i];
  }
  auto config = load_config(sources);
  if (!config) {
    std::cerr << config.status().message() << "\n";
    return 2;
  }
  log::init({log::Level::info, log::Format::logfmt});
  metrics::Registry registry;
  api::ApiServer server(*config, registry, "test");
  register_test_routes(server.router());
  server.stop_on_signals();
  if (Status s = server.start(); !s) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  std::cout << "Castor listening on " << server.url() << std::endl;
  server.wait();
  return 0;
}
