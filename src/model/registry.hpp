// The model registry with Azure Digital Twins semantics: a model set is added atomically (all
// valid or nothing), ids are never reused, models may reference models added earlier, can be
// decommissioned, and can be deleted only when no other model depends on them. Thread-safe:
// readers get immutable snapshots; writers are serialized. Holds no twins and does no I/O;
// the twin layer persists what add()/decommission()/remove() report.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "common/strings.hpp"
#include "model/compiled_model.hpp"
#include "model/element_parser.hpp"

namespace castor::model {

struct ModelRecord {
  std::string id;
  json::value definition;  // the Interface document as uploaded
  std::chrono::system_clock::time_point upload_time;
  bool decommissioned = false;
  InterfacePtr compiled;
  json::object display_name;  // language map, as ADT returns it
  json::object description;
  std::vector<std::string> dependencies;  // models it extends or uses as components (direct)
};
using RecordPtr = std::shared_ptr<const ModelRecord>;

// Why add() failed, in ADT's vocabulary.
enum class ModelError { none, invalid, already_exists, too_many, unresolved };

struct AddResult {
  Status status;
  ModelError error = ModelError::none;
  std::vector<RecordPtr> added;     // in upload order, on success
  std::vector<std::string> details;  // one line per DTDL error, on failure
};

struct RegistryOptions {
  ParseOptions parse;
  // Most models in one add() call. ADT allows 250; Castor is more generous, bounded so that a
  // single request cannot monopolize a core. Default 10,000.
  std::size_t max_models_per_add = 10000;
};

class ModelRegistry {
 public:
  explicit ModelRegistry(RegistryOptions options = {}) : options_(std::move(options)) {}

  // Adds a model set; `time` is recorded as the upload time of every model in it.
  AddResult add(std::span<const json::value> models,
                std::chrono::system_clock::time_point time = std::chrono::system_clock::now());
  // Re-adds persisted records at start-up (parses them together; keeps their metadata).
  Status restore(std::vector<ModelRecord> records);

  RecordPtr get(std::string_view id) const;
  InterfacePtr interface(std::string_view id) const;
  // All models, or the given ones and everything they depend on (ADT's dependenciesFor).
  Result<std::vector<RecordPtr>> list(std::span<const std::string> dependencies_for = {}) const;
  Status decommission(std::string_view id);
  // Deletes a model nothing else depends on; Code::failed_precondition names the dependents.
  Status remove(std::string_view id);
  // Puts back a record remove() took out (when the caller's own checks refuse the delete).
  void reinstate(RecordPtr record);
  std::size_t size() const;
  // Models that depend on `id` directly.
  std::vector<std::string> dependents(std::string_view id) const;

 private:
  using Map = StringMap<RecordPtr>;
  std::shared_ptr<const Map> snapshot() const;
  void collect_dependencies(const Map& m, std::string_view id, StringSet& out) const;

  RegistryOptions options_;
  mutable std::mutex write_mu_;  // serializes writers
  mutable std::mutex ptr_mu_;    // guards models_ (the pointer, not the map)
  std::shared_ptr<const Map> models_ = std::make_shared<Map>();
};

}  // namespace castor::model
