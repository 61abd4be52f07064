// "@context" members: validation against the Context rules and combination into the active
// context (DTDL version in force, known extensions, whether an unknown extension is present).
// Never looks anything up over the network: unknown extensions stay unknown.
#pragma once

#include <string>
#include <vector>

#include "common/json.hpp"
#include "model/element.hpp"

namespace castor::model {

struct ContextProblem {
  std::string id;       // ValidationID suffix
  std::string message;  // cause and fix
};

// Combines the "@context" value `v` of an element with its parent's active context (nullptr for
// a top-level element). Returns false if the value is unusable; `problems` lists every rule the
// value breaks (some problems still yield a usable context).
bool merge_context(const json::value& v, const ActiveContext* parent, ActiveContext& out,
                   std::vector<ContextProblem>& problems);

}  // namespace castor::model
