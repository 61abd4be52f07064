// Reads a property path of the query on one twin or relationship, the way ADT exposes them:
// $dtId, $etag, $metadata.$model, $metadata.$lastUpdateTime, $metadata.<p>.lastUpdateTime and
// .sourceTime, properties and paths into their objects and maps, components and their properties;
// for relationships $relationshipId, $sourceId, $targetId, $relationshipName, $etag and their own
// properties. Runs on the shard thread that owns the twin; never changes it, never throws on data.
#pragma once

#include <span>
#include <string_view>

#include "query/datum.hpp"
#include "twin/twin.hpp"

namespace castor::query {

// `names` is the path below the collection (empty: the whole twin as an object).
Datum read_twin_path(const twin::Twin& t, std::span<const std::string_view> names, Scratch& s);

// `names` is the path below the relationship collection (empty: the whole relationship).
Datum read_relationship_path(std::string_view source, const twin::Relationship& r,
                             std::span<const std::string_view> names, Scratch& s);

}  // namespace castor::query
