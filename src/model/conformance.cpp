#include "model/conformance.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/json.hpp"
#include "model/model_parser.hpp"

namespace castor::model {
namespace {

std::string version_of(const std::filesystem::path& p) {
  std::string stem = p.stem().string();
  if (stem.size() >= 2 && stem[stem.size() - 2] == 'V') return stem.substr(stem.size() - 2);
  return "V?";
}

bool read_file(const std::filesystem::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (out.size() >= 3 && out.compare(0, 3, "\xEF\xBB\xBF") == 0) out.erase(0, 3);  // case files carry a BOM
  return true;
}

// Runs one case; returns true when Castor agrees with the expectation.
bool run_case(const json::object& c, std::string& detail, std::string& first_error) {
  const json::value* valid = c.if_contains("valid");
  const json::value* input = c.if_contains("input");
  if (!valid || !valid->is_bool() || !input || !input->is_array()) {
    detail = "malformed case (needs 'valid' and 'input')";
    return false;
  }
  ParseOptions options;
  options.undefined_extensions = UndefinedExtensions::disallow;
  if (const auto* o = c.if_contains("options"); o && o->is_array())
    for (const auto& opt : o->get_array())
      if (opt.is_string() && opt.get_string() == "AllowUndefinedExtensions")
        options.undefined_extensions = UndefinedExtensions::allow;
  std::vector<json::value> docs(input->get_array().begin(), input->get_array().end());
  ParseResult r = parse_model_values(docs, options);
  bool accepted = r.ok();
  if (!r.diagnostics.errors().empty()) first_error = r.diagnostics.errors().front().to_string();
  else if (!r.diagnostics.unresolved().empty()) first_error = "unresolved " + r.diagnostics.unresolved().front();
  if (accepted != valid->get_bool()) {
    detail = accepted ? "accepted" : r.summary(3);
    return false;
  }
  const json::value* expect = c.if_contains("expect");
  if (expect && expect->is_object()) {
    if (const auto* ids = expect->get_object().if_contains("unresolvedIdentifiers"); ids && ids->is_array()) {
      std::vector<std::string> want;
      for (const auto& v : ids->get_array())
        if (v.is_string()) want.emplace_back(v.get_string());
      std::vector<std::string> got = r.diagnostics.unresolved();
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      if (want != got) {
        detail = "unresolved identifiers differ";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

Result<ConformanceReport> run_conformance(const std::filesystem::path& dir,
                                          const std::function<void(std::size_t, std::size_t)>& progress,
                                          bool keep_cases) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return invalid_argument("'" + dir.string() + "' is not a directory of conformance cases");
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) return invalid_argument("no *.json case files under '" + dir.string() + "'");

  ConformanceReport report;
  for (const std::string v : {"V2", "V3", "V4"}) report.by_version[v];
  for (std::size_t f = 0; f < files.size(); ++f) {
    if (progress) progress(f, files.size());
    std::string text;
    if (!read_file(files[f], text)) return internal_error("cannot read " + files[f].string());
    auto parsed = json::parse(text);
    if (!parsed) return invalid_argument(files[f].string() + ": " + parsed.status().message());
    std::vector<const json::object*> cases;
    if (parsed->is_object()) cases.push_back(&parsed->get_object());
    if (parsed->is_array())
      for (const auto& c : parsed->get_array())
        if (c.is_object()) cases.push_back(&c.get_object());
    ConformanceTally& tally = report.by_version[version_of(files[f])];
    for (std::size_t i = 0; i < cases.size(); ++i) {
      std::string detail, first_error;
      ++tally.total;
      bool passed = run_case(*cases[i], detail, first_error);
      const json::value* valid = cases[i]->if_contains("valid");
      bool expected_valid = valid && valid->is_bool() && valid->get_bool();
      if (keep_cases)
        report.cases.push_back({files[f].filename().string(), i, expected_valid, passed, first_error});
      if (passed) {
        ++tally.passed;
      } else {
        report.failures.push_back({files[f].filename().string(), i, expected_valid, detail});
      }
    }
  }
  if (progress) progress(files.size(), files.size());
  return report;
}

}  // namespace castor::model
