#include "sample_snippets.hpp"

#include <fstream>
#include <sstream>

namespace castor::query::testing {
namespace {

std::string trim_right(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string trim_left(const std::string& s) {
  const auto i = s.find_first_not_of(" \t");
  return i == std::string::npos ? std::string() : s.substr(i);
}

}  // namespace

std::vector<Snippet> read_snippets(const std::string& file) {
  std::ifstream in(std::string(CASTOR_SHARED_DIR) + "/spec/adt-query/samples/" + file);
  std::vector<Snippet> out;
  Snippet* open = nullptr;
  std::string current;
  int number = 0;
  auto flush = [&] {
    if (open && !current.empty()) open->statements.push_back(current);
    current.clear();
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    line = trim_right(line);
    const std::string t = trim_left(line);
    if (t.rfind("-- </", 0) == 0) {
      flush();
      open = nullptr;
    } else if (t.rfind("-- <", 0) == 0 && t.back() == '>') {
      out.push_back({file + " " + t.substr(4, t.size() - 5), number, {}});
      open = &out.back();
    } else if (!open || t.rfind("--", 0) == 0) {
      continue;
    } else if (t.empty()) {
      flush();
    } else {
      current += current.empty() ? line : "\n" + line;
    }
  }
  return out;
}

std::vector<Snippet> all_snippets() {
  std::vector<Snippet> out;
  for (const char* file : {"examples.sql", "reference.sql"}) {
    for (Snippet& s : read_snippets(file)) out.push_back(std::move(s));
  }
  return out;
}

std::map<std::string, std::string> read_exceptions(std::vector<std::string>& problems) {
  std::ifstream in(std::string(CASTOR_SOURCE_DIR) + "/tests/unit/query/sample_exceptions.txt");
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (trim_left(line).empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string file, name, reason;
    fields >> file >> name;
    std::getline(fields, reason);
    if (name.empty() || name.back() != ':' || trim_left(reason).empty()) {
      problems.push_back("bad line in sample_exceptions.txt: " + line);
      continue;
    }
    out[file + " " + name.substr(0, name.size() - 1)] = trim_left(reason);
  }
  return out;
}

}  // namespace castor::query::testing
