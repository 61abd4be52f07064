// DTDL literal forms: representational strings, integers and booleans (bare or as value
// objects like {"@value": 3, "@type": "xsd:integer"}) and localizable strings (string, tagged
// array, or language map). Validation only; values are returned in plain C++ types.
#pragma once

#include <string>
#include <vector>

#include "common/json.hpp"
#include "model/element.hpp"

namespace castor::model {

struct LiteralProblem {
  std::string id;       // ValidationID suffix
  std::string message;  // what is wrong
};

bool read_string(const json::value& v, int version, std::string& out, LiteralProblem& p);
bool read_integer(const json::value& v, int version, long long& out, LiteralProblem& p);
bool read_boolean(const json::value& v, int version, bool& out, LiteralProblem& p);
// Reads a localizable string; `max_length` bounds each text (0 = unbounded).
bool read_lang_string(const json::value& v, int version, std::size_t max_length, LangString& out,
                      LiteralProblem& p);

// Length in characters (Unicode code points) of UTF-8 text.
std::size_t utf8_length(std::string_view s) noexcept;
bool is_language_code(std::string_view s) noexcept;
bool is_dtdl_name(std::string_view s) noexcept;  // ^[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?$

}  // namespace castor::model
