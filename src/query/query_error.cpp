#include "query/query_error.hpp"

#include <algorithm>
#include <utility>

namespace castor::query {

Status QueryError::to_status() const {
  return invalid_argument(message);
}

TextLocation locate(std::string_view text, std::uint32_t offset) noexcept {
  TextLocation at;
  const std::size_t end = std::min<std::size_t>(offset, text.size());
  for (std::size_t i = 0; i < end; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // a UTF-8 continuation byte is not a new character
    ++at.position;
    if (c == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

QueryError make_error(std::string_view text, std::uint32_t offset, std::string message) {
  const TextLocation at = locate(text, offset);
  return QueryError{offset, at.position, at.line, at.column, std::move(message)};
}

}  // namespace castor::query
