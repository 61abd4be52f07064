// Reads the execution corpus (tests/unit/query/exec/*.test): a graph fixture and, per record, a
// query (or a sample snippet of the reference) with the rows it must return, their number, or
// the error it must fail with. Format errors are reported as test failures, never skipped.
//
//   graph <name>                              once, before the records: graphs/<name>.json
//   query rows [ordered] [page <n>]           rows: one JSON value per line after ----,
//   <query lines>                             or "(none)"; "page n" pages through the result
//   ----                                      n rows at a time with continuation tokens
//   <rows>
//   query count <n>                           just the number of rows
//   query error <Code> [<position>]           the ADT error code, the position it names, and
//   ----                                      a fragment of its message
//   <fragment>
//   sample <file> <Name> [#<statement>] [count <n>]   the snippet's text; rows or a count
//
// Rows compare as multisets unless "ordered"; $etag and lastUpdateTime values are ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace castor::query::testing {

struct ExecCase {
  enum class Expect { rows, count, error };
  std::string file;
  int line = 0;
  Expect expect = Expect::rows;
  bool ordered = false;
  std::size_t page = 0;           // 0: one page of the largest size
  std::size_t count = 0;          // Expect::count
  std::string code;               // Expect::error
  std::uint32_t position = 0;     // Expect::error; 0: not checked
  std::string query;              // empty for samples until the snippet is looked up
  std::string sample;             // "<file> <Name>" of a sample record
  std::size_t statement = 1;      // which statement of the snippet (1-based)
  std::vector<std::string> rows;  // Expect::rows
  std::string fragment;           // Expect::error
};

struct ExecFile {
  std::string path;
  std::string graph;
  std::vector<ExecCase> cases;
};

ExecFile read_exec_file(const std::string& path, std::vector<std::string>& problems);

// The *.test files of tests/unit/query/exec, sorted.
std::vector<std::string> exec_files();

}  // namespace castor::query::testing
