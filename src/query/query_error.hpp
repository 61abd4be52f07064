// The error a query gets back when it cannot be accepted: where (byte offset, 1-based character
// position, line and column) and one sentence saying what is wrong and how to fix it.
// It carries no query text beyond what the message quotes, and never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace castor::query {

struct QueryError {
  // The error code Azure Digital Twins answers with for any rejected query text.
  static constexpr std::string_view kAdtCode = "SqlQueryError";

  std::uint32_t offset = 0;    // 0-based byte offset of the problem in the query text
  std::uint32_t position = 1;  // 1-based character position (the one the message quotes)
  std::uint32_t line = 1;      // 1-based
  std::uint32_t column = 1;    // 1-based, in characters
  std::string message;         // e.g. "Unterminated string literal starting at position 27; ..."

  // Code::invalid_argument with the message.
  Status to_status() const;
};

// Where `offset` falls in `text`, in the units users count: characters, not bytes.
struct TextLocation {
  std::uint32_t position = 1;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};
TextLocation locate(std::string_view text, std::uint32_t offset) noexcept;

// Fills an error at `offset`; `message` is already a full sentence.
QueryError make_error(std::string_view text, std::uint32_t offset, std::string message);

}  // namespace castor::query
