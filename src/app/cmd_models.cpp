// castor models validate | conformance: the DTDL engine at the terminal.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iomanip>
#include <sstream>
#include <unistd.h>

#include "app/cli.hpp"
#include "common/json.hpp"
#include "model/conformance.hpp"
#include "model/model_parser.hpp"

namespace castor::app {
namespace {

namespace fs = std::filesystem;

struct ValidateOptions {
  std::vector<std::string> paths;
  bool allow_undefined_extensions = false;
  bool disallow_undefined_extensions = false;
  bool quiet = false;
};

// Expands files and folders (recursively, *.json) into a sorted list of files.
bool collect_files(const std::vector<std::string>& paths, std::vector<fs::path>& files) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      files.emplace_back(p);
    } else if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") found.push_back(e.path());
      std::sort(found.begin(), found.end());
      if (found.empty()) std::cerr << "castor: no *.json files under '" << p << "'\n";
      files.insert(files.end(), found.begin(), found.end());
    } else {
      std::cerr << "castor: '" << p << "' is neither a file nor a folder; give paths to DTDL "
                   "model files (*.json) or folders that contain them\n";
      return false;
    }
  }
  return true;
}

int run_validate(const ValidateOptions& o) {
  std::vector<fs::path> files;
  if (!collect_files(o.paths, files)) return 2;
  if (files.empty()) {
    std::cerr << "castor: nothing to validate\n";
    return 2;
  }
  std::vector<std::string> texts(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::ifstream in(files[i], std::ios::binary);
    if (!in) {
      std::cerr << "castor: cannot read '" << files[i].string() << "'\n";
      return 2;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    texts[i] = ss.str();
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  model::ParseOptions options;
  if (o.allow_undefined_extensions) options.undefined_extensions = model::UndefinedExtensions::allow;
  if (o.disallow_undefined_extensions) options.undefined_extensions = model::UndefinedExtensions::disallow;
  model::ParseResult r = model::parse_model_set(views, options);
  if (r.ok()) {
    std::size_t interfaces = 0;
    for (const auto& e : r.model.elements)
      if (e.cls == model::Cls::Interface) ++interfaces;
    if (!o.quiet)
      std::cout << "valid: " << files.size() << " file(s), " << interfaces << " interface(s), "
                << r.model.elements.size() << " element(s)\n";
    return 0;
  }
  for (const auto& e : r.diagnostics.errors()) {
    std::cout << files[e.document].string();
    if (!e.path.empty()) std::cout << ": " << e.path;
    std::cout << ": " << e.message;
    if (!e.element_id.empty()) std::cout << " (in " << e.element_id << ")";
    std::cout << " [" << e.validation_id << "]\n";
  }
  if (!r.diagnostics.unresolved().empty()) {
    std::cout << "unresolved references (add the models that define them to the paths):";
    for (const auto& u : r.diagnostics.unresolved()) std::cout << ' ' << u;
    std::cout << '\n';
  }
  std::cout << "invalid: " << r.diagnostics.size() << " error(s)"
            << (r.diagnostics.unresolved().empty() ? "" : ", unresolved references") << '\n';
  return 1;
}

int run_conformance(const std::string& dir, bool as_json, bool list_failures, bool details) {
  bool tty = !as_json && isatty(fileno(stderr));
  auto progress = [&](std::size_t done, std::size_t total) {
    if (tty && (done % 50 == 0 || done == total))
      std::cerr << "\rrunning conformance cases: " << done << "/" << total << " files" << std::flush;
  };
  auto report = model::run_conformance(dir, progress, details);
  if (tty) std::cerr << '\n';
  if (!report) {
    std::cerr << "castor: " << report.status().message() << '\n';
    return 2;
  }
  if (as_json) {
    json::object out;
    for (const auto& [v, t] : report->by_version)
      out[v] = json::object{{"passed", t.passed}, {"total", t.total}};
    std::cout << json::serialize(out) << '\n';
    return 0;
  }
  if (details) {
    for (const auto& c : report->cases)
      std::cout << (c.passed ? "PASS " : "FAIL ") << c.file << " #" << c.index << " expected "
                << (c.expected_valid ? "valid" : "invalid") << (c.first_error.empty() ? "" : ": ")
                << c.first_error << '\n';
  }
  if (list_failures) {
    for (const auto& f : report->failures)
      std::cout << "FAIL " << f.file << " #" << f.index << " (expected "
                << (f.expected_valid ? "valid" : "invalid") << "): " << f.detail << '\n';
  }
  for (const auto& [v, t] : report->by_version) {
    double pct = t.total ? 100.0 * t.passed / t.total : 0;
    std::cout << v << ": " << t.passed << "/" << t.total << " passed (" << std::fixed
              << std::setprecision(2) << pct << "%)\n";
  }
  return 0;
}

}  // namespace

void add_models_commands(CLI::App& root, CliContext& ctx) {
  auto* models = root.add_subcommand("models", "Work with DTDL models (validate, conformance)");
  models->require_subcommand(1);

  auto vo = std::make_shared<ValidateOptions>();
  auto* validate = models->add_subcommand(
      "validate",
      "Parse and validate DTDL v2/v3/v4 model files as one model set.\n"
      "Exit code 0 when valid, 1 when not (errors are listed), 2 on usage errors.");
  validate->add_option("paths", vo->paths, "Model files (*.json) or folders of them")->required();
  auto* allow = validate->add_flag("--allow-undefined-extensions", vo->allow_undefined_extensions,
                                   "Accept @context extensions Castor does not know (default: only in DTDL v2 "
                                   "models, as the specifications recommend)");
  validate->add_flag("--disallow-undefined-extensions", vo->disallow_undefined_extensions,
                     "Reject @context extensions Castor does not know, in every DTDL version")
      ->excludes(allow);
  validate->add_flag("-q,--quiet", vo->quiet, "Print nothing when the models are valid");
  validate->callback([vo, &ctx] { ctx.exit_code = run_validate(*vo); });

  auto dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto failures = std::make_shared<bool>(false);
  auto details = std::make_shared<bool>(false);
  auto* conf = models->add_subcommand(
      "conformance",
      "Run the DTDL reference parser's specification test cases in DIR and print how many\n"
      "pass per DTDL version (e.g. ../shared/conformance/dtdl/specification).");
  conf->add_option("dir", *dir, "Folder of conformance case files")->required();
  conf->add_flag("--json", *as_json,
                 "Print exactly {\"V2\":{\"passed\":N,\"total\":N},\"V3\":...,\"V4\":...}");
  conf->add_flag("--failures", *failures, "List every failing case");
  conf->add_flag("--details", *details, "Print every case with Castor's verdict and first error");
  conf->callback(
      [=, &ctx] { ctx.exit_code = run_conformance(*dir, *as_json, *failures, *details); });
}

}  // namespace castor::app
