#include "case_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TestCase read_case(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  TestCase tc;
  tc.name = std::filesystem::path(path).stem().string();
  CaseSection* current = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("--- ", 0) != 0) {
      if (current) current->body += line + "\n";
      continue;
    }
    auto w = words(line.substr(4));
    if (w.empty()) throw std::runtime_error(path + ": empty section header");
    if (w[0] == "options") {
      for (std::size_t i = 1; i < w.size(); ++i)
        if (w[i] == "allow-undefined-extensions") tc.undefined_extensions = "allow";
        else if (w[i] == "disallow-undefined-extensions") tc.undefined_extensions = "disallow";
        else throw std::runtime_error(path + ": unknown option " + w[i]);
      current = nullptr;
    } else if (w[0] == "expect") {
      if (w.size() < 2) throw std::runtime_error(path + ": 'expect' needs a verdict");
      if (!tc.expect.empty()) throw std::runtime_error(path + ": one expectation per case");
      tc.expect = w[1];
      tc.expect_args.assign(w.begin() + 2, w.end());
      current = nullptr;
    } else {
      tc.sections.push_back({w[0], {w.begin() + 1, w.end()}, ""});
      current = &tc.sections.back();
    }
  }
  if (tc.expect.empty()) throw std::runtime_error(path + ": no '--- expect' line");
  return tc;
}
