// The example queries of the ADT query reference (../shared/spec/adt-query/samples/*.sql): the
// snippets between "-- <Name>" and "-- </Name>", and the list of those that are not complete
// queries (sample_exceptions.txt) with the reason for each. Shared by the parser's and the
// executor's sample tests; reads files only.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace castor::query::testing {

struct Snippet {
  std::string key;  // "<file> <Name>"
  int line = 0;
  std::vector<std::string> statements;  // a blank line separates statements (SelectCount2 has 2)
};

std::vector<Snippet> read_snippets(const std::string& file);
// Both sample files, examples.sql first.
std::vector<Snippet> all_snippets();
// "<file> <Name>" -> reason; malformed lines are reported in `problems`.
std::map<std::string, std::string> read_exceptions(std::vector<std::string>& problems);

}  // namespace castor::query::testing
