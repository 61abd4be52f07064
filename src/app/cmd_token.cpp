// `castor token create|list|revoke`: manages the API's bearer tokens in DATA/tokens.json. The new
// token is the only thing `create` writes to stdout (so scripts can capture it); it is shown once
// and never stored in clear. A running server picks up changes within a second. DATA is found
// as `castor serve` finds it (--data, CASTOR_DATA, the --config file's data key, default).
#include <functional>
#include <iostream>
#include <memory>

#include "api/files.hpp"
#include "api/token_store.hpp"
#include "app/cli.hpp"
#include "common/config.hpp"
#include "common/json.hpp"

namespace castor::app {
namespace {

struct TokenArgs {
  std::string data;  // resolved like serve's: --data > CASTOR_DATA > --config file > default
  std::string config;
  CLI::Option* data_option = nullptr;
  CLI::Option* config_option = nullptr;
  std::string role;
  std::string name;
  std::vector<std::string> twins;
  std::string id;
  bool json = false;
};

int fail(std::string_view what, const Status& s, int code = 1) {
  std::cerr << "castor token " << what << ": " << s.message() << "\n";
  return code;
}

// Finds the data directory exactly as `castor serve` would, so both agree on DATA.
Status resolve_data(TokenArgs& a) {
  ConfigSources sources;
  if (a.data_option->count() > 0) sources.flags["data"] = a.data;
  if (a.config_option->count() > 0) sources.flags["config"] = a.config;
  auto config = load_config(sources);
  if (!config) return config.status();
  a.data = config->data_dir;
  return Status::ok();
}

int create(const TokenArgs& a) {
  auto role = api::parse_role(a.role);
  if (!role) {
    return fail(
        "create",
        invalid_argument("unknown role '" + a.role + "'; use admin, operator, viewer or device."),
        2);
  }
  if (Status s = api::ensure_directory(a.data, 0700); !s) return fail("create", s);
  api::TokenStore store(api::TokenStore::path_in(a.data));
  auto created = store.create(a.name, *role, a.twins);
  if (!created) {
    return fail("create", created.status(),
                created.status().code() == Code::invalid_argument ? 2 : 1);
  }
  const auto& r = created->record;
  std::cout << created->token << std::endl;
  std::cerr << "Created token '" << r.name << "' (id " << r.id << ", role "
            << api::role_name(r.role) << "). Store it now: it is shown only once.\n"
            << "Use it as: curl -H 'Authorization: Bearer <token>' --cacert " << a.data
            << "/tls/ca.pem https://127.0.0.1:8443/...\n";
  return 0;
}

std::string twins_text(const api::TokenRecord& r) {
  std::string out;
  for (const auto& t : r.twins) out += (out.empty() ? "" : ",") + t;
  return out.empty() ? "-" : out;
}

int list(const TokenArgs& a) {
  api::TokenStore store(api::TokenStore::path_in(a.data));
  if (Status s = store.load(); !s) return fail("list", s);
  auto records = store.list();
  if (a.json) {
    json::array out;
    for (const auto& r : records) {
      json::array twins;
      for (const auto& t : r.twins) twins.emplace_back(t);
      out.push_back(json::object{{"id", r.id},
                                 {"name", r.name},
                                 {"role", api::role_name(r.role)},
                                 {"twins", std::move(twins)},
                                 {"created", r.created}});
    }
    std::cout << json::serialize(out) << "\n";
    return 0;
  }
  if (records.empty()) {
    std::cerr << "No tokens in " << a.data << ". Create one with 'castor token create --data "
              << a.data << " --role admin'.\n";
    return 0;
  }
  std::printf("%-12s  %-24s  %-8s  %-24s  %s\n", "ID", "NAME", "ROLE", "CREATED", "TWINS");
  for (const auto& r : records) {
    std::printf("%-12s  %-24s  %-8s  %-24s  %s\n", r.id.c_str(), r.name.c_str(),
                std::string(api::role_name(r.role)).c_str(), r.created.c_str(),
                twins_text(r).c_str());
  }
  return 0;
}

int revoke(const TokenArgs& a) {
  api::TokenStore store(api::TokenStore::path_in(a.data));
  auto removed = store.revoke(a.id);
  if (!removed) return fail("revoke", removed.status());
  std::cout << "Revoked token '" << removed->name << "' (id " << removed->id
            << "). Running servers refuse it within a second.\n";
  return 0;
}

void add_data_options(CLI::App& cmd, TokenArgs& args) {
  args.data_option = cmd.add_option(
      "--data", args.data, "Data directory of the server [env CASTOR_DATA, default castor-data]");
  args.config_option = cmd.add_option("--config", args.config,
                                      "The server's TOML config file, for its data key "
                                      "[env CASTOR_CONFIG]");
}

// Runs `fn` with the data directory resolved; configuration errors exit 2.
template <class Fn>
std::function<void()> with_data(std::shared_ptr<TokenArgs> args, CliContext& ctx,
                                std::string_view what, Fn fn) {
  return [args, &ctx, what, fn] {
    if (Status s = resolve_data(*args); !s) {
      ctx.exit_code = fail(what, s, 2);
      return;
    }
    ctx.exit_code = fn(*args);
  };
}

}  // namespace

void add_token_commands(CLI::App& root, CliContext& ctx) {
  CLI::App* token = root.add_subcommand(
      "token", "Create, list and revoke API bearer tokens (stored hashed in DATA/tokens.json).");
  token->require_subcommand(1);

  CLI::App* c = token->add_subcommand(
      "create",
      "Create a token and print it once on stdout. Roles: admin (everything), operator "
      "(twins, relationships, commands), viewer (read), device (ingest for its twins).");
  auto args = std::make_shared<TokenArgs>();
  add_data_options(*c, *args);
  c->add_option("--role", args->role, "admin, operator, viewer or device")->required();
  c->add_option("--name", args->name, "Unique name shown in logs and the audit log");
  c->add_option("--twins", args->twins,
                "Device tokens: twin ids it may write; an entry ending in '*' is a prefix");
  c->callback(with_data(args, ctx, "create", create));

  CLI::App* l = token->add_subcommand("list", "List tokens (never their secrets).");
  auto list_args = std::make_shared<TokenArgs>();
  add_data_options(*l, *list_args);
  l->add_flag("--json", list_args->json, "Print a JSON array instead of a table");
  l->callback(with_data(list_args, ctx, "list", list));

  CLI::App* r = token->add_subcommand("revoke", "Revoke a token by id or name.");
  auto revoke_args = std::make_shared<TokenArgs>();
  add_data_options(*r, *revoke_args);
  r->add_option("token", revoke_args->id, "Token id (from 'castor token list') or name")
      ->required();
  r->callback(with_data(revoke_args, ctx, "revoke", revoke));
}

}  // namespace castor::app
