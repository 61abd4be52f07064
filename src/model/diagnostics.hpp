// Errors found while parsing a DTDL model set: which document, where in it (a JSON path such
// as $[0].contents[2].schema), a sentence a modeller understands, and the reference parser's
// ValidationID. Collected, never thrown.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace castor::model {

struct ParsingError {
  std::string validation_id;  // "dtmi:dtdl:parsingError:<name>"
  std::size_t document = 0;   // index of the document in the model set
  std::string path;           // JSON path inside the document
  std::string element_id;     // @id of the closest identified element, when known
  std::string message;        // cause and how to fix it
  std::string to_string() const;
};

class Diagnostics {
 public:
  void add(std::string_view id, std::size_t doc, std::string path, std::string element_id,
           std::string message);
  const std::vector<ParsingError>& errors() const noexcept { return errors_; }
  bool empty() const noexcept { return errors_.empty() && unresolved_.empty(); }
  std::size_t size() const noexcept { return errors_.size(); }
  void add_unresolved(std::string dtmi);
  const std::vector<std::string>& unresolved() const noexcept { return unresolved_; }
  // A model set can produce an error per element; past this many, further ones are counted only.
  static constexpr std::size_t kMaxErrors = 1000;
  std::size_t dropped() const noexcept { return dropped_; }

 private:
  std::vector<ParsingError> errors_;
  std::vector<std::string> unresolved_;
  std::size_t dropped_ = 0;
};

}  // namespace castor::model
