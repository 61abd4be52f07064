#include "ingest/mqtt_codec.hpp"

namespace castor::ingest::mqtt {
namespace {

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_str(std::string& out, std::string_view s) {
  put_u16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

void put_varint(std::string& out, std::size_t v) {
  do {
    auto byte = static_cast<std::uint8_t>(v % 128);
    v /= 128;
    if (v > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (v > 0);
}

// Fixed header: type and flags, then the remaining length as a variable byte integer.
void put_header(std::string& out, PacketType type, std::uint8_t flags, std::size_t remaining) {
  out.push_back(static_cast<char>((static_cast<std::uint8_t>(type) << 4) | flags));
  put_varint(out, remaining);
}

std::size_t varint_size(std::size_t v) {
  std::size_t n = 1;
  while (v >= 128) {
    v /= 128;
    ++n;
  }
  return n;
}

// Skips an MQTT 5 property block at `at`; false when it runs past the end.
bool skip_properties(std::string_view body, std::size_t& at) {
  std::size_t len = 0, mult = 1;
  for (int i = 0;; ++i) {
    if (i == 4 || at >= body.size()) return false;
    auto byte = static_cast<std::uint8_t>(body[at++]);
    len += (byte & 0x7f) * mult;
    mult *= 128;
    if ((byte & 0x80) == 0) break;
  }
  if (body.size() - at < len) return false;
  at += len;
  return true;
}

std::uint16_t get_u16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(s[at]) << 8) |
                                    static_cast<std::uint8_t>(s[at + 1]));
}

}  // namespace

void encode_connect(std::string& out, const ConnectOptions& o) {
  bool user = !o.username.empty();
  bool pass = user && !o.password.empty();
  std::string props;  // MQTT 5 only
  if (o.version == 5) {
    if (o.session_expiry_s != 0) {
      props.push_back(0x11);
      put_u16(props, static_cast<std::uint16_t>(o.session_expiry_s >> 16));
      put_u16(props, static_cast<std::uint16_t>(o.session_expiry_s & 0xffff));
    }
    if (o.receive_maximum != 0) {
      props.push_back(0x21);
      put_u16(props, o.receive_maximum);
    }
  }
  std::size_t remaining = 10 + 2 + o.client_id.size();
  if (o.version == 5) remaining += varint_size(props.size()) + props.size();
  if (user) remaining += 2 + o.username.size();
  if (pass) remaining += 2 + o.password.size();
  put_header(out, PacketType::connect, 0, remaining);
  put_str(out, "MQTT");
  out.push_back(static_cast<char>(o.version));
  std::uint8_t flags = o.clean_session ? 0x02 : 0;
  if (user) flags |= 0x80;
  if (pass) flags |= 0x40;
  out.push_back(static_cast<char>(flags));
  put_u16(out, o.keep_alive_s);
  if (o.version == 5) {
    put_varint(out, props.size());
    out += props;
  }
  put_str(out, o.client_id);
  if (user) put_str(out, o.username);
  if (pass) put_str(out, o.password);
}

void encode_subscribe(std::string& out, std::uint16_t packet_id,
                      const std::vector<std::pair<std::string, std::uint8_t>>& filters,
                      std::uint8_t version) {
  std::size_t remaining = version == 5 ? 3 : 2;
  for (const auto& f : filters) remaining += 2 + f.first.size() + 1;
  put_header(out, PacketType::subscribe, 0x02, remaining);
  put_u16(out, packet_id);
  if (version == 5) out.push_back(0);  // no properties
  for (const auto& [filter, qos] : filters) {
    put_str(out, filter);
    out.push_back(static_cast<char>(qos));
  }
}

void encode_puback(std::string& out, std::uint16_t packet_id) {
  put_header(out, PacketType::puback, 0, 2);
  put_u16(out, packet_id);
}

void encode_pingreq(std::string& out) {
  put_header(out, PacketType::pingreq, 0, 0);
}

void encode_disconnect(std::string& out) {
  put_header(out, PacketType::disconnect, 0, 0);
}

void encode_publish(std::string& out, std::string_view topic, std::string_view payload,
                    std::uint8_t qos, std::uint16_t packet_id, bool dup) {
  std::size_t remaining = 2 + topic.size() + (qos > 0 ? 2 : 0) + payload.size();
  std::uint8_t flags = static_cast<std::uint8_t>((qos << 1) | (dup ? 0x08 : 0));
  put_header(out, PacketType::publish, flags, remaining);
  put_str(out, topic);
  if (qos > 0) put_u16(out, packet_id);
  out.append(payload);
}

Result<std::optional<Frame>> next_frame(std::string_view buffer, std::size_t max_packet) {
  if (buffer.size() < 2) return std::optional<Frame>{};
  std::size_t remaining = 0, multiplier = 1, at = 1;
  for (;; ++at) {
    if (at > 4) return invalid_argument("MQTT packet with a malformed remaining length");
    if (at >= buffer.size()) return std::optional<Frame>{};
    auto byte = static_cast<std::uint8_t>(buffer[at]);
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) == 0) break;
  }
  std::size_t header = at + 1;
  if (remaining > max_packet)
    return invalid_argument("MQTT packet of " + std::to_string(remaining) +
                            " bytes is larger than the limit of " + std::to_string(max_packet));
  if (buffer.size() < header + remaining) return std::optional<Frame>{};
  auto first = static_cast<std::uint8_t>(buffer[0]);
  auto type = static_cast<std::uint8_t>(first >> 4);
  if (type == 0 || type == 15) return invalid_argument("MQTT packet of reserved type");
  return std::optional<Frame>{Frame{static_cast<PacketType>(type),
                                    static_cast<std::uint8_t>(first & 0x0f),
                                    buffer.substr(header, remaining), header + remaining}};
}

Result<ConnAck> decode_connack(const Frame& f, std::uint8_t version) {
  if (f.type != PacketType::connack || f.body.size() < 2 || (version != 5 && f.body.size() != 2))
    return invalid_argument("malformed CONNACK");
  return ConnAck{(static_cast<std::uint8_t>(f.body[0]) & 0x01) != 0,
                 static_cast<std::uint8_t>(f.body[1])};
}

std::string connack_reason(std::uint8_t code) {
  switch (code) {
    case 0: return "accepted";
    case 1: return "the broker does not support MQTT 3.1.1";
    case 2: return "the broker refused the client id; set another client_id";
    case 3: return "the MQTT service is unavailable";
    case 4: return "bad user name or password; check username and password";
    case 5: return "not authorized; check the broker's access rules for this user";
    case 0x84: return "the broker does not support this MQTT version; set protocol = \"3.1.1\"";
    case 0x85: return "the broker refused the client id; set another client_id";
    case 0x86: return "bad user name or password; check username and password";
    case 0x87: return "not authorized; check the broker's access rules for this user";
    case 0x88: return "the MQTT service is unavailable";
    case 0x8A: return "this client is banned by the broker";
    default: return "refused with reason code " + std::to_string(code);
  }
}

Result<SubAck> decode_suback(const Frame& f, std::uint8_t version) {
  if (f.type != PacketType::suback || f.body.size() < 3)
    return invalid_argument("malformed SUBACK");
  SubAck ack;
  ack.packet_id = get_u16(f.body, 0);
  std::size_t at = 2;
  if (version == 5 && !skip_properties(f.body, at)) return invalid_argument("malformed SUBACK");
  for (std::size_t i = at; i < f.body.size(); ++i)
    ack.granted.push_back(static_cast<std::uint8_t>(f.body[i]));
  return ack;
}

Result<Publish> decode_publish(const Frame& f, std::uint8_t version) {
  if (f.type != PacketType::publish) return invalid_argument("not a PUBLISH");
  Publish p;
  p.qos = static_cast<std::uint8_t>((f.flags >> 1) & 0x03);
  p.dup = (f.flags & 0x08) != 0;
  p.retain = (f.flags & 0x01) != 0;
  if (p.qos == 3) return invalid_argument("PUBLISH with QoS 3");
  if (f.body.size() < 2) return invalid_argument("PUBLISH without a topic");
  std::size_t len = get_u16(f.body, 0);
  std::size_t at = 2 + len;
  if (f.body.size() < at + (p.qos > 0 ? 2 : 0)) return invalid_argument("truncated PUBLISH");
  p.topic = f.body.substr(2, len);
  if (p.qos > 0) {
    p.packet_id = get_u16(f.body, at);
    if (p.packet_id == 0) return invalid_argument("PUBLISH with packet id 0");
    at += 2;
  }
  if (version == 5 && !skip_properties(f.body, at))
    return invalid_argument("PUBLISH with malformed properties");
  p.payload = f.body.substr(at);
  return p;
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > 65535) return false;
  std::size_t start = 0;
  for (;;) {
    auto end = filter.find('/', start);
    auto level = filter.substr(start, end == std::string_view::npos ? end : end - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    if (level == "#" && end != std::string_view::npos) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

}  // namespace castor::ingest::mqtt
