// What the crash writer writes and the crash test checks, in one place so the two cannot drift:
// a numbered record is a data entry plus an index entry, committed in one batch.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace castor::test::crash {

inline constexpr const char* kDataFamily = "data";
inline constexpr const char* kIndexFamily = "index";

inline std::string key(std::uint64_t n) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(n));
  return buffer;
}

// Long enough that memtables fill and flush during a run, so crashes land mid-flush too.
inline std::string value(std::uint64_t n) {
  std::string v = "record " + std::to_string(n) + " ";
  while (v.size() < 200) v += static_cast<char>('a' + n % 26);
  return v;
}

}  // namespace castor::test::crash
