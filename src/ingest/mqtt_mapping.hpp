// How an MQTT message becomes observations: topic templates that bind twin ids and names
// ("plant/{line}/{twinId}/telemetry"), and payload mappings (JSON members -> names, unit
// scaling, a timestamp member). Pure and thread-safe once compiled; never does I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mqtt_config.hpp"
#include "common/status.hpp"
#include "ingest/observation.hpp"

namespace castor::ingest {

// Placeholder name -> the topic level it matched; views into the template and the topic.
using Bindings = std::vector<std::pair<std::string_view, std::string_view>>;

// A topic template: literal levels, "{x}" levels that bind, "+" levels that bind nothing and a
// trailing "#".
class TopicTemplate {
 public:
  static Result<TopicTemplate> parse(std::string_view text);
  const std::string& filter() const noexcept { return filter_; }  // e.g. "plant/+/+/telemetry"
  bool binds(std::string_view placeholder) const;
  // Fills `out` and returns true when `topic` matches.
  bool match(std::string_view topic, Bindings& out) const;

 private:
  struct Level {
    std::string text;  // literal, or the placeholder's name
    enum Kind : std::uint8_t { literal, placeholder, single, multi } kind;
  };
  std::vector<Level> levels_;
  std::string filter_;
};

// A text with "{x}" placeholders ("robot-{robot}"), expanded from a topic's bindings.
class TextTemplate {
 public:
  // Every placeholder must be bound by `topic`; `what` names the key in errors.
  static Result<TextTemplate> parse(std::string_view text, const TopicTemplate& topic,
                                    std::string_view what);
  // Without a topic: placeholders are checked only when expanded (e.g. a set-point topic whose
  // values come from several places).
  static Result<TextTemplate> parse(std::string_view text, std::string_view what);
  // The expansion; empty when a bound level is empty.
  std::string expand(const Bindings& bindings) const;
  bool empty() const noexcept { return parts_.empty(); }

 private:
  std::vector<std::pair<std::string, bool>> parts_;  // (text, is placeholder)
};

// Parses a time: RFC 3339 text, or a number of s/ms/us/ns since the epoch ("auto" guesses the
// unit from the magnitude: < 1e11 s, < 1e14 ms, < 1e17 us, else ns).
Result<std::int64_t> parse_timestamp(const json::value& v, std::string_view unit);
Result<std::int64_t> parse_rfc3339(std::string_view text);

// One compiled [[mqtt.subscriptions]] table.
class SubscriptionMapping {
 public:
  static Result<SubscriptionMapping> compile(const MqttSubscriptionConfig& config);
  const std::string& filter() const noexcept { return topic_.filter(); }
  std::uint8_t qos() const noexcept { return config_.qos; }
  bool matches(std::string_view topic, Bindings& bindings) const {
    return topic_.match(topic, bindings);
  }
  // Appends the observations of one message whose topic matched (`bindings`). An invalid
  // payload is an error with a sentence and nothing is appended.
  Status map(const Bindings& bindings, std::string_view payload,
             std::vector<Observation>& out) const;

 private:
  Status map_object(json::object& object, const Observation& base,
                    std::vector<Observation>& out) const;

  MqttSubscriptionConfig config_;
  TopicTemplate topic_;
  TextTemplate twin_, component_, name_;
};

// Every subscription of one connection; a message goes to the first whose template matches.
class MessageMapper {
 public:
  static Result<MessageMapper> compile(const std::vector<MqttSubscriptionConfig>& subscriptions);
  // (filter, QoS) per subscription, for SUBSCRIBE.
  std::vector<std::pair<std::string, std::uint8_t>> filters() const;
  // `matched`, when given, receives the bindings of the subscription that took the message.
  Status map(std::string_view topic, std::string_view payload, std::vector<Observation>& out,
             Bindings* matched = nullptr) const;

 private:
  std::vector<SubscriptionMapping> subscriptions_;
};

}  // namespace castor::ingest
