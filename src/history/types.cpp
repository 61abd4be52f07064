#include "history/types.hpp"

namespace castor::history {

std::string_view value_type_name(ValueType type) noexcept {
  switch (type) {
    case ValueType::float64: return "float64";
    case ValueType::int64: return "int64";
    case ValueType::boolean: return "boolean";
    case ValueType::string: return "string";
  }
  return "unknown";
}

bool is_valid_value_type(std::uint8_t raw) noexcept {
  return raw >= static_cast<std::uint8_t>(ValueType::float64) &&
         raw <= static_cast<std::uint8_t>(ValueType::string);
}

}  // namespace castor::history
