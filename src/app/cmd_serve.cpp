// `castor serve`: loads the configuration, starts the API server and, later, the engine behind
// it; prints "Castor listening on URL" once ready and exits 0 after a graceful SIGTERM/SIGINT.
// Errors in options exit 2, failures to start exit 1.
#include <iostream>
#include <map>
#include <memory>

#include "api/api_server.hpp"
#include "app/cli.hpp"
#include "app/version.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace castor::app {
namespace {

struct ServeFlags {
  std::map<std::string, std::string, std::less<>> values;  // TOML key -> raw text
  std::map<std::string, CLI::Option*> options;
  std::string config_file;
  CLI::Option* config_option = nullptr;
};

// The engine attachment point: every module of the API registers its routes, OpenAPI parts and
// readiness conditions here, before the server starts. The engine (twin core, models, history,
// query) is created in run_serve and passed in when it exists, e.g.:
//   api::register_model_routes(server.router(), engine.models());
//   api::register_twin_routes(server.router(), engine);
//   server.readiness().require("engine");   // engine.on_recovered([&] { satisfy("engine"); })
void register_routes(api::ApiServer& server) {
  (void)server;  // health, metrics and openapi.json are added by ApiServer::start()
}

int run_serve(const ServeFlags& flags) {
  ConfigSources sources;
  sources.flags = flags.values;
  if (flags.config_option->count() > 0) sources.flags["config"] = flags.config_file;
  auto config = load_config(sources);
  if (!config) {
    std::cerr << "castor serve: " << config.status().message() << "\n";
    return 2;
  }
  log::init({*log::parse_level(config->log_level), *log::parse_format(config->log_format)});
  log::info("starting castor",
            {{"version", std::string(kVersion)},
             {"config", config->config_file.empty() ? "(none)" : config->config_file}});
  metrics::Registry registry;
  metrics::ProcessProbe process(registry, kVersion);
  api::ApiServer server(*config, registry, kVersion);
  register_routes(server);
  server.stop_on_signals();
  if (Status s = server.start(); !s) {
    log::error("cannot start", {{"error", s.message()}});
    std::cerr << "castor serve: " << s.message() << "\n";
    return 1;
  }
  std::cout << "Castor listening on " << server.url() << std::endl;
  server.wait();
  return 0;
}

void add_option(CLI::App& cmd, ServeFlags& flags, const OptionInfo& info) {
  std::string key(info.key);
  std::string help(info.help);
  help += " [env " + env_name(key) + ", config key " + key;
  if (!info.default_text.empty()) help += ", default " + std::string(info.default_text);
  help += "]";
  std::string& target = flags.values[key];
  CLI::Option* opt = info.kind == OptionKind::boolean
                         ? cmd.add_flag(flag_name(key), target, help)
                         : cmd.add_option(flag_name(key), target, help);
  flags.options[key] = opt;
}

}  // namespace

void add_serve_command(CLI::App& root, CliContext& ctx) {
  CLI::App* cmd = root.add_subcommand(
      "serve",
      "Serve the Azure-Digital-Twins-compatible API over HTTPS (tokens required) or, with "
      "--insecure-local, plain HTTP on loopback. Every option is also an environment variable "
      "and a key in the --config TOML file; precedence: flag > env > file > default.");
  auto flags = std::make_shared<ServeFlags>();
  for (const OptionInfo& info : config_options()) add_option(*cmd, *flags, info);
  flags->config_option = cmd->add_option(
      "--config", flags->config_file, "TOML file with any of the keys above [env CASTOR_CONFIG]");
  cmd->callback([flags, &ctx] {
    // Only options actually given on the command line take part in the precedence.
    ServeFlags given;
    given.config_file = flags->config_file;
    given.config_option = flags->config_option;
    for (const auto& [key, opt] : flags->options) {
      if (opt->count() > 0) given.values[key] = flags->values.at(key);
    }
    ctx.exit_code = run_serve(given);
  });
}

}  // namespace castor::app
