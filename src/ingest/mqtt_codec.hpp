// The MQTT 3.1.1 and 5 wire format as Castor's subscriber needs it: CONNECT, SUBSCRIBE, PUBACK,
// PINGREQ and DISCONNECT out; CONNACK, SUBACK, PUBLISH and PINGRESP in (plus PUBLISH out for
// tests and benchmarks). Pure functions over bytes: never sockets, timers or threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace castor::ingest::mqtt {

enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  subscribe = 8,
  suback = 9,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

struct ConnectOptions {
  std::string client_id;
  std::string username;  // empty: none
  std::string password;  // empty: none (only sent with a username)
  std::uint16_t keep_alive_s = 30;
  bool clean_session = false;  // false: the broker keeps the session and redelivers unacked
  std::uint8_t version = 4;    // 4 = MQTT 3.1.1, 5 = MQTT 5
  // MQTT 5 only: how many unacknowledged QoS 1 messages the broker may send (0 = no property),
  // and how long the broker keeps the session after a disconnect, in seconds.
  std::uint16_t receive_maximum = 0;
  std::uint32_t session_expiry_s = 0;
};

// Encoders append one complete packet to `out`.
void encode_connect(std::string& out, const ConnectOptions& options);
void encode_subscribe(std::string& out, std::uint16_t packet_id,
                      const std::vector<std::pair<std::string, std::uint8_t>>& filters,
                      std::uint8_t version = 4);
void encode_puback(std::string& out, std::uint16_t packet_id);
void encode_pingreq(std::string& out);
void encode_disconnect(std::string& out);
void encode_publish(std::string& out, std::string_view topic, std::string_view payload,
                    std::uint8_t qos, std::uint16_t packet_id, bool dup = false);

// One complete packet found at the start of a buffer; `body` points into that buffer.
struct Frame {
  PacketType type;
  std::uint8_t flags = 0;  // the low four bits of the fixed header
  std::string_view body;   // variable header and payload
  std::size_t size = 0;    // bytes the whole packet occupies in the buffer
};

// The first packet of `buffer`: nullopt while incomplete; an error when the fixed header is
// malformed or the packet is larger than `max_packet` (the connection must then be closed).
Result<std::optional<Frame>> next_frame(std::string_view buffer, std::size_t max_packet);

struct ConnAck {
  bool session_present = false;
  std::uint8_t return_code = 0;  // 0 = accepted
};
Result<ConnAck> decode_connack(const Frame& frame, std::uint8_t version = 4);
// A sentence for a CONNACK refusal: 3.1.1 return codes 1..5, MQTT 5 reason codes >= 0x80.
std::string connack_reason(std::uint8_t return_code);

struct SubAck {
  std::uint16_t packet_id = 0;
  std::vector<std::uint8_t> granted;  // granted QoS per filter, >= 0x80 = refused
};
Result<SubAck> decode_suback(const Frame& frame, std::uint8_t version = 4);

struct Publish {
  std::string_view topic;
  std::string_view payload;
  std::uint8_t qos = 0;
  std::uint16_t packet_id = 0;  // QoS > 0 only
  bool dup = false;
  bool retain = false;
};
Result<Publish> decode_publish(const Frame& frame, std::uint8_t version = 4);  // skips properties

// Whether a topic filter is valid for SUBSCRIBE (wildcards only as whole levels, # last).
bool valid_topic_filter(std::string_view filter);

}  // namespace castor::ingest::mqtt
