#include "rules/mqtt_sender.hpp"

#include <mqtt/async_client.h>

#include <atomic>

namespace castor::rules {
namespace {

class MqttSender final : public EndpointSender {
 public:
  MqttSender(const EndpointConfig& e, std::unique_ptr<mqtt::async_client> client)
      : broker_(e.broker), topic_(e.topic), timeout_(e.timeout), client_(std::move(client)) {
    auto b = mqtt::connect_options_builder()
                 .clean_session(true)
                 .mqtt_version(MQTTVERSION_3_1_1)
                 .keep_alive_interval(std::chrono::seconds(30))
                 .connect_timeout(std::chrono::duration_cast<std::chrono::seconds>(timeout_) +
                                  std::chrono::seconds(1));
    if (!e.username.empty()) b.user_name(e.username);
    if (!e.password.empty()) b.password(e.password);
    if (e.broker.starts_with("ssl://")) {
      auto ssl = mqtt::ssl_options_builder().enable_server_cert_auth(true).verify(true);
      if (!e.ca_file.empty()) ssl.trust_store(e.ca_file);
      b.ssl(ssl.finalize());
    }
    options_ = b.finalize();
  }

  ~MqttSender() override {
    try {
      if (client_->is_connected()) client_->disconnect()->wait_for(std::chrono::seconds(1));
    } catch (const std::exception&) {
      // Shutting down: the broker will notice the closed connection.
    }
  }

  SendResult send(std::string_view event) override {
    if (interrupted_) return SendResult::failed("delivery is stopping");
    try {
      if (!client_->is_connected()) {
        if (!client_->connect(options_)->wait_for(timeout_))
          return SendResult::failed("MQTT broker " + broker_ +
                                    " did not accept the connection within " +
                                    std::to_string(timeout_.count()) + " ms");
      }
      auto message = mqtt::make_message(topic_, event.data(), event.size(), 1, false);
      if (!client_->publish(message)->wait_for(timeout_))
        return SendResult::failed("MQTT broker " + broker_ + " sent no PUBACK within " +
                                  std::to_string(timeout_.count()) + " ms");
      return SendResult::ok();
    } catch (const std::exception& ex) {
      return SendResult::failed("MQTT broker " + broker_ + ": " + ex.what());
    }
  }

  void interrupt() override {
    interrupted_ = true;
    try {
      client_->disconnect(0);
    } catch (const std::exception&) {
      // Not connected: nothing to interrupt.
    }
  }

 private:
  std::string broker_, topic_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<mqtt::async_client> client_;
  mqtt::connect_options options_;
  std::atomic<bool> interrupted_{false};
};

}  // namespace

Result<std::unique_ptr<EndpointSender>> make_mqtt_sender(const EndpointConfig& endpoint) {
  try {
    auto client = std::make_unique<mqtt::async_client>(endpoint.broker, endpoint.client_id,
                                                       mqtt::create_options(MQTTVERSION_3_1_1));
    return std::unique_ptr<EndpointSender>(
        std::make_unique<MqttSender>(endpoint, std::move(client)));
  } catch (const std::exception& ex) {
    return invalid_argument("the MQTT client for broker '" + endpoint.broker +
                            "' cannot be created (" + ex.what() +
                            "); check broker (tcp://HOST:PORT or ssl://HOST:PORT) and client_id");
  }
}

}  // namespace castor::rules
