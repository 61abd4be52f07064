// castor models validate | conformance: the DTDL engine at the terminal; and castor models
// add | list | get | delete | decommission: the models of a running server, over its ADT API.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iomanip>
#include <sstream>
#include <unistd.h>

#include "app/cli.hpp"
#include "app/cmd_client.hpp"
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

// ---- client subcommands: the models of a running server ----

struct ModelArgs {
  std::vector<std::string> paths;  // add
  std::string id;                  // get, delete, decommission
  bool definitions = false;        // list --definitions, get --definition
};

std::string model_path(const std::string& id) {
  return "models/" + encode(id);
}

// Every DTDL document in the files: a file holds one Interface or an array of them.
Result<json::array> load_model_set(const std::vector<fs::path>& files) {
  json::array models;
  for (const auto& f : files) {
    auto doc = read_json_input(f.string());
    if (!doc) return doc.status();
    if (doc->is_array()) {
      for (auto& m : doc->get_array()) models.push_back(std::move(m));
    } else if (doc->is_object()) {
      models.push_back(std::move(*doc));
    } else {
      return invalid_argument("'" + f.string() + "' holds neither a DTDL Interface nor an array");
    }
  }
  return models;
}

std::string text_field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f ? cell_text(*f) : "";
}

// A display name or description: a string, or a language map shown in English when it has it.
std::string localized_field(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  const auto* map = f ? f->if_object() : nullptr;
  if (map && !map->empty()) {
    const auto* en = map->if_contains("en");
    return cell_text(en ? *en : map->begin()->value());
  }
  return f ? cell_text(*f) : "";
}

int add_models(Session& s, const ModelArgs& a) {
  std::vector<fs::path> files;
  if (!collect_files(a.paths, files)) return kExitUsage;
  if (files.empty()) return s.usage("no model files to upload");
  auto models = load_model_set(files);
  if (!models) return s.usage(models.status().message());
  auto r = s.call(api::Method::post, "models", json::serialize(*models));
  if (!r) return s.fail(r.status());
  if (!r->ok()) {
    s.fail(*r);
    for (const auto& m : *models) std::cout << "not added  " << text_field(m, "@id") << "\n";
    std::cerr << "No model was added: a model set is added whole or not at all.\n";
    return kExitFailed;
  }
  if (s.json()) {
    std::cout << r->body << "\n";
    return kExitOk;
  }
  const auto* added = r->json.if_array();
  for (const auto& m : added ? *added : json::array{})
    std::cout << "added  " << text_field(m, "id") << "\n";
  std::cerr << (added ? added->size() : 0) << " model(s) added from " << files.size()
            << " file(s).\n";
  return kExitOk;
}

int list_models(Session& s, const ModelArgs& a) {
  int code = kExitOk;
  auto items =
      get_all_pages(s, a.definitions ? "models?includeModelDefinition=true" : "models", code);
  if (!items) return code;
  if (s.json()) {
    std::cout << json::serialize(*items) << "\n";
  } else if (a.definitions) {
    json::array defs;
    for (const auto& m : *items)
      if (const auto* d = m.is_object() ? m.get_object().if_contains("model") : nullptr)
        defs.push_back(*d);
    std::cout << pretty_json(defs) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : *items) {
      const auto* gone = m.is_object() ? m.get_object().if_contains("decommissioned") : nullptr;
      rows.push_back({text_field(m, "id"), text_field(m, "uploadTime"),
                      gone && gone->is_bool() && gone->get_bool() ? "yes" : "",
                      localized_field(m, "displayName")});
    }
    print_table(std::cout, {"ID", "UPLOADED", "DECOMMISSIONED", "DISPLAY NAME"}, rows);
    std::cerr << rows.size() << " model(s)\n";
  }
  return kExitOk;
}

int get_model(Session& s, const ModelArgs& a) {
  auto r = s.call(api::Method::get,
                  model_path(a.id) + (a.definitions ? "?includeModelDefinition=true" : ""));
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (s.json()) {
    std::cout << r->body << "\n";
    return kExitOk;
  }
  for (const char* key : {"id", "displayName", "description", "uploadTime", "decommissioned"}) {
    std::string v = localized_field(r->json, key);
    if (!v.empty()) std::printf("%-15s %s\n", (std::string(key) + ":").c_str(), v.c_str());
  }
  const auto* o = r->json.if_object();
  if (const auto* def = o ? o->if_contains("model") : nullptr)
    std::cout << pretty_json(*def) << "\n";
  return kExitOk;
}

int delete_model(Session& s, const ModelArgs& a) {
  auto r = s.call(api::Method::delete_, model_path(a.id));
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (!s.json()) std::cout << "Model '" << a.id << "' deleted.\n";
  return kExitOk;
}

int decommission_model(Session& s, const ModelArgs& a) {
  json::array patch{json::object{{"op", "replace"}, {"path", "/decommissioned"}, {"value", true}}};
  auto r = s.call(api::Method::patch, model_path(a.id), json::serialize(patch),
                  "application/json-patch+json");
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (!s.json())
    std::cout << "Model '" << a.id << "' decommissioned: no new twins of it; existing ones stay.\n";
  return kExitOk;
}

using ModelRun = int (*)(Session&, const ModelArgs&);

CLI::App* add_client(CLI::App& models, CliContext& ctx, const char* name, const char* help,
                     const char* example, ModelRun run, std::shared_ptr<ModelArgs>& args) {
  args = std::make_shared<ModelArgs>();
  auto options = std::make_shared<ClientOptions>();
  CLI::App* cmd = models.add_subcommand(name, help);
  add_client_options(*cmd, *options, example);
  cmd->callback(client_callback(options, ctx, std::string("castor models ") + name,
                                [args, run](Session& s) { return run(s, *args); }));
  return cmd;
}

void add_client_commands(CLI::App& models, CliContext& ctx) {
  std::shared_ptr<ModelArgs> a;
  CLI::App* cmd = add_client(
      models, ctx, "add",
      "Upload DTDL models (files, or folders of *.json) to a running server as one set: all "
      "are added or none.",
      "castor models add examples/factory/models --data ./castor-data", add_models, a);
  cmd->add_option("paths", a->paths, "Model files (*.json) or folders of them")->required();
  cmd = add_client(models, ctx, "list", "List the server's models.",
                   "castor models list --url https://twins.example:8443/", list_models, a);
  cmd->add_flag("--definitions", a->definitions, "Print the DTDL definitions instead of a table");
  cmd = add_client(models, ctx, "get", "Show one model of the server.",
                   "castor models get 'dtmi:factory:Robot;1' --definition", get_model, a);
  cmd->add_option("id", a->id, "The model's DTMI")->required();
  cmd->add_flag("--definition", a->definitions, "Also print its DTDL definition");
  cmd = add_client(models, ctx, "delete",
                   "Delete a model (no other model may extend or reference it).",
                   "castor models delete 'dtmi:factory:Robot;1'", delete_model, a);
  cmd->add_option("id", a->id, "The model's DTMI")->required();
  cmd = add_client(models, ctx, "decommission",
                   "Decommission a model: existing twins keep it, new twins cannot use it.",
                   "castor models decommission 'dtmi:factory:Robot;1'", decommission_model, a);
  cmd->add_option("id", a->id, "The model's DTMI")->required();
}

}  // namespace

void add_models_commands(CLI::App& root, CliContext& ctx) {
  auto* models = root.add_subcommand(
      "models",
      "Work with DTDL models: validate and conformance offline; add, list, get, delete and "
      "decommission on a running server");
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
  add_client_commands(*models, ctx);
}

}  // namespace castor::app
