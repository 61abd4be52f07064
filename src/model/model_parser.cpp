#include "model/model_parser.hpp"

#include "model/model_checker.hpp"

namespace castor::model {

std::string ParseResult::summary(std::size_t max_lines) const {
  std::string out;
  std::size_t n = 0;
  for (const auto& e : diagnostics.errors()) {
    if (n++ == max_lines) {
      out += "... and " + std::to_string(diagnostics.size() - max_lines) + " more errors\n";
      break;
    }
    out += e.to_string();
    out += '\n';
  }
  if (diagnostics.dropped())
    out += "(" + std::to_string(diagnostics.dropped()) + " further errors not recorded)\n";
  if (!diagnostics.unresolved().empty()) {
    out += "unresolved references (add these models to the set or upload them first):";
    for (const auto& u : diagnostics.unresolved()) out += " " + u;
    out += '\n';
  }
  return out;
}

ParseResult parse_model_values(std::span<const json::value> documents, const ParseOptions& options) {
  ParseResult r;
  r.model.contexts.emplace_back();  // index 0: the empty context of top-level elements
  ElementParser parser(options, r.model, r.diagnostics);
  for (std::size_t i = 0; i < documents.size(); ++i)
    parser.parse_document(documents[i], static_cast<std::uint32_t>(i));
  parser.assign_synthetic_ids();
  ModelChecker checker(r.model, r.diagnostics);
  checker.resolve();
  checker.check();
  return r;
}

ParseResult parse_model_set(std::span<const std::string_view> documents, const ParseOptions& options) {
  std::vector<json::value> values(documents.size());
  ParseResult failed;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    json::ParseError e;
    if (!json::parse(documents[i], values[i], e)) {
      failed.diagnostics.add("invalidJson", i, "", "", "invalid JSON: " + e.to_string());
    }
  }
  if (!failed.diagnostics.empty()) return failed;
  return parse_model_values(values, options);
}

}  // namespace castor::model
