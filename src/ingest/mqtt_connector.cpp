// The only ingest file that includes Boost.Asio. Asio is used header-only here (no
// BOOST_ASIO_SEPARATE_COMPILATION): its functions are inline, so when the api layer's compiled
// Asio (beast_src.cpp) is linked into the same binary the linker keeps one copy and nothing
// clashes; the public header exposes no Asio type.
#include "ingest/mqtt_connector.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/json_patch.hpp"
#include "common/log.hpp"
#include "ingest/mqtt_codec.hpp"
#include "ingest/mqtt_mapping.hpp"
#include "ingest/mqtt_setpoints.hpp"

namespace castor::ingest {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

struct Url {
  bool tls = false;
  std::string host, port;
};

Result<Url> parse_url(std::string_view url) {
  Url u;
  std::string_view rest;
  if (url.starts_with("mqtts://")) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("mqtt://")) {
    rest = url.substr(7);
  } else {
    return invalid_argument("MQTT url '" + std::string(url) +
                            "' must start with mqtt:// or mqtts://");
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  bool bracketed = rest.starts_with('[');
  if (colon != std::string_view::npos && (!bracketed || rest[colon - 1] == ']')) {
    u.host = std::string(rest.substr(0, colon));
    u.port = std::string(rest.substr(colon + 1));
  } else {
    u.host = std::string(rest);
    u.port = u.tls ? "8883" : "1883";
  }
  if (bracketed && u.host.size() > 2) u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty() || u.port.empty() ||
      u.port.find_first_not_of("0123456789") != std::string::npos)
    return invalid_argument("MQTT url '" + std::string(url) + "' needs HOST or HOST:PORT");
  return u;
}

// One message received and not yet acknowledged, in receipt order.
struct Pending {
  std::uint64_t seq;
  std::uint16_t packet_id;  // 0 for QoS 0 (nothing to acknowledge)
  bool done;
};

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::uint64_t kSinkLimitPerMessage = 64;  // observations in flight per allowed message
constexpr auto kLogEvery = std::chrono::seconds(10);
constexpr std::size_t kMaxSetpointsOutstanding = 10000;  // unacknowledged set-point PUBLISHes
constexpr std::size_t kMaxLearnedTwins = 1000000;        // twins whose topic bindings are kept

}  // namespace

class MqttConnector::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(MqttConfig config, MessageMapper mapper, Url url, ObservationSink& sink)
      : config_(std::move(config)),
        mapper_(std::move(mapper)),
        url_(std::move(url)),
        sink_(sink),
        work_(io_.get_executor()),
        ssl_(asio::ssl::context::tls_client),
        resolver_(io_),
        retry_timer_(io_),
        keepalive_timer_(io_),
        poll_timer_(io_),
        backoff_(config_.reconnect_initial) {}

  Status init_tls() {
    if (!url_.tls) return Status::ok();
    error_code ec;
    if (config_.ca_file.empty())
      ssl_.set_default_verify_paths(ec);
    else
      ssl_.load_verify_file(config_.ca_file, ec);
    if (ec)
      return invalid_argument("mqtt '" + config_.name + "': cannot read ca_file '" +
                              config_.ca_file + "': " + ec.message());
    ssl_.set_verify_mode(asio::ssl::verify_peer);
    if (!config_.cert_file.empty()) {
      ssl_.use_certificate_chain_file(config_.cert_file, ec);
      if (ec)
        return invalid_argument("mqtt '" + config_.name + "': cannot read cert_file '" +
                                config_.cert_file + "': " + ec.message());
      ssl_.use_private_key_file(config_.key_file, asio::ssl::context::pem, ec);
      if (ec)
        return invalid_argument("mqtt '" + config_.name + "': cannot read key_file '" +
                                config_.key_file + "': " + ec.message());
    }
    return Status::ok();
  }

  void register_metrics(metrics::Registry* registry) {
    if (registry == nullptr) return;
    metrics::Labels labels{{"connection", config_.name}};
    auto counter = [&](std::string_view name, std::string_view help,
                       const std::atomic<std::uint64_t>& v) {
      handles_.push_back(registry->callback_counter(
          name, help, labels, [&v] { return static_cast<double>(v.load()); }));
    };
    counter("castor_mqtt_messages_total", "MQTT messages received.", messages_);
    counter("castor_mqtt_observations_total", "Observations from MQTT that became durable.",
            observations_);
    counter("castor_mqtt_invalid_messages_total",
            "MQTT messages whose topic or payload could not be mapped (acknowledged, dropped).",
            invalid_);
    counter("castor_mqtt_rejected_observations_total",
            "Observations from MQTT that the pipeline refused (e.g. unknown twin).", rejected_);
    counter("castor_mqtt_acks_total", "PUBACKs sent after the durable commit.", acked_);
    counter("castor_mqtt_reconnects_total", "Connection attempts after the first.", reconnects_);
    counter("castor_mqtt_backpressure_pauses_total",
            "Times the connector stopped reading because the pipeline was behind.", pauses_);
    auto gauge = [&](std::string_view name, std::string_view help,
                     const std::atomic<std::uint64_t>& v) {
      handles_.push_back(registry->callback_gauge(name, help, labels,
                                                  [&v] { return static_cast<double>(v.load()); }));
    };
    counter("castor_mqtt_setpoints_sent_total",
            "Set-points (users' writes of writable properties) published and acknowledged.",
            setpoints_acked_);
    counter("castor_mqtt_setpoints_unroutable_total",
            "Set-points not published: a placeholder of setpoint_topic was never bound for the twin.",
            setpoints_unroutable_);
    gauge("castor_mqtt_in_flight", "MQTT messages received and not yet acknowledged.", in_flight_);
    gauge("castor_mqtt_connected", "1 while the MQTT session is up.", connected_);
  }

  void start() {
    thread_ = std::thread([this] { io_.run(); });
    asio::post(io_, [this] { connect(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      stopped_ = true;
      retry_timer_.cancel();
      keepalive_timer_.cancel();
      poll_timer_.cancel();
      resolver_.cancel();
      if (!connected_) return finish();
      // Let the PUBACKs already queued reach the broker (else it redelivers those messages),
      // then say goodbye; give up after a grace period.
      std::string bye;
      mqtt::encode_disconnect(bye);
      send(std::move(bye));
      retry_timer_.expires_after(std::chrono::seconds(2));
      retry_timer_.async_wait([this](error_code) { finish(); });
    });
    thread_.join();
  }

  MqttConnectorStats stats() const {
    return {messages_.load(),         observations_.load(), invalid_.load(),
            rejected_.load(),         acked_.load(),        reconnects_.load(),
            connected_.load(),        setpoints_acked_.load(), setpoints_unroutable_.load()};
  }

  void set_setpoint_topic(TextTemplate t) { setpoint_ = std::move(t); }

  // On the committing thread: picks the set-points out of an event and hands them to the io
  // thread. Never blocks.
  void on_event(const twin::EventPtr& e, const model::ModelRegistry& models) {
    if (config_.setpoint_topic.empty()) return;
    auto points = setpoints_of(*e, models);
    if (points.empty()) return;
    asio::post(io_, [self = shared_from_this(), points = std::move(points)]() mutable {
      for (auto& p : points) self->publish_setpoint(std::move(p));
    });
  }

 private:
  template <class F>
  void with_stream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(*plain_);
  }

  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  // --- connection lifecycle ---

  void connect() {
    if (stopped_) return;
    if (attempts_++ > 0) ++reconnects_;
    auto gen = ++generation_;
    if (url_.tls)
      tls_.emplace(io_, ssl_);
    else
      plain_.emplace(io_);
    resolver_.async_resolve(
        url_.host, url_.port, [this, gen](error_code ec, tcp::resolver::results_type results) {
          if (gen != generation_ || stopped_) return;
          if (ec) return lost("cannot resolve " + url_.host + ": " + ec.message());
          asio::async_connect(socket(), results, [this, gen](error_code e, const tcp::endpoint&) {
            on_connected(gen, e);
          });
        });
  }

  void on_connected(std::uint64_t gen, error_code ec) {
    if (gen != generation_ || stopped_) return;
    if (ec) return lost("cannot connect to " + config_.url + ": " + ec.message());
    socket().set_option(tcp::no_delay(true), ec);
    if (!tls_) return send_connect();
    SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str());
    tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    tls_->async_handshake(asio::ssl::stream_base::client, [this, gen](error_code e) {
      if (gen != generation_ || stopped_) return;
      if (e) return lost("TLS handshake with " + config_.url + " failed: " + e.message());
      send_connect();
    });
  }

  void send_connect() {
    mqtt::ConnectOptions o;
    o.client_id = config_.client_id;
    o.username = config_.username;
    o.password = config_.password;
    o.keep_alive_s = static_cast<std::uint16_t>(config_.keep_alive.count());
    o.clean_session = false;  // the broker keeps unacknowledged messages across reconnects
    o.version = config_.protocol_version;
    if (o.version == 5) {
      o.session_expiry_s = 0xFFFFFFFF;  // MQTT 5 ends the session at disconnect unless told
      o.receive_maximum =
          static_cast<std::uint16_t>(std::min<std::uint64_t>(config_.max_in_flight, 65535));
    }
    std::string out;
    mqtt::encode_connect(out, o);
    send(std::move(out));
    last_rx_ = Clock::now();
    arm_keepalive(generation_);
    read();
  }

  void on_connack(const mqtt::Frame& frame) {
    auto ack = mqtt::decode_connack(frame, config_.protocol_version);
    if (!ack) return lost(ack.status().message());
    if (ack->return_code != 0) {
      return lost("broker refused the connection: " + mqtt::connack_reason(ack->return_code));
    }
    connected_ = 1;
    backoff_ = config_.reconnect_initial;
    std::string out;
    mqtt::encode_subscribe(out, 1, mapper_.filters(), config_.protocol_version);
    send(std::move(out));
    resend_setpoints();  // QoS 1: what the broker did not acknowledge goes again, marked DUP
    log::info("mqtt connected", {{"connection", config_.name},
                                 {"url", config_.url},
                                 {"session_present", ack->session_present}});
  }

  void on_suback(const mqtt::Frame& frame) {
    auto ack = mqtt::decode_suback(frame, config_.protocol_version);
    if (!ack) return lost(ack.status().message());
    auto filters = mapper_.filters();
    for (std::size_t i = 0; i < ack->granted.size() && i < filters.size(); ++i)
      if (ack->granted[i] >= 0x80)
        log::error("mqtt broker refused a subscription; check its access rules",
                   {{"connection", config_.name}, {"topic", filters[i].first}});
  }

  // The connection failed or broke: forget unacknowledged messages (the broker redelivers them
  // on the next session) and reconnect after the backoff.
  void lost(const std::string& why) {
    if (stopped_) return;
    log::warn("mqtt connection lost", {{"connection", config_.name},
                                       {"reason", why},
                                       {"retry_ms", static_cast<std::int64_t>(backoff_.count())}});
    close();
    ++generation_;
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, config_.reconnect_max);
    retry_timer_.async_wait([this](error_code ec) {
      if (!ec) connect();
    });
  }

  // Graceful close: half-close and read until the broker closes too. Closing with unread bytes
  // would send a TCP reset, and the broker could drop the PUBACKs it has not read yet.
  void linger() {
    error_code ec;
    socket().cancel(ec);  // the stopped read loop's pending read
    socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return finish();
    linger_buf_.resize(4096);
    linger_read();
  }

  void linger_read() {
    socket().async_read_some(asio::buffer(linger_buf_), [this](error_code e, std::size_t) {
      if (e) return finish();
      linger_read();
    });
  }

  void finish() {
    close();
    retry_timer_.cancel();
    work_.reset();
  }

  void close() {
    error_code ec;
    if (tls_) tls_->next_layer().close(ec);
    if (plain_) plain_->close(ec);
    keepalive_timer_.cancel();
    connected_ = 0;
    reading_ = writing_ = false;
    in_.clear();
    out_.clear();
    pending_.clear();
    in_flight_ = 0;
  }

  // --- set-points (io thread) ---

  void learn(const std::string& twin, const Bindings& bindings) {
    if (config_.setpoint_topic.empty() || twin.empty()) return;
    auto it = learned_.find(twin);
    if (it == learned_.end()) {
      if (learned_.size() >= kMaxLearnedTwins) return;
      it = learned_.emplace(twin, std::vector<std::pair<std::string, std::string>>{}).first;
    }
    auto& vars = it->second;
    if (vars.size() == bindings.size() &&
        std::equal(vars.begin(), vars.end(), bindings.begin(), [](const auto& a, const auto& b) {
          return a.first == b.first && a.second == b.second;
        }))
      return;
    vars.clear();
    for (const auto& [k, v] : bindings) vars.emplace_back(std::string(k), std::string(v));
  }

  void publish_setpoint(Setpoint p) {
    if (stopped_) return;
    bool has_component = config_.setpoint_topic.find("{component}") != std::string::npos;
    std::string name = !has_component && !p.component.empty() ? p.component + "/" + p.name : p.name;
    Bindings vars{{"twinId", p.twin}, {"name", name}, {"component", p.component}};
    if (auto it = learned_.find(p.twin); it != learned_.end())
      for (const auto& [k, v] : it->second) vars.emplace_back(k, v);
    std::string topic = setpoint_.expand(vars);
    if (topic.empty()) {
      ++setpoints_unroutable_;
      log::warn("mqtt set-point not published: setpoint_topic needs a placeholder that no "
                "message of this twin has bound yet",
                {{"connection", config_.name}, {"twin", p.twin}, {"property", name},
                 {"setpoint_topic", config_.setpoint_topic}});
      return;
    }
    if (outstanding_.size() >= kMaxSetpointsOutstanding) {
      ++setpoints_unroutable_;
      log::error("mqtt set-point not published: too many are waiting for the broker",
                 {{"connection", config_.name}, {"twin", p.twin}, {"property", name}});
      return;
    }
    std::uint16_t id = next_publish_id();
    auto& slot = outstanding_[id];
    slot = {std::move(topic), std::move(p.payload)};
    log::info("mqtt set-point", {{"connection", config_.name}, {"topic", slot.first},
                                 {"value", slot.second}});
    if (connected_) {
      std::string out;
      mqtt::encode_publish(out, slot.first, slot.second, 1, id);
      send(std::move(out));
    }  // else sent after the next CONNACK
  }

  std::uint16_t next_publish_id() {
    // Ids 1 and 2 are the SUBSCRIBE's; publishes use the rest, skipping those still in flight.
    do {
      publish_id_ = publish_id_ >= 65535 ? 3 : publish_id_ + 1;
    } while (outstanding_.count(publish_id_));
    return publish_id_;
  }

  void resend_setpoints() {
    std::string out;
    for (const auto& [id, msg] : outstanding_)
      mqtt::encode_publish(out, msg.first, msg.second, 1, id, true);
    if (!out.empty()) send(std::move(out));
  }

  void on_puback(const mqtt::Frame& frame) {
    if (frame.body.size() < 2) return lost("protocol error: PUBACK without a packet id");
    auto id = static_cast<std::uint16_t>((static_cast<std::uint8_t>(frame.body[0]) << 8) |
                                         static_cast<std::uint8_t>(frame.body[1]));
    if (outstanding_.erase(id)) ++setpoints_acked_;
  }

  // --- keep-alive ---

  std::chrono::milliseconds half_keep_alive() const {
    return std::chrono::milliseconds(config_.keep_alive) / 2;
  }

  void arm_keepalive(std::uint64_t gen) {
    keepalive_timer_.expires_after(half_keep_alive());
    keepalive_timer_.async_wait([this, gen](error_code ec) {
      if (ec || gen != generation_ || stopped_) return;
      auto now = Clock::now();
      if (now - last_tx_ >= half_keep_alive()) {
        std::string ping;
        mqtt::encode_pingreq(ping);
        send(std::move(ping));
      }
      // Silence only counts while reading: when paused for backpressure we read nothing.
      if (reading_ && now - last_rx_ > config_.keep_alive * 3 / 2)
        return lost("the broker sent nothing for 1.5 keep-alive intervals");
      arm_keepalive(gen);
    });
  }

  // --- writing ---

  void send(std::string bytes) {
    out_ += bytes;
    last_tx_ = Clock::now();
    if (!writing_) write();
  }

  void write() {
    if (out_.empty() || (!tls_ && !plain_)) return;
    writing_ = true;
    writing_buf_ = std::move(out_);
    out_.clear();
    auto gen = generation_;
    with_stream([&](auto& s) {
      asio::async_write(s, asio::buffer(writing_buf_), [this, gen](error_code ec, std::size_t) {
        if (gen != generation_) return;
        writing_ = false;
        if (stopped_ && (ec || out_.empty())) return ec ? finish() : linger();
        if (ec) return lost("write failed: " + ec.message());
        write();
      });
    });
  }

  // --- reading and backpressure ---

  bool sink_behind() const {
    return sink_.in_flight() > config_.max_in_flight * kSinkLimitPerMessage;
  }

  void read() {
    if (reading_ || stopped_) return;
    if (pending_.size() >= config_.max_in_flight || sink_behind()) {
      if (!paused_) ++pauses_;
      paused_ = true;
      if (sink_behind()) poll_later();  // the sink drains on its own; look again soon
      return;                           // else ack() resumes
    }
    if (paused_) last_rx_ = Clock::now();  // time spent paused is not broker silence
    paused_ = false;
    reading_ = true;
    auto gen = generation_;
    chunk_.resize(kReadChunk);
    with_stream([&](auto& s) {
      s.async_read_some(asio::buffer(chunk_), [this, gen](error_code ec, std::size_t n) {
        if (gen != generation_ || stopped_) return;
        reading_ = false;
        if (ec)
          return lost(ec == asio::error::eof ? "the broker closed the connection"
                                             : "read failed: " + ec.message());
        last_rx_ = Clock::now();
        in_.append(chunk_.data(), n);
        if (!consume()) return;
        read();
      });
    });
  }

  void poll_later() {
    auto gen = generation_;
    poll_timer_.expires_after(std::chrono::milliseconds(2));
    poll_timer_.async_wait([this, gen](error_code ec) {
      if (!ec && gen == generation_) read();
    });
  }

  // Handles every complete packet in `in_`; false when the connection was dropped.
  bool consume() {
    std::vector<Observation> batch;
    std::uint64_t first_seq = next_seq_;
    std::size_t used = 0;
    auto gen = generation_;
    // At max_in_flight the rest stays unparsed in `in_` until acknowledgements make room.
    while (pending_.size() < config_.max_in_flight) {
      auto frame = mqtt::next_frame(std::string_view(in_).substr(used), config_.max_packet);
      if (!frame) {
        lost("protocol error: " + frame.status().message());
        return false;
      }
      if (!*frame) break;
      used += (*frame)->size;
      handle(**frame, batch);
      if (gen != generation_) return false;
    }
    in_.erase(0, used);
    if (next_seq_ != first_seq) submit(std::move(batch), first_seq, next_seq_);
    return true;
  }

  void handle(const mqtt::Frame& frame, std::vector<Observation>& batch) {
    switch (frame.type) {
      case mqtt::PacketType::connack: return on_connack(frame);
      case mqtt::PacketType::suback: return on_suback(frame);
      case mqtt::PacketType::pingresp: return;
      case mqtt::PacketType::puback: return on_puback(frame);
      case mqtt::PacketType::publish: return on_publish(frame, batch);
      case mqtt::PacketType::disconnect:  // MQTT 5: the broker says why it closes
        return lost(
            "the broker disconnected, reason code " +
            std::to_string(frame.body.empty() ? 0 : static_cast<std::uint8_t>(frame.body[0])));
      default:
        return lost("unexpected MQTT packet type " + std::to_string(static_cast<int>(frame.type)));
    }
  }

  void on_publish(const mqtt::Frame& frame, std::vector<Observation>& batch) {
    auto p = mqtt::decode_publish(frame, config_.protocol_version);
    if (!p) return lost("protocol error: " + p.status().message());
    ++messages_;
    std::size_t before = batch.size();
    Bindings bindings;
    Status mapped = mapper_.map(p->topic, p->payload, batch,
                                config_.setpoint_topic.empty() ? nullptr : &bindings);
    if (mapped && batch.size() > before) learn(batch[before].twin, bindings);
    if (!mapped) {
      batch.resize(before);
      ++invalid_;
      log_invalid(p->topic, mapped.message());
    }
    // Invalid messages can never become valid: they are acknowledged, in order, like the rest.
    pending_.push_back({next_seq_++, p->qos > 0 ? p->packet_id : std::uint16_t{0}, !mapped});
    in_flight_ = pending_.size();
  }

  void log_invalid(std::string_view topic, const std::string& why) {
    auto now = Clock::now();
    if (now - last_invalid_log_ < kLogEvery) {
      ++suppressed_;
      return;
    }
    log::warn("mqtt message dropped: it cannot become observations",
              {{"connection", config_.name},
               {"topic", topic},
               {"reason", why},
               {"suppressed_since_last", suppressed_}});
    last_invalid_log_ = now;
    suppressed_ = 0;
  }

  // --- the sink and acknowledgements ---

  void submit(std::vector<Observation> batch, std::uint64_t first, std::uint64_t end) {
    auto gen = generation_;
    if (batch.empty()) {  // only invalid messages: acknowledge them after this read's handling
      asio::post(io_, [this, gen, first, end] {
        if (!stopped_ && gen == generation_) ack(first, end);
      });
      return;
    }
    std::weak_ptr<Impl> weak = shared_from_this();
    sink_.submit(
        std::move(batch), Partial::keep_valid, [weak, gen, first, end](IngestResult result) {
          auto self = weak.lock();
          if (!self) return;
          asio::post(self->io_,
                     [impl = self.get(), gen, first, end, r = std::move(result)]() mutable {
                       impl->on_done(gen, first, end, std::move(r));
                     });
        });
  }

  void on_done(std::uint64_t gen, std::uint64_t first, std::uint64_t end, IngestResult r) {
    if (stopped_ || gen != generation_) return;  // the broker redelivers on the next session
    bool durable = r.status.is_ok() || r.status.code() == Code::invalid_argument;
    if (!durable) {
      // Nothing was written (overload, shutdown, I/O error): do not acknowledge; reconnecting
      // makes the broker deliver the same messages again.
      return lost("the ingest pipeline did not commit: " + r.status.to_string());
    }
    observations_ += r.accepted;
    rejected_ += r.rejections.size();
    if (!r.rejections.empty())
      log_invalid("(batch)", r.rejections.front().code + ": " + r.rejections.front().message);
    ack(first, end);
  }

  void ack(std::uint64_t first, std::uint64_t end) {
    if (pending_.empty()) return;
    std::uint64_t base = pending_.front().seq;
    for (auto seq = std::max(first, base); seq < end && seq - base < pending_.size(); ++seq)
      pending_[seq - base].done = true;
    std::string out;
    while (!pending_.empty() && pending_.front().done) {
      if (pending_.front().packet_id != 0) {
        mqtt::encode_puback(out, pending_.front().packet_id);
        ++acked_;
      }
      pending_.pop_front();
    }
    in_flight_ = pending_.size();
    if (!out.empty()) send(std::move(out));
    if (consume()) read();  // messages already buffered first, then the socket
  }

  MqttConfig config_;
  MessageMapper mapper_;
  TextTemplate setpoint_;  // config_.setpoint_topic, compiled
  Url url_;
  ObservationSink& sink_;

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::ssl::context ssl_;
  tcp::resolver resolver_;
  asio::steady_timer retry_timer_, keepalive_timer_, poll_timer_;
  std::optional<tcp::socket> plain_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
  std::thread thread_;

  // Owned by the io thread.
  std::uint64_t generation_ = 0, attempts_ = 0;
  bool stopped_ = false;
  bool reading_ = false, writing_ = false, paused_ = false;
  std::string in_, out_, writing_buf_;
  std::vector<char> chunk_, linger_buf_;
  std::deque<Pending> pending_;
  std::uint64_t next_seq_ = 1;
  std::chrono::milliseconds backoff_;
  Clock::time_point last_rx_{}, last_tx_{}, last_invalid_log_{};
  std::uint64_t suppressed_ = 0;
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> learned_;
  std::map<std::uint16_t, std::pair<std::string, std::string>> outstanding_;  // id -> topic, payload
  std::uint16_t publish_id_ = 2;

  // Read by stats() and /metrics from other threads.
  std::atomic<std::uint64_t> messages_{0}, observations_{0}, invalid_{0}, rejected_{0}, acked_{0},
      reconnects_{0}, pauses_{0}, in_flight_{0}, connected_{0}, setpoints_acked_{0},
      setpoints_unroutable_{0};
  std::vector<metrics::CallbackHandle> handles_;
};

Result<std::unique_ptr<MqttConnector>> MqttConnector::create(const MqttConfig& config,
                                                             ObservationSink& sink,
                                                             metrics::Registry* metrics,
                                                             twin::EventBus* events,
                                                             const model::ModelRegistry* models) {
  auto where = "mqtt '" + config.name + "'";
  auto url = parse_url(config.url);
  if (!url) return invalid_argument(where + ": " + url.status().message());
  auto mapper = MessageMapper::compile(config.subscriptions);
  if (!mapper) return invalid_argument(where + " " + mapper.status().message());
  for (const auto& [filter, qos] : mapper->filters())
    if (!mqtt::valid_topic_filter(filter))
      return invalid_argument(where + ": topic filter '" + filter + "' is not valid MQTT.");
  auto impl = std::make_shared<Impl>(config, std::move(*mapper), std::move(*url), sink);
  auto setpoint = TextTemplate::parse(config.setpoint_topic, "setpoint_topic");
  if (!setpoint) return invalid_argument(where + ": " + setpoint.status().message());
  impl->set_setpoint_topic(std::move(*setpoint));
  CASTOR_RETURN_IF_ERROR(impl->init_tls());
  impl->register_metrics(metrics);
  auto connector = std::unique_ptr<MqttConnector>(new MqttConnector(std::move(impl)));
  if (events && models && !config.setpoint_topic.empty()) {
    connector->events_ = events;
    std::weak_ptr<Impl> weak = connector->impl_;
    connector->subscription_ = events->subscribe([weak, models](const twin::EventPtr& e) {
      if (auto self = weak.lock()) self->on_event(e, *models);
    });
  }
  return connector;
}

MqttConnector::MqttConnector(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
MqttConnector::~MqttConnector() {
  if (events_) events_->unsubscribe(subscription_);
  stop();
}
void MqttConnector::start() {
  impl_->start();
}
void MqttConnector::stop() {
  impl_->stop();
}
MqttConnectorStats MqttConnector::stats() const {
  return impl_->stats();
}

}  // namespace castor::ingest
