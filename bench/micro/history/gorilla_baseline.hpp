// The peer for the codec benchmarks: a plain Gorilla encoder as Prometheus' XOR chunk does it
// (millisecond timestamps, delta-of-delta in 14/17/20/64-bit buckets; XOR values with a
// leading/trailing window). Bench-only: it measures what "just Gorilla" would cost in bytes and
// time on the same signals; it is not a decoder and never ships.
#pragma once

#include <cstdint>
#include <span>

#include "history/types.hpp"

namespace castor::history::bench {

// Encodes one chunk; returns its size in bytes. Timestamps are truncated to milliseconds, as in
// Prometheus (sub-millisecond jitter is lost there, so its size is a lower bound for that case).
std::size_t gorilla_chunk(std::span<const std::int64_t> ts_ns, std::span<const double> values,
                          Bytes& out);

}  // namespace castor::history::bench
