// castor twins get|put|patch|set|delete|list: digital twins of a running server, over its ADT API.
#include <iostream>

#include "app/cli.hpp"
#include "app/cmd_client.hpp"

namespace castor::app {
namespace {

struct TwinArgs {
  std::string id;
  std::string file;                      // put, patch: FILE or -
  std::string model;                     // put --model, list --model
  std::vector<std::string> assignments;  // put --set, set NAME=VALUE...
  std::vector<std::string> removals;     // set --remove
  std::string if_match;                  // patch, set, delete
  bool create_only = false;              // put
};

std::string twin_path(const std::string& id) {
  return "digitaltwins/" + encode(id);
}

api::Headers if_match(const TwinArgs& a) {
  api::Headers h;
  if (!a.if_match.empty()) h.set("If-Match", a.if_match);
  return h;
}

std::string etag_of(const AdtResponse& r) {
  return std::string(r.headers.get("ETag").value_or(""));
}

int get(Session& s, const TwinArgs& a) {
  auto r = s.call(api::Method::get, twin_path(a.id));
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  std::cout << (s.json() ? r->body : pretty_json(r->json)) << "\n";
  return kExitOk;
}

// The twin document of `put`: FILE, or a skeleton of --model; then --model and --set applied.
Result<json::value> twin_document(const TwinArgs& a) {
  json::value doc = json::object{};
  if (!a.file.empty()) {
    auto read = read_json_input(a.file);
    if (!read) return read.status();
    doc = std::move(*read);
    if (!doc.is_object()) return invalid_argument("a twin must be a JSON object");
  }
  auto& o = doc.get_object();
  if (!a.model.empty()) {
    auto* meta = o.if_contains("$metadata");
    if (!meta || !meta->is_object()) meta = &(o["$metadata"] = json::object{});
    meta->get_object()["$model"] = a.model;
  }
  for (const auto& text : a.assignments) {
    auto set = parse_assignment(text);
    if (!set) return set.status();
    if (set->name.find('/') != std::string::npos)
      return invalid_argument("--set " + set->name +
                              ": put takes top-level names; give a component as a JSON object "
                              "(comp='{\"$metadata\":{},\"x\":1}') or use a FILE");
    o[set->name] = std::move(set->value);
  }
  return doc;
}

int put(Session& s, const TwinArgs& a) {
  if (a.file.empty() && a.model.empty())
    return s.usage("give the twin as FILE (or - for stdin), or its model with --model DTMI");
  auto doc = twin_document(a);
  if (!doc) return s.usage(doc.status().message());
  api::Headers h;
  if (a.create_only) h.set("If-None-Match", "*");
  auto r = s.call(api::Method::put, twin_path(a.id), json::serialize(*doc), "application/json", h);
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (s.json()) {
    std::cout << r->body << "\n";
  } else {
    std::cout << "Twin '" << a.id << "' written (ETag " << etag_of(*r) << ").\n";
  }
  return kExitOk;
}

int send_patch(Session& s, const TwinArgs& a, const json::value& patch) {
  auto r = s.call(api::Method::patch, twin_path(a.id), json::serialize(patch),
                  "application/json-patch+json", if_match(a));
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (s.json()) {
    std::cout << json::serialize(json::object{{"$dtId", a.id}, {"$etag", etag_of(*r)}}) << "\n";
  } else {
    std::cout << "Twin '" << a.id << "' updated (ETag " << etag_of(*r) << ").\n";
  }
  return kExitOk;
}

int patch(Session& s, const TwinArgs& a) {
  auto doc = read_json_input(a.file);
  if (!doc) return s.usage(doc.status().message());
  if (!doc->is_array())
    return s.usage(
        "a JSON Patch is an array of operations, e.g. "
        "[{\"op\":\"replace\",\"path\":\"/temperature\",\"value\":21.5}]");
  return send_patch(s, a, *doc);
}

// NAME=VALUE adds or replaces /NAME (a/b for a component's property); --remove NAME removes it.
int set(Session& s, const TwinArgs& a) {
  if (a.assignments.empty() && a.removals.empty())
    return s.usage("give at least one name=value (or --remove NAME)");
  json::array ops;
  auto pointer = [](const std::string& name) { return name.front() == '/' ? name : "/" + name; };
  for (const auto& text : a.assignments) {
    auto assignment = parse_assignment(text);
    if (!assignment) return s.usage(assignment.status().message());
    ops.push_back(json::object{{"op", "add"},
                               {"path", pointer(assignment->name)},
                               {"value", std::move(assignment->value)}});
  }
  for (const auto& name : a.removals) {
    if (name.empty()) return s.usage("--remove needs a property name");
    ops.push_back(json::object{{"op", "remove"}, {"path", pointer(name)}});
  }
  return send_patch(s, a, ops);
}

int remove(Session& s, const TwinArgs& a) {
  auto r = s.call(api::Method::delete_, twin_path(a.id), {}, "application/json", if_match(a));
  if (!r) return s.fail(r.status());
  if (!r->ok()) return s.fail(*r);
  if (!s.json()) std::cout << "Twin '" << a.id << "' deleted.\n";
  return kExitOk;
}

std::string model_of(const json::value& twin) {
  const auto* o = twin.if_object();
  const auto* meta = o ? o->if_contains("$metadata") : nullptr;
  const auto* model =
      meta && meta->is_object() ? meta->get_object().if_contains("$model") : nullptr;
  return model ? cell_text(*model) : "";
}

int list(Session& s, const TwinArgs& a) {
  if (a.model.find('\'') != std::string::npos) return s.usage("--model: a DTMI has no quotes");
  std::string query = "SELECT * FROM DIGITALTWINS";
  if (!a.model.empty()) query += " WHERE IS_OF_MODEL('" + a.model + "')";
  QueryOutcome out = run_query(s, query);
  if (out.no_endpoint) return report_no_query_endpoint(s, out, "listing twins");
  if (out.exit_code != kExitOk) return out.exit_code;
  if (s.json()) {
    std::cout << json::serialize(out.rows) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& twin : out.rows) {
    const auto* o = twin.if_object();
    const auto* id = o ? o->if_contains("$dtId") : nullptr;
    const auto* etag = o ? o->if_contains("$etag") : nullptr;
    rows.push_back({id ? cell_text(*id) : "", model_of(twin), etag ? cell_text(*etag) : ""});
  }
  print_table(std::cout, {"ID", "MODEL", "ETAG"}, rows);
  std::cerr << rows.size() << " twin(s)\n";
  return kExitOk;
}

using Run = int (*)(Session&, const TwinArgs&);

// A `twins` subcommand with the common client options and the twin id argument (unless `list`).
std::shared_ptr<TwinArgs> add(CLI::App& twins, CliContext& ctx, const char* name, const char* help,
                              const char* example, Run run, CLI::App** out) {
  auto args = std::make_shared<TwinArgs>();
  auto options = std::make_shared<ClientOptions>();
  CLI::App* cmd = twins.add_subcommand(name, help);
  if (std::string_view(name) != "list")
    cmd->add_option("id", args->id, "The twin's $dtId")->required();
  add_client_options(*cmd, *options, example);
  cmd->callback(client_callback(options, ctx, std::string("castor twins ") + name,
                                [args, run](Session& s) { return run(s, *args); }));
  *out = cmd;
  return args;
}

}  // namespace

void add_twins_commands(CLI::App& root, CliContext& ctx) {
  CLI::App* twins = root.add_subcommand(
      "twins", "Read and change digital twins of a running castor server (ADT API)");
  twins->require_subcommand(1);
  CLI::App* cmd = nullptr;

  add(*twins, ctx, "get", "Print a twin as JSON.", "castor twins get robot-1 --data ./castor-data",
      get, &cmd);

  auto put_args =
      add(*twins, ctx, "put",
          "Create or replace a twin from a JSON document (FILE, or - for stdin), or "
          "build one with --model and --set.",
          "castor twins put robot-1 --model 'dtmi:factory:Robot;1' --set serial=R-17", put, &cmd);
  cmd->add_option("file", put_args->file, "JSON twin document, or - for stdin");
  cmd->add_option("--model", put_args->model, "Model of the twin (sets $metadata.$model)");
  cmd->add_option("--set", put_args->assignments,
                  "name=value property (value as JSON when it parses, else a string); repeatable");
  cmd->add_flag("--create-only", put_args->create_only,
                "Fail with 412 if the twin exists (If-None-Match: *)");

  auto patch_args = add(*twins, ctx, "patch", "Update a twin with a JSON Patch (RFC 6902).",
                        "echo '[{\"op\":\"replace\",\"path\":\"/speed\",\"value\":2}]' | "
                        "castor twins patch robot-1 -",
                        patch, &cmd);
  cmd->add_option("file", patch_args->file, "JSON Patch document, or - for stdin")->required();
  cmd->add_option("--if-match", patch_args->if_match, "Apply only if the twin has this ETag");

  auto set_args = add(*twins, ctx, "set",
                      "Set (or --remove) properties of a twin: a JSON Patch built from "
                      "name=value pairs; comp/name addresses a component's property.",
                      "castor twins set robot-1 speed=2.5 mode=auto arm/payload=3", set, &cmd);
  cmd->add_option("assignments", set_args->assignments,
                  "name=value (value as JSON when it parses, else a string)");
  cmd->add_option("--remove", set_args->removals, "Property to remove; repeatable");
  cmd->add_option("--if-match", set_args->if_match, "Apply only if the twin has this ETag");

  auto delete_args =
      add(*twins, ctx, "delete", "Delete a twin (its relationships must be deleted first).",
          "castor twins delete robot-1", remove, &cmd);
  cmd->add_option("--if-match", delete_args->if_match, "Delete only if the twin has this ETag");

  auto list_args = add(*twins, ctx, "list",
                       "List twins, optionally of one model (and models extending it); uses the "
                       "query endpoint.",
                       "castor twins list --model 'dtmi:factory:Robot;1'", list, &cmd);
  cmd->add_option("--model", list_args->model, "Only twins of this model (IS_OF_MODEL)");
}

}  // namespace castor::app
