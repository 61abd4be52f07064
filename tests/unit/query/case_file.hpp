// Reads the declarative query test corpus (tests/unit/query/cases/*.test), DuckDB-style: each
// record is a query and either its canonical print or the position and a fragment of its error.
// Format errors in a case file are reported as test failures, never skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace castor::query::testing {

struct Case {
  enum class Expect { canonical_print, same_print, error };
  std::string file;
  int line = 0;  // of the record's header
  Expect expect = Expect::canonical_print;
  std::uint32_t position = 0;  // Expect::error: the 1-based character position
  std::string query;
  std::string expected;  // canonical print, or a fragment of the error message
};

// Record syntax, records separated by blank lines, '#' starts a comment line:
//   query ok            query canonical        query error <position>
//   <query lines>       <query lines>          <query lines>
//   ----                                       ----
//   <canonical print>                          <message fragment>
// "query canonical" says the query prints back exactly as written.
std::vector<Case> read_case_file(const std::string& path, std::vector<std::string>& problems);

// The *.test files of the corpus folder, sorted.
std::vector<std::string> case_files();

}  // namespace castor::query::testing
