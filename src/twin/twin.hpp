// Twin and Relationship: the in-memory state a shard owns. Properties sit in slots interned by
// the compiled model (no names, no JSON DOM per twin); timestamps are nanoseconds since the
// epoch. Owned and mutated by exactly one shard thread; never shared across threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/compiled_model.hpp"
#include "twin/value.hpp"

namespace castor::twin {

using Nanos = std::int64_t;  // nanoseconds since the Unix epoch

struct Cell {
  Value value;
  Nanos last_update = 0;
};

struct SourceTime {
  std::uint16_t component;  // 0: the twin itself; i + 1: component i
  std::uint16_t slot;
  Nanos time;
};

struct ComponentState {
  Nanos last_update = 0;
  std::vector<Cell> cells;  // by property slot of the component's model
};

struct Relationship {
  std::string id;
  std::string name;
  std::string target;
  std::uint64_t etag = 0;
  std::string properties;  // compact JSON object of the relationship's own properties ("" = none)
};

struct Twin {
  std::string id;
  model::InterfacePtr model;
  std::uint64_t etag = 0;
  Nanos last_update = 0;
  std::vector<Cell> cells;                  // by property slot
  std::vector<ComponentState> components;   // in the order of component_names(model)
  std::vector<SourceTime> source_times;     // sparse: only properties that have one
  std::vector<Relationship> outgoing;

  Nanos source_time(std::uint16_t component, std::uint16_t slot) const;
  void set_source_time(std::uint16_t component, std::uint16_t slot, Nanos t);
  void clear_source_time(std::uint16_t component, std::uint16_t slot);
  const Relationship* relationship(std::string_view rel_id) const;
  std::size_t memory_bytes() const;  // approximate heap use, for metrics and benchmarks
};

// Components of a model in a stable order (sorted by name).
inline const std::vector<std::string>& component_names(const model::CompiledInterface& m) {
  return m.component_order;
}

// The ETag shown to clients: W/"<16 hex digits>".
std::string format_etag(std::uint64_t etag);
// Parses an If-Match value; true if it is "*" (any) or names `etag`.
bool etag_matches(std::string_view header, std::uint64_t etag);

// RFC 3339 with 7 fractional digits, as Azure Digital Twins prints times.
std::string format_time(Nanos t);
bool parse_time(std::string_view s, Nanos& out);

}  // namespace castor::twin
