// EndpointSender: how one configured endpoint (webhook, MQTT) takes an event. Implementations
// live where their network library does (webhook: api, over Beast; MQTT: rules, over Paho);
// delivery (endpoint_channel) only sees this interface. A sender never retries by itself.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/status.hpp"

namespace castor::rules {

struct SendResult {
  enum class Kind : unsigned char {
    delivered,  // acknowledged (HTTP 2xx, MQTT PUBACK)
    retry,      // may work later (connection refused, timeout, HTTP 5xx/408/429)
    reject,     // will never work (HTTP 400, 413, 415): dead-letter at once
  };
  Kind kind = Kind::retry;
  std::string reason;  // for logs and the dead-letter file, e.g. "HTTP 503 Service Unavailable"

  static SendResult ok() { return {Kind::delivered, ""}; }
  static SendResult failed(std::string why) { return {Kind::retry, std::move(why)}; }
  static SendResult rejected(std::string why) { return {Kind::reject, std::move(why)}; }
};

class EndpointSender {
 public:
  virtual ~EndpointSender() = default;
  // Sends one CloudEvent (structured-mode JSON) and waits for the acknowledgement, at most the
  // endpoint's timeout. Called from one delivery thread at a time.
  virtual SendResult send(std::string_view cloud_event_json) = 0;
  // Makes a send in progress return soon (shutdown). Thread-safe; may be a no-op.
  virtual void interrupt() {}
};

using SenderFactory =
    std::function<Result<std::unique_ptr<EndpointSender>>(const EndpointConfig& endpoint)>;

}  // namespace castor::rules
