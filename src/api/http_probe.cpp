#include "api/http_probe.hpp"

#include <string>

namespace castor::api {

HttpProbe::HttpProbe(metrics::Registry& r)
    : requests(r.counter_family("castor_http_requests_total",
                                "HTTP requests by route template, method and status.",
                                {"route", "method", "status"})),
      duration(r.histogram_family("castor_http_request_duration_seconds",
                                  "Time from a complete request to its response being queued.",
                                  {"route", "method"})),
      in_flight(r.gauge("castor_http_requests_in_flight", "Requests being handled.")),
      connections_open(r.gauge("castor_http_connections_open", "Open client connections.")),
      connections(r.counter("castor_http_connections_total", "Accepted client connections.")),
      tls_failures(r.counter("castor_http_tls_handshake_failures_total",
                             "Connections closed because the TLS handshake failed.")),
      timeouts(r.counter("castor_http_timeouts_total",
                         "Connections closed because a header, body or write timeout expired.")),
      rejected_bodies(r.counter("castor_http_body_too_large_total",
                                "Requests refused with 413 because the body exceeded the limit.")),
      streams_open(r.gauge("castor_stream_connections_open", "Open WebSocket and SSE streams.")),
      stream_messages(r.counter("castor_stream_messages_sent_total",
                                "Messages written to WebSocket and SSE streams.")),
      slow_consumers(r.counter("castor_stream_slow_consumer_closes_total",
                               "Streams closed because their outbound queue was full.")) {}

std::size_t HttpProbe::KeyHash::operator()(const KeyView& k) const noexcept {
  return std::hash<std::string_view>{}(k.route) ^
         (static_cast<std::size_t>(k.status) * 31 + static_cast<std::size_t>(k.method)) *
             0x9E3779B97F4A7C15ULL;
}

HttpProbe::Series HttpProbe::series(std::string_view route, Method method, int status) {
  const KeyView probe{route, method, status};
  {
    std::shared_lock lock(series_mu_);
    if (auto it = series_.find(probe); it != series_.end()) return it->second;
  }
  std::string_view m = method_name(method);
  Series s{&requests.with({route, m, std::to_string(status)}), &duration.with({route, m})};
  std::unique_lock lock(series_mu_);
  return series_.try_emplace(Key{std::string(route), method, status}, s).first->second;
}

void HttpProbe::observe(std::string_view route, Method method, int status, double seconds) {
  Series s = series(route, method, status);
  s.requests->inc();
  s.duration->observe(seconds);
}

}  // namespace castor::api
