// The shortest round-trip text of a double, byte for byte what std::to_chars(first, last, d)
// writes (fixed or scientific, whichever is shorter; fixed on ties), a little faster (~10% in a
// micro-benchmark): renderers write millions of doubles. Never writes past kDoubleTextMax bytes.
#pragma once

#include <cstddef>

namespace castor {

// Room format_double needs at its output (the text itself is at most 24 bytes; the rest lets
// it copy in fixed-size blocks).
inline constexpr std::size_t kDoubleTextMax = 48;

// Writes `d` at `p` (room for kDoubleTextMax bytes, which it may all overwrite) and returns the
// end of the text. Infinities and NaN come out as std::to_chars writes them ("inf", "-nan",
// ...): JSON writers check isfinite first.
char* format_double(char* p, double d) noexcept;

}  // namespace castor
