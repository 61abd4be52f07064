// The benchmark's factory graph, generated deterministically: per line of 1,000 twins, one Line,
// 99 Robots, 100 Conveyors and 800 Sensors (all extending Asset, 20 properties each), with
// relationships line -contains-> robot, robot i -feeds-> conveyor i, conveyor -hasSensor-> 8
// sensors. Produced in batches of documents, identical for every engine that loads them.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace castor::bench {

inline constexpr int kTwinsPerLine = 1000;
inline constexpr int kRobotsPerLine = 99;
inline constexpr int kConveyorsPerLine = 100;
inline constexpr int kSensorsPerConveyor = 8;

// The DTDL models (a JSON array).
json::value factory_models();

struct TwinDoc {
  std::string id;
  std::string model;
  json::object doc;  // the ADT twin document ($dtId, $metadata, properties)
};

struct RelationshipDoc {
  std::string source, id, name, target;
};

// Calls `twins` with batches of twin documents of `lines` lines, then `relationships` with
// batches of relationships.
void generate_factory(std::size_t lines, std::size_t batch,
                      const std::function<void(std::vector<TwinDoc>&)>& twins,
                      const std::function<void(std::vector<RelationshipDoc>&)>& relationships);

}  // namespace castor::bench
