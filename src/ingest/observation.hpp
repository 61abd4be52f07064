// Observations: what connectors (HTTP batch, WebSocket, MQTT) hand to the ingest pipeline, and
// the answer they get once a batch is durable. The contract between connectors and the pipeline;
// plain data and one interface, never parsing, I/O or threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "twin/observation.hpp"

namespace castor::ingest {

// One measurement of one twin: a telemetry value or a reported property value. The twin core's
// own type, so that connectors parse into what the shards read (no second vector, no copies).
using Observation = twin::Observation;

// Why one observation of a batch was refused; `index` is its position in the submitted batch.
struct Rejection {
  std::size_t index = 0;
  std::string code;     // e.g. "TwinNotFound", "ValidationFailed"
  std::string message;  // a sentence that says what to fix
};

struct IngestResult {
  // ok: every accepted observation is durable (twin updated and history appended).
  // invalid_argument: the batch was refused (all of it unless partial); see rejections.
  // resource_exhausted / unavailable: overloaded or shutting down; nothing was written, retry.
  Status status;
  std::size_t accepted = 0;
  std::vector<Rejection> rejections;
};

// Whether a batch with invalid observations is refused whole (the default, ADT-like) or its
// valid observations are kept and each refusal reported (`?partial=true`).
enum class Partial { reject_whole, keep_valid };

// The ingest pipeline as connectors see it.
class ObservationSink {
 public:
  virtual ~ObservationSink() = default;
  // Never blocks. Calls `done` exactly once, on any thread, after the accepted observations
  // are durable or with the error that kept them out. Connectors acknowledge (HTTP 202, MQTT
  // PUBACK) only from `done`.
  virtual void submit(std::vector<Observation> batch, Partial mode,
                      std::function<void(IngestResult)> done) = 0;
  // Observations submitted and not yet answered; connectors stop reading their sockets while
  // this is above their limit (backpressure, never loss).
  virtual std::size_t in_flight() const = 0;
};

}  // namespace castor::ingest
