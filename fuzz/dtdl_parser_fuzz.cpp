// libFuzzer target: arbitrary bytes as one or two DTDL documents. The parser must never crash,
// hang or read out of bounds; valid model sets are also compiled and a twin is validated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/compiled_model.hpp"
#include "model/instance_validator.hpp"
#include "model/model_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  // A NUL byte splits the input into two documents of one model set.
  std::size_t cut = all.find('\0');
  std::string_view docs[2] = {all.substr(0, cut), cut == std::string_view::npos ? std::string_view() : all.substr(cut + 1)};
  castor::model::ParseResult r = castor::model::parse_model_set(
      std::span<const std::string_view>(docs, cut == std::string_view::npos ? 1 : 2));
  if (!r.ok()) {
    (void)r.summary();
    return 0;
  }
  auto models = castor::model::compile_interfaces(r.model);
  for (const auto& [id, iface] : models) {
    castor::json::object twin;
    twin["$dtId"] = "fuzz";
    for (const auto& c : iface->contents)
      if (c.kind == castor::model::ContentKind::property) twin[c.name] = 1;
    (void)castor::model::validate_twin(*iface, twin);
  }
  return 0;
}
