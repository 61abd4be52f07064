// The on-disk form of twins and relationships: a compact, versioned binary encoding that names
// properties (so that it survives changes to slot order) and decodes without JSON. Decoding
// validates every length; corrupt bytes give a Status, never a crash.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "twin/twin.hpp"

namespace castor::twin {

void encode_twin(const Twin& t, std::string& out);
// Decodes a twin; `resolve` maps a model id to its compiled interface (nullptr if unknown).
Status decode_twin(std::string_view id, std::string_view bytes,
                   const std::function<model::InterfacePtr(std::string_view)>& resolve, Twin& out);

void encode_relationship(const Relationship& r, std::string& out);
Status decode_relationship(std::string_view id, std::string_view bytes, Relationship& out);

// Keys of the relationships column family: "<source>\0<relationship id>".
std::string relationship_key(std::string_view source, std::string_view rel_id);
bool split_relationship_key(std::string_view key, std::string_view& source, std::string_view& rel_id);

}  // namespace castor::twin
