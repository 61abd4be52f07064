#include "case_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace castor::query::testing {
namespace {

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r") == std::string::npos;
}

std::string join_lines(const std::vector<std::string>& lines, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) out += '\n';
    out += lines[i];
  }
  return out;
}

bool parse_header(const std::string& line, Case& c) {
  std::istringstream in(line);
  std::string word, kind;
  in >> word >> kind;
  if (word != "query") return false;
  if (kind == "ok")
    c.expect = Case::Expect::canonical_print;
  else if (kind == "canonical")
    c.expect = Case::Expect::same_print;
  else if (kind == "error")
    c.expect = Case::Expect::error;
  else
    return false;
  if (c.expect == Case::Expect::error && !(in >> c.position)) return false;
  std::string rest;
  return !(in >> rest);
}

}  // namespace

std::vector<Case> read_case_file(const std::string& path, std::vector<std::string>& problems) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  if (lines.empty()) problems.push_back(path + ": missing or empty");
  const std::string name = std::filesystem::path(path).filename().string();
  std::vector<Case> cases;
  std::size_t i = 0;
  while (i < lines.size()) {
    if (blank(lines[i]) || lines[i][0] == '#') {
      ++i;
      continue;
    }
    Case c;
    c.file = name;
    c.line = static_cast<int>(i + 1);
    if (!parse_header(lines[i], c)) {
      problems.push_back(name + ":" + std::to_string(c.line) + ": bad record header: " + lines[i]);
      return cases;
    }
    const std::size_t start = ++i;
    while (i < lines.size() && !blank(lines[i]) && lines[i] != "----") ++i;
    c.query = join_lines(lines, start, i);
    if (c.expect != Case::Expect::same_print) {
      if (i >= lines.size() || lines[i] != "----") {
        problems.push_back(name + ":" + std::to_string(c.line) +
                           ": expected '----' after the query");
        return cases;
      }
      const std::size_t from = ++i;
      while (i < lines.size() && !blank(lines[i])) ++i;
      c.expected = join_lines(lines, from, i);
    }
    if (c.query.empty() || (c.expect != Case::Expect::same_print && c.expected.empty())) {
      problems.push_back(name + ":" + std::to_string(c.line) + ": empty query or expectation");
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  const std::filesystem::path dir =
      std::filesystem::path(CASTOR_SOURCE_DIR) / "tests/unit/query/cases";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace castor::query::testing
