// The MQTT endpoint: publishes each CloudEvent (structured JSON) to the endpoint's topic with
// QoS 1 over Eclipse Paho and waits for the broker's PUBACK. Reconnects lazily on the next send;
// never retries by itself (delivery does) and never blocks longer than the endpoint's timeout.
#pragma once

#include <memory>

#include "common/config.hpp"
#include "common/status.hpp"
#include "rules/endpoint_sender.hpp"

namespace castor::rules {

Result<std::unique_ptr<EndpointSender>> make_mqtt_sender(const EndpointConfig& endpoint);

}  // namespace castor::rules
