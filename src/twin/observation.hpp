// Observations as the twin core takes them: measured values of a twin's telemetry or reported
// properties, the outcome of a batch, and the hook through which a higher layer (history) adds
// its own checks and writes to the same shard step and the same group commit. Plain data and one
// interface; the hook must never block, post to a shard or commit by itself.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "model/compiled_model.hpp"
#include "twin/twin.hpp"

namespace castor::twin {

class Shard;

// Connectors parse straight into this type (ingest::Observation names it), so a batch reaches the
// shards without being converted or copied.
// The members every point's check reads come first (within two cache lines: a batch of
// 20,000 is several MB, so the shard step's passes over it are bound by memory), the rarely read
// message id last.
struct Observation {
  std::string twin;
  std::string component;        // empty: the twin itself
  std::string name;             // a Telemetry or Property of the (component's) model
  Nanos ts_ns = 0;              // source time in ns since the Unix epoch; 0 = the time of receipt
  bool telemetry_only = false;  // a Property name is refused (ADT telemetry messages)
  json::value value;            // number, bool, string or object, checked against the model
  std::string message_id;       // carried into the telemetry change event
};

struct ObservationRejection {
  std::size_t index = 0;  // position in the submitted batch
  std::string code;       // ADT-style code, e.g. DigitalTwinNotFound, ValidationFailed, OutOfOrder
  std::string message;
};

struct IngestOutcome {
  Status status;  // see ingest/observation.hpp's IngestResult for the meaning of each code
  std::size_t accepted = 0;
  std::vector<ObservationRejection> rejections;  // by index
};

// validate_only: every check on every shard, nothing written (to list all errors of a batch that
// is refused anyway).
enum class IngestMode : unsigned char { reject_whole, keep_valid, validate_only };

// An observation that passed the model checks.
struct CheckedObservation {
  std::size_t index = 0;
  const Observation* obs = nullptr;
  const Twin* twin = nullptr;
  const model::ContentDef* content = nullptr;  // the Property or Telemetry it measures
  // Observations of one step with the same run have the same twin and component (a batch holds
  // runs of them, such as one line-protocol line): hooks reuse what they found for the previous
  // one instead of comparing names again.
  std::uint32_t run = 0;
};

class ObservationHook {
 public:
  virtual ~ObservationHook() = default;
  // On the shard thread, before anything of the step is applied; changes nothing. `refusals` is
  // empty on entry and stays empty when the hook takes every observation (most steps: a vector
  // of Status per point would be written and read for nothing); otherwise the hook sizes it like
  // `obs` (all ok) and sets `refusals[i]` for each observation it cannot take.
  virtual void check(Shard& s, std::span<const CheckedObservation> obs,
                     std::vector<Status>& refusals) = 0;
  // Right after check() in the same step and with the same span, once the twins are updated:
  // writes the observations check() did not refuse into s.batch().
  virtual void apply(Shard& s, std::span<const CheckedObservation> obs) = 0;

  // What a check() found, for a later step over the same observations (a batch checked on every
  // shard before any writes, then written); opaque to the twin core.
  struct KeptCheck {
    virtual ~KeptCheck() = default;
  };
  // Right after a check() that refused nothing, in the same step: moves its findings out, or
  // null when the hook keeps none.
  virtual std::unique_ptr<KeptCheck> keep_check(Shard&) { return nullptr; }
  // In place of check(), in a later step over the same observations while the shard's twin set
  // is unchanged (Shard::twin_set_epoch): true when the kept findings still hold, as if check()
  // had run and refused nothing (apply() may follow); false, nothing changed, when the caller
  // must run check().
  virtual bool reuse_check(Shard&, std::span<const CheckedObservation>, KeptCheck&) {
    return false;
  }
};

}  // namespace castor::twin
