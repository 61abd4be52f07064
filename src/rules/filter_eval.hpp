// Evaluates a parsed route filter against one CloudEvent with three-valued logic: a comparison
// with a missing attribute or property, or of values that cannot be ordered, is unknown, and an
// event matches only when the whole filter is true. Never allocates per node; never throws.
#pragma once

#include "common/json.hpp"
#include "rules/cloud_event.hpp"
#include "rules/filter_ast.hpp"

namespace castor::rules::filter {

enum class Truth : unsigned char { no, yes, unknown };

// `data` is the event's data parsed as JSON (nullptr when it is not JSON: $body paths are then
// undefined).
Truth evaluate(const Ast& ast, const CloudEvent& event, const json::value* data);

}  // namespace castor::rules::filter
