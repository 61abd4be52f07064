// The API layer's metrics (Redpanda-style probe): request counts by route, method and status,
// latency histograms, connections, timeouts and streams. Route labels are templates, never raw
// paths, so twin ids cannot blow up the number of series.
#pragma once

#include <cstddef>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/http.hpp"
#include "common/metrics.hpp"

namespace castor::api {

struct HttpProbe {
  explicit HttpProbe(metrics::Registry& registry);

  // One finished request; `route` is the matched template or "unmatched".
  void observe(std::string_view route, Method method, int status, double seconds);

  metrics::CounterFamily& requests;    // castor_http_requests_total{route,method,status}
  metrics::HistogramFamily& duration;  // castor_http_request_duration_seconds{route,method}
  metrics::Gauge& in_flight;           // castor_http_requests_in_flight
  metrics::Gauge& connections_open;    // castor_http_connections_open
  metrics::Counter& connections;       // castor_http_connections_total
  metrics::Counter& tls_failures;      // castor_http_tls_handshake_failures_total
  metrics::Counter& timeouts;          // castor_http_timeouts_total
  metrics::Counter& rejected_bodies;   // castor_http_body_too_large_total
  metrics::Gauge& streams_open;        // castor_stream_connections_open
  metrics::Counter& stream_messages;   // castor_stream_messages_sent_total
  metrics::Counter& slow_consumers;    // castor_stream_slow_consumer_closes_total

 private:
  // The children of `requests` and `duration` per (route, method, status), looked up without
  // building label vectors on every request; a handful of entries per route.
  struct Series {
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };
  struct Key {
    std::string route;
    Method method;
    int status;
  };
  struct KeyView {
    std::string_view route;
    Method method;
    int status;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const KeyView& k) const noexcept;
    std::size_t operator()(const Key& k) const noexcept {
      return (*this)(KeyView{k.route, k.method, k.status});
    }
  };
  struct KeyEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return a.method == b.method && a.status == b.status &&
             std::string_view(a.route) == std::string_view(b.route);
    }
  };
  Series series(std::string_view route, Method method, int status);

  std::shared_mutex series_mu_;
  std::unordered_map<Key, Series, KeyHash, KeyEq> series_;
};

}  // namespace castor::api
