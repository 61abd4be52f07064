// A twin graph for query tests: models, twins and relationships from a JSON file
// (tests/unit/query/graphs/<name>.json) loaded through the public engine API into a real Engine
// in a temporary directory, which is removed again when the fixture goes.
//   {"models": [DTDL...], "twins": [{"$dtId": ..., "$metadata": {"$model": ...}, ...}],
//    "relationships": [{"$sourceId", "$relationshipId", "$relationshipName", "$targetId", ...}]}
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "common/status.hpp"
#include "twin/engine.hpp"

namespace castor::query::testing {

class GraphFixture {
 public:
  // `name` is a file stem under tests/unit/query/graphs/.
  // `observer` (e.g. query indexes) is registered with the engine before it opens.
  static Result<std::unique_ptr<GraphFixture>> load(
      std::string_view name, std::size_t shards = 4,
      std::shared_ptr<twin::ShardObserver> observer = nullptr);
  // An empty engine with these models only.
  static Result<std::unique_ptr<GraphFixture>> empty(
      const json::value& models, std::size_t shards = 4,
      std::shared_ptr<twin::ShardObserver> observer = nullptr);
  ~GraphFixture();
  GraphFixture(const GraphFixture&) = delete;
  GraphFixture& operator=(const GraphFixture&) = delete;

  twin::Engine& engine() { return *engine_; }
  // Closes the engine and opens it again on the same data (a restart), with the same observer.
  Status reopen();

  // Blocking helpers over the engine's asynchronous calls.
  Status put_twin(const std::string& id, const json::value& body);
  // Many twins at once (issued together, then awaited): the first error, if any.
  Status put_twins(const std::vector<std::pair<std::string, json::value>>& twins);
  Status put_relationships(
      const std::vector<std::tuple<std::string, std::string, json::value>>& rels);
  Status patch_twin(const std::string& id, const json::value& patch);
  Status delete_twin(const std::string& id);
  Status put_relationship(const std::string& source, const std::string& id,
                          const json::value& body);
  Status delete_relationship(const std::string& source, const std::string& id);

 private:
  GraphFixture() = default;
  Status open(std::size_t shards);
  Status add(const json::value& graph);

  std::filesystem::path dir_;
  std::size_t shards_ = 4;
  std::shared_ptr<twin::ShardObserver> observer_;
  std::unique_ptr<twin::Engine> engine_;
};

json::value read_json_file(const std::filesystem::path& path);

}  // namespace castor::query::testing
