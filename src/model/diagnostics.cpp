#include "model/diagnostics.hpp"

#include <algorithm>

namespace castor::model {

std::string ParsingError::to_string() const {
  std::string s = "document " + std::to_string(document);
  if (!path.empty()) s += " at " + path;
  s += ": " + message;
  if (!validation_id.empty()) s += " [" + validation_id + "]";
  return s;
}

void Diagnostics::add(std::string_view id, std::size_t doc, std::string path,
                      std::string element_id, std::string message) {
  if (errors_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  std::string vid = "dtmi:dtdl:parsingError:";
  vid += id;
  errors_.push_back({std::move(vid), doc, std::move(path), std::move(element_id),
                     std::move(message)});
}

void Diagnostics::add_unresolved(std::string dtmi) {
  if (std::find(unresolved_.begin(), unresolved_.end(), dtmi) == unresolved_.end())
    unresolved_.push_back(std::move(dtmi));
}

}  // namespace castor::model
