// The vocabulary of bulk writes (import jobs): entities already parsed into JSON documents, and
// what became of them. Plain data only; the engine's import_twins/import_relationships do the
// work. Never carries engine state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "twin/twin.hpp"

namespace castor::twin {

// One twin or relationship document, as an ADT import file holds it: a twin with "$dtId" and
// "$metadata": {"$model": ...}; a relationship with "$dtId" (its source), "$relationshipId",
// "$targetId", "$relationshipName" and its own properties. `line` locates it for error reports.
struct BulkItem {
  std::uint64_t line = 0;
  json::object doc;
};

// Why one item was not imported (Status::reason() is the ADT error code).
struct BulkError {
  std::uint64_t line = 0;
  std::string id;  // the twin id, or "<source>/<relationship id>"
  Status status;
};

struct BulkOutcome {
  std::size_t imported = 0;       // created or replaced, and durable
  std::vector<BulkError> errors;  // one per item that was not imported
};

// Twins validated, built and encoded (Engine::prepare_twins, on any thread), grouped by the
// shard that owns them, ready for Engine::import_twins; `rejected` holds the invalid ones.
struct PreparedTwin {
  std::uint64_t line = 0;
  std::unique_ptr<Twin> twin;
  std::string bytes;  // the twin as the store keeps it
};
struct PreparedTwins {
  std::vector<std::vector<PreparedTwin>> by_shard;
  BulkOutcome rejected;
};

}  // namespace castor::twin
