// Runs the DTDL reference parser's specification test cases (one JSON file per case family,
// named ...V2.json/V3.json/V4.json) against Castor's parser and tallies passes per version.
// Reads files only; never modifies the case folder.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace castor::model {

struct ConformanceTally {
  int passed = 0;
  int total = 0;
};

struct ConformanceFailure {
  std::string file;
  std::size_t index = 0;  // case index within the file
  bool expected_valid = false;
  std::string detail;     // what Castor said
};

struct ConformanceCase {
  std::string file;
  std::size_t index = 0;
  bool expected_valid = false;
  bool passed = false;
  std::string first_error;  // Castor's first error, when it rejected the model set
};

struct ConformanceReport {
  std::map<std::string, ConformanceTally> by_version;  // "V2", "V3", "V4"
  std::vector<ConformanceFailure> failures;
  std::vector<ConformanceCase> cases;  // every case, when requested
};

// Runs every *.json case file under `dir`. `progress(done, total)` is called per file.
Result<ConformanceReport> run_conformance(
    const std::filesystem::path& dir,
    const std::function<void(std::size_t, std::size_t)>& progress = {}, bool keep_cases = false);

}  // namespace castor::model
