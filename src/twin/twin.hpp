// Twin and Relationship: the in-memory state a shard owns. Properties sit in slots interned by
// the compiled model (no names, no JSON DOM per twin); a property's lastUpdateTime is an index
// into a small per-twin table kept in the value's spare bits, so the common twin costs 16 bytes
// per property. Rarely used parts (components, relationships, source times) live behind one
// pointer. Owned and mutated by exactly one shard thread; never shared across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/compiled_model.hpp"
#include "twin/value.hpp"

namespace castor::twin {

using Nanos = std::int64_t;  // nanoseconds since the Unix epoch

// A property slot: the value, and in its tag the index of its lastUpdateTime (see Twin::time_of).
using Cell = Value;

// Cells of one twin or component: a fixed-size array (the model's property count).
class Cells {
 public:
  Cells() = default;
  Cells(Cells&&) noexcept = default;
  Cells& operator=(Cells&&) noexcept = default;
  Cells(const Cells& o) { *this = o; }
  Cells& operator=(const Cells& o);

  void reset(std::size_t n);  // n unset cells
  std::size_t size() const noexcept { return size_; }
  Cell& operator[](std::size_t i) { return data_[i]; }
  const Cell& operator[](std::size_t i) const { return data_[i]; }
  Cell* begin() noexcept { return data_.get(); }
  Cell* end() noexcept { return data_.get() + size_; }
  const Cell* begin() const noexcept { return data_.get(); }
  const Cell* end() const noexcept { return data_.get() + size_; }

 private:
  std::unique_ptr<Cell[]> data_;
  std::uint32_t size_ = 0;
};

struct SourceTime {
  std::uint16_t component;  // 0: the twin itself; i + 1: component i
  std::uint16_t slot;
  Nanos time;
};

struct ComponentState {
  Nanos last_update = 0;
  Cells cells;  // by property slot of the component's model
};

struct Relationship {
  std::string id;
  std::string name;
  std::string target;
  std::uint64_t etag = 0;
  std::string properties;  // compact JSON object of the relationship's own properties ("" = none)
};

// The parts of a twin most twins of a plant do not need; allocated on first use.
struct TwinExtra {
  std::vector<ComponentState> components;  // in the order of component_names(model)
  std::vector<SourceTime> source_times;
  std::vector<Relationship> outgoing;
  std::vector<Nanos> times;  // property times other than the twin's last_update (tag k -> times[k-1])
};

class Twin {
 public:
  std::string id;
  model::InterfacePtr model;
  std::uint64_t etag = 0;
  Nanos last_update = 0;  // $metadata.$lastUpdateTime; also the time of cells tagged 0
  Cells cells;            // by property slot

  // --- rarely used parts ---
  TwinExtra& extra();
  const TwinExtra* extra_if() const noexcept { return extra_.get(); }
  std::vector<ComponentState>& components() { return extra().components; }
  std::span<const ComponentState> components() const;
  std::vector<Relationship>& outgoing() { return extra().outgoing; }
  std::span<const Relationship> outgoing() const;
  const Relationship* relationship(std::string_view rel_id) const;

  Nanos source_time(std::uint16_t component, std::uint16_t slot) const;
  void set_source_time(std::uint16_t component, std::uint16_t slot, Nanos t);
  void clear_source_time(std::uint16_t component, std::uint16_t slot);

  // --- property times ---
  Nanos time_of(const Cell& c) const;
  // Gives `c` the time `t` (used when rebuilding a twin from storage).
  void set_time(Cell& c, Nanos t);
  // Records that the cells in `changed` were written at `now` and makes `now` the twin's
  // last_update; every other cell keeps its time.
  void stamp(std::span<Cell* const> changed, Nanos now);

  std::size_t memory_bytes() const;  // approximate heap use, for metrics and benchmarks

 private:
  std::uint32_t intern_time(Nanos t);
  void compact_times();
  std::unique_ptr<TwinExtra> extra_;
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
// The same 28 characters written to `out`, without an allocation (renderers).
inline constexpr std::size_t kTimeTextSize = 28;
void format_time_to(Nanos t, char* out);
bool parse_time(std::string_view s, Nanos& out);

}  // namespace castor::twin
