// MqttConnector: one connection to an MQTT 3.1.1 broker (plain TCP or TLS) that subscribes to
// the configured topics, maps each message to observations and submits them to the ingest
// pipeline. A QoS 1 message is acknowledged (PUBACK, in order) only after the sink says its
// observations are durable; it never drops a message silently and never blocks the sink.
#pragma once

#include <cstdint>
#include <memory>

#include "common/metrics.hpp"
#include "common/mqtt_config.hpp"
#include "common/status.hpp"
#include "ingest/observation.hpp"
#include "model/registry.hpp"
#include "twin/events.hpp"

namespace castor::ingest {

struct MqttConnectorStats {
  std::uint64_t messages = 0;      // PUBLISH packets received
  std::uint64_t observations = 0;  // observations the sink accepted
  std::uint64_t invalid = 0;       // messages whose payload or topic could not be mapped
  std::uint64_t rejected = 0;      // observations the sink refused (e.g. unknown twin)
  std::uint64_t acknowledged = 0;  // PUBACKs sent
  std::uint64_t reconnects = 0;    // connection attempts after the first
  std::uint64_t connected = 0;     // 1 while a session is up
  std::uint64_t setpoints_sent = 0;         // set-point PUBLISHes the broker acknowledged
  std::uint64_t setpoints_unroutable = 0;   // set-points whose topic placeholders were unknown
};

class MqttConnector {
 public:
  // Validates the templates; starts connecting in the background on start(). `sink` and
  // `metrics` (may be null) must outlive the connector.
  // With `events` and `models` (and a setpoint_topic in the config), users' writes of writable
  // properties are published to the devices; both must outlive the connector.
  static Result<std::unique_ptr<MqttConnector>> create(const MqttConfig& config,
                                                       ObservationSink& sink,
                                                       metrics::Registry* metrics,
                                                       twin::EventBus* events = nullptr,
                                                       const model::ModelRegistry* models = nullptr);
  ~MqttConnector();
  MqttConnector(const MqttConnector&) = delete;
  MqttConnector& operator=(const MqttConnector&) = delete;

  void start();
  // Closes the connection without acknowledging what is not durable yet; idempotent.
  void stop();
  MqttConnectorStats stats() const;

 private:
  class Impl;
  explicit MqttConnector(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
  twin::EventBus* events_ = nullptr;
  twin::EventBus::Id subscription_ = 0;
};

}  // namespace castor::ingest
