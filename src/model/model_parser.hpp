// Entry point of the DTDL engine: parses a model set (one or more JSON documents parsed
// together) into elements, checks every rule of the language, and reports all errors found.
// A model set is accepted only as a whole; nothing is partially accepted.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "model/diagnostics.hpp"
#include "model/element_parser.hpp"

namespace castor::model {

struct ParseResult {
  ParsedModel model;
  Diagnostics diagnostics;
  bool ok() const noexcept { return diagnostics.empty(); }
  // One line per error (and one for unresolved references), for CLIs and error bodies.
  std::string summary(std::size_t max_lines = 50) const;
};

// Parses documents given as JSON text (strict JSON: duplicate keys, BOM and invalid UTF-8 are
// errors).
ParseResult parse_model_set(std::span<const std::string_view> documents,
                            const ParseOptions& options = {});
// Parses documents already turned into JSON values.
ParseResult parse_model_values(std::span<const json::value> documents,
                               const ParseOptions& options = {});

}  // namespace castor::model
