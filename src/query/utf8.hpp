// UTF-8 for query text: strict validation (no overlong forms, no surrogates, nothing above
// U+10FFFF) that also counts characters, and encoding of \u escapes. Never reads past the text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace castor::query {

struct Utf8Scan {
  bool valid = true;
  std::uint32_t bad_offset = 0;  // byte offset of the first byte that is not valid UTF-8
  std::uint32_t characters = 0;  // code points before bad_offset (all of them when valid)
};

Utf8Scan scan_utf8(std::string_view text) noexcept;

// Appends the UTF-8 encoding of a code point (which must not be a surrogate).
void append_utf8(std::string& out, char32_t code_point);

}  // namespace castor::query
