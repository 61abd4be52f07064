// The shortest round-trip text of a double, byte for byte what std::to_chars(first, last, d)
// writes (fixed or scientific, whichever is shorter; fixed on ties), but about twice as fast:
// renderers write millions of doubles. Never writes more than kDoubleTextMax bytes.
#pragma once

#include <cstddef>

namespace castor {

inline constexpr std::size_t kDoubleTextMax = 32;

// Writes `d` at `p` (room for kDoubleTextMax bytes) and returns the end. Infinities and NaN come
// out as std::to_chars writes them ("inf", "-nan", ...): JSON writers check isfinite first.
char* format_double(char* p, double d) noexcept;

}  // namespace castor
