// The JSON face of twins and relationships, exactly as Azure Digital Twins shows them: building a
// Twin from a PUT body, rendering twins, components and relationships, and applying JSON Patch
// documents to them. Validation against the model happens here, before anything is changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/status.hpp"
#include "model/compiled_model.hpp"
#include "twin/twin.hpp"

namespace castor::twin {

// Builds a new twin from an ADT twin document (already parsed). Validates against `model`;
// `now` becomes every property's lastUpdateTime.
Status build_twin(std::string_view id, const model::InterfacePtr& model, const json::object& doc,
                  Nanos now, Twin& out);

// What render_twin may reuse between the twins of one batch rendered on one thread: the
// per-property members of $metadata of the last twin whose set properties all carry one
// lastUpdateTime and no sourceTime. Those members are the same text for every twin of that
// model with that time and the same properties set (twins created or replaced together), so
// they are copied instead of written again (kept from the second such twin on, so that a batch
// of unlike twins copies nothing). Only render_twin reads and writes the members.
struct RenderMemo {
  const model::CompiledInterface* model = nullptr;
  Nanos time = 0;
  std::uint64_t set = 0;  // which property slots are set
  std::string block;      // empty: not kept yet
  // The text from ,"$metadata" to the end of the "$lastUpdateTime" value of the last twin
  // rendered: the same for twins of one model updated at the same time, so it is copied rather
  // than written (escape check of the model id, date formatting) again.
  const model::CompiledInterface* head_model = nullptr;
  Nanos head_time = 0;
  std::string head;  // empty: none yet
};

// ADT JSON of a twin: $dtId, $etag, $metadata ($model, $lastUpdateTime, per-property
// lastUpdateTime and sourceTime), properties, components. `memo`: see RenderMemo (the text is
// the same with or without it).
void render_twin(const Twin& t, std::string& out, RenderMemo* memo = nullptr);
// Start loading what render_twin(t) reads, for batched renderers a few twins ahead, in two
// stages: the cells (once the twin itself is loaded), then the texts of string values (once the
// cells are).
void prefetch_cells(const Twin& t) noexcept;
void prefetch_texts(const Twin& t) noexcept;
// ADT JSON of one component: its $metadata and properties. false if there is no such component.
bool render_component(const Twin& t, std::string_view component, std::string& out);
// ADT JSON of a relationship from `source`.
void render_relationship(std::string_view source, const Relationship& r, std::string& out);

// The twin's properties and components as a JSON object (values only, no $metadata): the base
// a JSON Patch is applied to.
json::object twin_values(const Twin& t);

// What a patch changed, for change events and lastUpdateTime.
struct PatchOutcome {
  bool changed = false;
};

// Applies an ADT JSON Patch to the twin (or to one of its components when `component` is not
// empty). Paths /$metadata/<prop>/sourceTime set source times. Validated against the model; on
// any error the twin is unchanged.
Status patch_twin(Twin& t, std::string_view component, const json::value& patch, Nanos now,
                  PatchOutcome& outcome);

// Applies a JSON Patch to a relationship's own properties, validated against the relationship.
Status patch_relationship(const model::CompiledInterface& source_model, Relationship& r,
                          const json::value& patch);

// Checks an id supplied by a client (twin, relationship, route, job): 1..1024 bytes of UTF-8
// without control characters.
Status check_id(std::string_view id, std::string_view what);

}  // namespace castor::twin
