#include "exec_case_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace castor::query::testing {
namespace {

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r") == std::string::npos;
}

// The words after "query" or "sample"; false on anything it does not know.
bool parse_options(std::istringstream& in, ExecCase& c) {
  for (std::string word; in >> word;) {
    if (word == "ordered") {
      c.ordered = true;
    } else if (word == "page") {
      if (!(in >> c.page) || c.page == 0) return false;
    } else if (word == "count") {
      c.expect = ExecCase::Expect::count;
      if (!(in >> c.count)) return false;
    } else if (word.size() > 1 && word[0] == '#') {
      c.statement = std::stoul(word.substr(1));
    } else {
      return false;
    }
  }
  return true;
}

bool parse_header(const std::string& line, ExecCase& c) {
  std::istringstream in(line);
  std::string word;
  in >> word;
  if (word == "sample") {
    std::string file, name;
    if (!(in >> file >> name)) return false;
    c.sample = file + " " + name;
    return parse_options(in, c);
  }
  if (word != "query") return false;
  std::string kind;
  in >> kind;
  if (kind == "rows") return parse_options(in, c);
  if (kind == "count") {
    c.expect = ExecCase::Expect::count;
    std::string rest;
    return static_cast<bool>(in >> c.count) && !(in >> rest);
  }
  if (kind != "error") return false;
  c.expect = ExecCase::Expect::error;
  if (!(in >> c.code)) return false;
  in >> c.position;
  return true;
}

}  // namespace

ExecFile read_exec_file(const std::string& path, std::vector<std::string>& problems) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  ExecFile out{path, {}, {}};
  const std::string name = std::filesystem::path(path).filename().string();
  auto problem = [&](std::size_t i, const std::string& what) {
    problems.push_back(name + ":" + std::to_string(i + 1) + ": " + what);
  };
  std::size_t i = 0;
  while (i < lines.size()) {
    if (blank(lines[i]) || lines[i][0] == '#') {
      ++i;
      continue;
    }
    if (lines[i].rfind("graph ", 0) == 0) {
      out.graph = lines[i++].substr(6);
      continue;
    }
    ExecCase c;
    c.file = name;
    c.line = static_cast<int>(i + 1);
    if (!parse_header(lines[i], c)) return problem(i, "bad record header: " + lines[i]), out;
    const std::size_t start = ++i;
    while (i < lines.size() && !blank(lines[i]) && lines[i] != "----") {
      c.query += (i > start ? "\n" : "") + lines[i];
      ++i;
    }
    if (c.sample.empty() == c.query.empty())
      return problem(start, "a query, or a sample without one"), out;
    if (c.expect != ExecCase::Expect::count) {
      if (i >= lines.size() || lines[i] != "----") return problem(i, "expected '----'"), out;
      for (++i; i < lines.size() && !blank(lines[i]); ++i) {
        if (c.expect == ExecCase::Expect::error)
          c.fragment += lines[i];
        else if (lines[i] != "(none)")
          c.rows.push_back(lines[i]);
      }
    }
    out.cases.push_back(std::move(c));
  }
  if (out.graph.empty()) problems.push_back(name + ": no 'graph <name>' line");
  return out;
}

std::vector<std::string> exec_files() {
  std::vector<std::string> files;
  const std::filesystem::path dir =
      std::filesystem::path(CASTOR_SOURCE_DIR) / "tests/unit/query/exec";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".test") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace castor::query::testing
