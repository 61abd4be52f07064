#include "ingest/mqtt_mapping.hpp"

#include <cctype>
#include <cmath>
#include <limits>

#include "common/json.hpp"

namespace castor::ingest {
namespace {

std::vector<std::string_view> split_levels(std::string_view topic) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto end = topic.find('/', start);
    out.push_back(topic.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool valid_placeholder(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

std::string_view lookup(const Bindings& b, std::string_view name) {
  for (const auto& [k, v] : b)
    if (k == name) return v;
  return {};
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

// --- TopicTemplate ---

Result<TopicTemplate> TopicTemplate::parse(std::string_view text) {
  TopicTemplate t;
  auto levels = split_levels(text);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    auto level = levels[i];
    auto where = "topic template '" + std::string(text) + "' level " + std::to_string(i + 1);
    if (level == "#") {
      if (i + 1 != levels.size()) return invalid_argument(where + ": '#' must be the last level.");
      t.levels_.push_back({"", Level::multi});
      t.filter_ += "#";
    } else if (level == "+") {
      t.levels_.push_back({"", Level::single});
      t.filter_ += "+";
    } else if (level.starts_with('{') && level.ends_with('}')) {
      auto name = level.substr(1, level.size() - 2);
      if (!valid_placeholder(name))
        return invalid_argument(where + ": placeholder '" + std::string(level) +
                                "' needs a name of letters, digits, '_' or '-'.");
      if (t.binds(name))
        return invalid_argument(where + ": placeholder {" + std::string(name) + "} appears twice.");
      t.levels_.push_back({std::string(name), Level::placeholder});
      t.filter_ += "+";
    } else if (level.find_first_of("{}+#") != std::string_view::npos) {
      return invalid_argument(
          where + ": '" + std::string(level) +
          "' mixes text with {, }, + or #; a placeholder must be a whole level.");
    } else {
      t.levels_.push_back({std::string(level), Level::literal});
      t.filter_ += level;
    }
    if (i + 1 != levels.size()) t.filter_ += '/';
  }
  return t;
}

bool TopicTemplate::binds(std::string_view placeholder) const {
  for (const auto& l : levels_)
    if (l.kind == Level::placeholder && l.text == placeholder) return true;
  return false;
}

bool TopicTemplate::match(std::string_view topic, Bindings& out) const {
  out.clear();
  std::size_t start = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const auto& l = levels_[i];
    if (l.kind == Level::multi) return true;
    if (start > topic.size()) return false;  // the topic has fewer levels
    auto end = topic.find('/', start);
    auto level = topic.substr(start, end == std::string_view::npos ? end : end - start);
    if (l.kind == Level::literal && level != l.text) return false;
    if (l.kind == Level::placeholder) out.emplace_back(l.text, level);
    start = end == std::string_view::npos ? topic.size() + 1 : end + 1;
  }
  return start > topic.size();  // no levels left over
}

// --- TextTemplate ---

Result<TextTemplate> TextTemplate::parse(std::string_view text, const TopicTemplate& topic,
                                         std::string_view what) {
  auto t = parse(text, what);
  if (!t) return t;
  for (const auto& [name, placeholder] : t->parts_)
    if (placeholder && !topic.binds(name))
      return invalid_argument(std::string(what) + " '" + std::string(text) + "' uses {" + name +
                              "}, which the topic template '" + topic.filter() +
                              "' does not bind; add {" + name + "} as a level of the topic.");
  return t;
}

Result<TextTemplate> TextTemplate::parse(std::string_view text, std::string_view what) {
  TextTemplate t;
  std::size_t at = 0;
  while (at < text.size()) {
    auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      t.parts_.emplace_back(std::string(text.substr(at)), false);
      break;
    }
    if (open > at) t.parts_.emplace_back(std::string(text.substr(at, open - at)), false);
    auto close = text.find('}', open);
    if (close == std::string_view::npos)
      return invalid_argument(std::string(what) + " '" + std::string(text) + "': '{' without '}'.");
    t.parts_.emplace_back(std::string(text.substr(open + 1, close - open - 1)), true);
    at = close + 1;
  }
  return t;
}

std::string TextTemplate::expand(const Bindings& bindings) const {
  std::string out;
  for (const auto& [text, placeholder] : parts_) {
    if (!placeholder) {
      out += text;
      continue;
    }
    auto v = lookup(bindings, text);
    if (v.empty()) return {};
    out += v;
  }
  return out;
}

// --- timestamps ---

Result<std::int64_t> parse_rfc3339(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  bool ok = digits(s, 0, 4, y) && s.size() > 19 && s[4] == '-' && digits(s, 5, 2, mo) &&
            s[7] == '-' && digits(s, 8, 2, d) && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') &&
            digits(s, 11, 2, h) && s[13] == ':' && digits(s, 14, 2, mi) && s[16] == ':' &&
            digits(s, 17, 2, sec);
  auto bad = invalid_argument("timestamp '" + std::string(s) +
                              "' is not RFC 3339 (e.g. 2024-05-01T12:00:00.5Z)");
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return bad;
  std::size_t at = 19;
  std::int64_t frac_ns = 0;
  if (at < s.size() && s[at] == '.') {
    std::int64_t scale = 100000000;
    ++at;
    std::size_t first = at;
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at, scale /= 10)
      frac_ns += (s[at] - '0') * scale;
    if (at == first) return bad;
  }
  std::int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z')) {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !digits(s, at + 4, 2, om))
      return bad;
    offset_s = (oh * 3600 + om * 60) * (s[at] == '+' ? 1 : -1);
    at += 6;
  } else {
    return bad;  // RFC 3339 requires an offset
  }
  if (at != s.size()) return bad;
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  return secs * 1000000000 + frac_ns;
}

Result<std::int64_t> parse_timestamp(const json::value& v, std::string_view unit) {
  if (v.is_string()) {
    if (unit != "auto" && unit != "rfc3339")
      return invalid_argument("timestamp is text but timestamp_unit is " + std::string(unit));
    return parse_rfc3339(json::sv(v.as_string()));
  }
  double n = 0;
  if (!json::as_double(v, n) || unit == "rfc3339")
    return invalid_argument("timestamp must be RFC 3339 text or a number, not " +
                            std::string(json::kind_name(v)));
  if (!std::isfinite(n) || n < 0) return invalid_argument("timestamp must be a positive number");
  std::int64_t mult = 1;
  if (unit == "s" || (unit == "auto" && n < 1e11))
    mult = 1000000000;
  else if (unit == "ms" || (unit == "auto" && n < 1e14))
    mult = 1000000;
  else if (unit == "us" || (unit == "auto" && n < 1e17))
    mult = 1000;
  if (n * static_cast<double>(mult) >= 9.2e18)
    return invalid_argument("timestamp is too large for nanoseconds since 1970");
  long long whole = 0;
  if (json::as_int64(v, whole)) return static_cast<std::int64_t>(whole) * mult;  // exact
  return static_cast<std::int64_t>(std::llround(n * static_cast<double>(mult)));
}

// --- SubscriptionMapping ---

Result<SubscriptionMapping> SubscriptionMapping::compile(const MqttSubscriptionConfig& config) {
  SubscriptionMapping m;
  m.config_ = config;
  auto topic = TopicTemplate::parse(config.topic);
  if (!topic) return topic.status();
  m.topic_ = std::move(*topic);
  auto twin = TextTemplate::parse(config.twin, m.topic_, "twin template");
  if (!twin) return twin.status();
  m.twin_ = std::move(*twin);
  auto component = TextTemplate::parse(config.component, m.topic_, "component template");
  if (!component) return component.status();
  m.component_ = std::move(*component);
  if (config.payload == "value") {
    auto name = TextTemplate::parse(config.name, m.topic_, "name template");
    if (!name) return name.status();
    m.name_ = std::move(*name);
  }
  return m;
}

namespace {

json::value scaled(const json::value& v, const MqttFieldMapping* f) {
  double d = 0;
  if (f == nullptr || (f->scale == 1 && f->offset == 0) || !json::as_double(v, d)) return v;
  return json::value(d * f->scale + f->offset);
}

}  // namespace

Status SubscriptionMapping::map(const Bindings& bindings, std::string_view payload,
                                std::vector<Observation>& out) const {
  Observation base;
  base.twin = twin_.expand(bindings);
  if (base.twin.empty()) return invalid_argument("the topic gives an empty twin id");
  base.component = component_.expand(bindings);
  if (!component_.empty() && base.component.empty())
    return invalid_argument("the topic gives an empty component name");
  auto parsed = json::parse(payload);
  if (!parsed) return invalid_argument("payload is not JSON: " + parsed.status().message());
  if (config_.payload == "value") {
    base.name = name_.expand(bindings);
    if (base.name.empty()) return invalid_argument("the topic gives an empty observation name");
    auto it = config_.fields.find(base.name);
    const MqttFieldMapping* f = it == config_.fields.end() ? nullptr : &it->second;
    if (f != nullptr) base.name = f->name;
    base.value = scaled(*parsed, f);
    out.push_back(std::move(base));
    return Status::ok();
  }
  if (!parsed->is_object())
    return invalid_argument("payload must be a JSON object, not " +
                            std::string(json::kind_name(*parsed)));
  return map_object(parsed->as_object(), base, out);
}

Status SubscriptionMapping::map_object(json::object& object, const Observation& base,
                                       std::vector<Observation>& out) const {
  Observation proto = base;
  if (!config_.timestamp_field.empty()) {
    auto* ts = object.if_contains(config_.timestamp_field);
    if (ts == nullptr)
      return invalid_argument("payload has no timestamp member '" + config_.timestamp_field + "'");
    auto ns = parse_timestamp(*ts, config_.timestamp_unit);
    if (!ns) return ns.status();
    proto.ts_ns = *ns;
  }
  std::size_t first = out.size();
  for (auto& [key, value] : object) {
    std::string_view member = json::sv(key);
    if (member == config_.timestamp_field) continue;
    auto it = config_.fields.find(std::string(member));
    const MqttFieldMapping* f = it == config_.fields.end() ? nullptr : &it->second;
    if ((f == nullptr && config_.only_mapped) || (f != nullptr && f->ignore)) continue;
    Observation o = proto;
    o.name = f != nullptr ? f->name : std::string(member);
    o.value = scaled(value, f);
    out.push_back(std::move(o));
  }
  if (out.size() == first) return invalid_argument("payload has no member that maps to a name");
  return Status::ok();
}

// --- MessageMapper ---

Result<MessageMapper> MessageMapper::compile(const std::vector<MqttSubscriptionConfig>& subs) {
  MessageMapper m;
  for (std::size_t i = 0; i < subs.size(); ++i) {
    auto s = SubscriptionMapping::compile(subs[i]);
    if (!s)
      return invalid_argument("subscription #" + std::to_string(i + 1) + ": " +
                              s.status().message());
    m.subscriptions_.push_back(std::move(*s));
  }
  return m;
}

std::vector<std::pair<std::string, std::uint8_t>> MessageMapper::filters() const {
  std::vector<std::pair<std::string, std::uint8_t>> out;
  for (const auto& s : subscriptions_) out.emplace_back(s.filter(), s.qos());
  return out;
}

Status MessageMapper::map(std::string_view topic, std::string_view payload,
                          std::vector<Observation>& out, Bindings* matched) const {
  Bindings bindings;
  for (const auto& s : subscriptions_) {
    if (!s.matches(topic, bindings)) continue;
    Status st = s.map(bindings, payload, out);
    if (matched) *matched = std::move(bindings);
    return st;
  }
  return invalid_argument("no subscription template matches the topic");
}

}  // namespace castor::ingest
