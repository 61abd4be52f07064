#include <algorithm>
#include <cctype>

#include "common/config.hpp"
#include "common/mqtt_config_toml.hpp"

namespace castor {
namespace {

using std::chrono::milliseconds;

Status type_error(const std::string& src, std::string_view expected) {
  return invalid_argument(src + ": expected " + std::string(expected) + "; fix the value's type.");
}

Status read_string(std::string& out, const toml::node& node, const std::string& src) {
  auto s = node.as_string();
  if (!s) return type_error(src, "a string in quotes");
  out = s->get();
  return Status::ok();
}

Status read_bool(bool& out, const toml::node& node, const std::string& src) {
  auto b = node.as_boolean();
  if (!b) return type_error(src, "true or false");
  out = b->get();
  return Status::ok();
}

Status read_number(double& out, const toml::node& node, const std::string& src) {
  if (auto i = node.as_integer()) {
    out = static_cast<double>(i->get());
  } else if (auto f = node.as_floating_point()) {
    out = f->get();
  } else {
    return type_error(src, "a number");
  }
  return Status::ok();
}

Status read_count(std::uint64_t& out, const toml::node& node, const std::string& src,
                  std::uint64_t min, std::uint64_t max) {
  auto i = node.as_integer();
  if (!i || i->get() < static_cast<std::int64_t>(min) || static_cast<std::uint64_t>(i->get()) > max)
    return invalid_argument(src + ": expected a whole number from " + std::to_string(min) + " to " +
                            std::to_string(max) + ".");
  out = static_cast<std::uint64_t>(i->get());
  return Status::ok();
}

Status read_millis(milliseconds& out, const toml::node& node, const std::string& src) {
  std::string text;
  if (auto i = node.as_integer(); i && i->get() >= 0) {
    text = std::to_string(i->get());
  } else if (auto s = node.as_string()) {
    text = s->get();
  } else {
    return type_error(src, "a duration such as \"30s\"");
  }
  auto d = parse_duration(text);
  if (!d) return invalid_argument(src + ": " + d.status().message() + ".");
  if (d->count() == 0) return invalid_argument(src + ": must be longer than 0ms.");
  out = *d;
  return Status::ok();
}

Status unknown_key(const std::string& src) {
  return invalid_argument(src + " is unknown; remove it or fix its spelling (see docs/mqtt.md).");
}

Status read_field(MqttFieldMapping& f, const toml::node& node, const std::string& src) {
  if (auto s = node.as_string()) {  // fields.temp_c = "temperature" is a plain rename
    f.name = s->get();
    return Status::ok();
  }
  const auto* table = node.as_table();
  if (table == nullptr)
    return type_error(src, "a name in quotes or a table { name = ..., scale = ... }");
  for (const auto& [key, value] : *table) {
    std::string_view k = key.str();
    std::string at = src + " key '" + std::string(k) + "'";
    if (k == "name")
      CASTOR_RETURN_IF_ERROR(read_string(f.name, value, at));
    else if (k == "scale")
      CASTOR_RETURN_IF_ERROR(read_number(f.scale, value, at));
    else if (k == "offset")
      CASTOR_RETURN_IF_ERROR(read_number(f.offset, value, at));
    else if (k == "ignore")
      CASTOR_RETURN_IF_ERROR(read_bool(f.ignore, value, at));
    else
      return unknown_key(at);
  }
  return Status::ok();
}

Status read_fields(MqttSubscriptionConfig& s, const toml::node& node, const std::string& src) {
  const auto* table = node.as_table();
  if (table == nullptr) return type_error(src, "a table of payload members");
  for (const auto& [key, value] : *table) {
    MqttFieldMapping f;
    std::string member(key.str());
    CASTOR_RETURN_IF_ERROR(read_field(f, value, src + " member '" + member + "'"));
    if (f.name.empty()) f.name = member;
    s.fields.emplace(std::move(member), std::move(f));
  }
  return Status::ok();
}

Status read_qos(std::uint8_t& out, const toml::node& node, const std::string& src) {
  std::uint64_t q = 0;
  CASTOR_RETURN_IF_ERROR(read_count(q, node, src, 0, 1));
  out = static_cast<std::uint8_t>(q);
  return Status::ok();
}

Status check_subscription(const MqttSubscriptionConfig& s, const std::string& where) {
  auto bad = [&](const std::string& why) { return invalid_argument(where + ": " + why); };
  if (s.topic.empty())
    return bad("give a topic template, e.g. topic = \"plant/{line}/{twinId}/telemetry\".");
  if (s.payload != "object" && s.payload != "value")
    return bad("payload must be \"object\" or \"value\".");
  static constexpr std::string_view kUnits[] = {"auto", "rfc3339", "s", "ms", "us", "ns"};
  if (std::find(std::begin(kUnits), std::end(kUnits), s.timestamp_unit) == std::end(kUnits))
    return bad("timestamp_unit must be auto, rfc3339, s, ms, us or ns.");
  if (s.payload == "value" && !s.timestamp_field.empty())
    return bad("timestamp_field needs payload = \"object\" (a bare value has no members).");
  if (s.twin.empty()) return bad("twin must not be empty; it names the twin, e.g. \"{twinId}\".");
  return Status::ok();
}

Status read_subscription_key(MqttSubscriptionConfig& s, std::string_view k, const toml::node& v,
                             const std::string& at) {
  if (k == "topic") return read_string(s.topic, v, at);
  if (k == "twin") return read_string(s.twin, v, at);
  if (k == "component") return read_string(s.component, v, at);
  if (k == "payload") return read_string(s.payload, v, at);
  if (k == "name") return read_string(s.name, v, at);
  if (k == "timestamp_field") return read_string(s.timestamp_field, v, at);
  if (k == "timestamp_unit") return read_string(s.timestamp_unit, v, at);
  if (k == "only_mapped") return read_bool(s.only_mapped, v, at);
  if (k == "fields") return read_fields(s, v, at);
  if (k == "qos") return read_qos(s.qos, v, at);
  return unknown_key(at);
}

Result<std::vector<MqttSubscriptionConfig>> read_subscriptions(const toml::node& node,
                                                               const std::string& src) {
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables())
    return invalid_argument(src + ": write each subscription as an [[mqtt.subscriptions]] table.");
  std::vector<MqttSubscriptionConfig> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::string where = src + " #" + std::to_string(i + 1);
    MqttSubscriptionConfig s;
    for (const auto& [key, value] : *array->get(i)->as_table()) {
      std::string_view k = key.str();
      CASTOR_RETURN_IF_ERROR(
          read_subscription_key(s, k, value, where + " key '" + std::string(k) + "'"));
    }
    CASTOR_RETURN_IF_ERROR(check_subscription(s, where));
    out.push_back(std::move(s));
  }
  return out;
}

Status read_connection_key(MqttConfig& c, std::string_view k, const toml::node& v,
                           const std::string& at) {
  if (k == "name") return read_string(c.name, v, at);
  if (k == "url") return read_string(c.url, v, at);
  if (k == "client_id") return read_string(c.client_id, v, at);
  if (k == "protocol") {
    std::string text;
    CASTOR_RETURN_IF_ERROR(read_string(text, v, at));
    if (text != "3.1.1" && text != "5")
      return invalid_argument(at + ": must be \"3.1.1\" or \"5\".");
    c.protocol_version = text == "5" ? 5 : 4;
    return Status::ok();
  }
  if (k == "username") return read_string(c.username, v, at);
  if (k == "password") return read_string(c.password, v, at);
  if (k == "ca_file") return read_string(c.ca_file, v, at);
  if (k == "cert_file") return read_string(c.cert_file, v, at);
  if (k == "key_file") return read_string(c.key_file, v, at);
  if (k == "reconnect_initial") return read_millis(c.reconnect_initial, v, at);
  if (k == "reconnect_max") return read_millis(c.reconnect_max, v, at);
  if (k == "max_in_flight") return read_count(c.max_in_flight, v, at, 1, 65535);
  if (k == "setpoint_topic") {
    CASTOR_RETURN_IF_ERROR(read_string(c.setpoint_topic, v, at));
    if (!c.setpoint_topic.empty() &&
        (c.setpoint_topic.find_first_of("+#") != std::string::npos ||
         c.setpoint_topic.find("{name}") == std::string::npos))
      return invalid_argument(at + ": '" + c.setpoint_topic +
                              "' must name the property with {name} and hold no + or # "
                              "(e.g. \"plant/{line}/{twinId}/set/{name}\").");
    return Status::ok();
  }
  if (k == "max_packet") return read_count(c.max_packet, v, at, 1024, 256u << 20);
  if (k == "keep_alive") {
    milliseconds ms{};
    CASTOR_RETURN_IF_ERROR(read_millis(ms, v, at));
    if (ms < std::chrono::seconds(1) || ms > std::chrono::seconds(65535))
      return invalid_argument(at + ": must be from 1s to 65535s.");
    c.keep_alive = std::chrono::duration_cast<std::chrono::seconds>(ms);
    return Status::ok();
  }
  if (k == "subscriptions") {
    auto subs = read_subscriptions(v, at);
    if (!subs) return subs.status();
    c.subscriptions = std::move(*subs);
    return Status::ok();
  }
  return unknown_key(at);
}

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64 || !std::isalnum(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  });
}

Status check_connection(const MqttConfig& c, const std::string& where) {
  auto bad = [&](const std::string& why) { return invalid_argument(where + ": " + why); };
  if (!valid_name(c.name))
    return bad("name '" + c.name + "' must be 1-64 letters, digits, '-', '_' or '.'.");
  if (!c.url.starts_with("mqtt://") && !c.url.starts_with("mqtts://"))
    return bad("url '" + c.url + "' must look like mqtt://HOST:PORT or mqtts://HOST:PORT.");
  bool tls = c.url.starts_with("mqtts://");
  if (!tls && (!c.ca_file.empty() || !c.cert_file.empty() || !c.key_file.empty()))
    return bad("ca_file, cert_file and key_file need an mqtts:// url.");
  if (c.cert_file.empty() != c.key_file.empty())
    return bad("cert_file and key_file go together (mutual TLS); give both or neither.");
  if (!c.password.empty() && c.username.empty()) return bad("password needs a username.");
  if (c.client_id.empty() || c.client_id.size() > 65535) return bad("client_id must not be empty.");
  if (c.reconnect_max < c.reconnect_initial)
    return bad("reconnect_max must not be shorter than reconnect_initial.");
  if (c.subscriptions.empty())
    return bad("give at least one [[mqtt.subscriptions]] table (what to subscribe to).");
  return Status::ok();
}

}  // namespace

Result<std::vector<MqttConfig>> read_mqtt_tables(const toml::node& node, const std::string& path) {
  std::string src = "config file '" + path + "' key 'mqtt'";
  const auto* array = node.as_array();
  if (array == nullptr || !array->is_array_of_tables())
    return invalid_argument(src + ": write each broker connection as an [[mqtt]] table.");
  std::vector<MqttConfig> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    std::string where = "config file '" + path + "' [[mqtt]] #" + std::to_string(i + 1);
    MqttConfig c;
    for (const auto& [key, value] : *array->get(i)->as_table()) {
      std::string_view k = key.str();
      CASTOR_RETURN_IF_ERROR(
          read_connection_key(c, k, value, where + " key '" + std::string(k) + "'"));
    }
    if (c.client_id.empty()) c.client_id = "castor-" + c.name;
    CASTOR_RETURN_IF_ERROR(check_connection(c, where));
    for (const auto& other : out)
      if (other.name == c.name)
        return invalid_argument(where + ": another [[mqtt]] table is already named '" + c.name +
                                "'; names must be unique.");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace castor
