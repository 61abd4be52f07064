// The [[mqtt]] tables of the config file: which brokers Castor subscribes to and how topics and
// payloads become observations. Plain data plus the TOML reader; never opens a connection and
// never interprets a payload (src/ingest does both).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace castor {

// How one JSON member of a payload becomes an observation (a [mqtt.subscriptions.fields.X]
// table). value = raw * scale + offset converts units (e.g. scale = 0.001 for mV -> V).
struct MqttFieldMapping {
  std::string name;     // name: observation name; default the member's name
  double scale = 1;     // scale: multiplies numbers
  double offset = 0;    // offset: added after scaling
  bool ignore = false;  // ignore: drop this member (e.g. a sequence number)
};

// One [[mqtt.subscriptions]] table.
struct MqttSubscriptionConfig {
  // topic: a topic template; "{x}" as a whole level binds that level ("+" on the broker), a
  // trailing "#" binds nothing. Example: "plant/{line}/{twinId}/telemetry".
  std::string topic;
  std::string twin = "{twinId}";  // twin: template of the $dtId, e.g. "robot-{robot}"
  std::string component;          // component: template of the component name; "" = none
  // payload: "object" (each member of a JSON object is one observation) or "value" (the
  // payload is one value, named by `name`).
  std::string payload = "object";
  std::string name = "{name}";  // name (payload = "value"): template of the name
  std::string timestamp_field;  // timestamp_field (payload = "object"): member with the time
  std::string timestamp_unit = "auto";  // timestamp_unit: auto, rfc3339, s, ms, us, ns
  bool only_mapped = false;             // only_mapped: members without a fields entry are ignored
  std::map<std::string, MqttFieldMapping> fields;  // fields: per-member mapping
  std::uint8_t qos = 1;                            // qos: 0 or 1 (PUBACK after the durable commit)
};

// One [[mqtt]] table: one broker connection.
struct MqttConfig {
  std::string name;  // name: label in logs and metrics
  std::string url;   // url: mqtt://HOST:PORT (default port 1883) or mqtts://HOST:PORT (8883)
  // protocol: "3.1.1" (default) or "5" (the session then lives 2^32-1 s after a disconnect and
  // the broker is told max_in_flight as its Receive Maximum).
  std::uint8_t protocol_version = 4;
  std::string client_id;  // client_id: stable, so the broker keeps the session; default castor-NAME
  std::string username;   // username: optional
  std::string password;   // password: optional; needs a username
  std::string ca_file;    // ca_file (mqtts): PEM CAs to trust instead of the system's
  std::string cert_file;  // cert_file (mqtts): client certificate (PEM) for mutual TLS
  std::string key_file;   // key_file (mqtts): its private key (PEM)
  std::chrono::seconds keep_alive{30};               // keep_alive: PINGREQ interval
  std::chrono::milliseconds reconnect_initial{500};  // reconnect_initial: first backoff
  std::chrono::milliseconds reconnect_max{30000};    // reconnect_max: longest backoff
  // max_in_flight: messages received and not yet acknowledged; at the limit the connector
  // stops reading the socket. Default 1000; the broker's own inflight window also caps this.
  std::uint64_t max_in_flight = 1000;
  std::uint64_t max_packet = 1u << 20;  // max_packet: larger packets close the connection
  std::vector<MqttSubscriptionConfig> subscriptions;
  // setpoint_topic: where a user's write of a writable property (an API PATCH, not a device's
  // own report) is published, QoS 1, payload the JSON value. Placeholders: {twinId}, {name},
  // {component}, and any placeholder of a subscription template, as last bound by a message of
  // that twin. Example: "plant/{line}/{twinId}/set/{name}". "" = not forwarded.
  std::string setpoint_topic;
};

}  // namespace castor
