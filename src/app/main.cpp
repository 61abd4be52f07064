// castor: the single binary. Parses the command line and dispatches to a subcommand family.
#include <iostream>

#include "app/cli.hpp"
#include "app/version.hpp"

int main(int argc, char** argv) {
  CLI::App root{
      "Castor — a self-hosted digital twin engine.\n"
      "DTDL models, a live twin graph with history, an Azure-Digital-Twins-compatible API.\n"
      "Run 'castor <command> --help' for the options of a command.",
      "castor"};
  root.set_version_flag("-V,--version", std::string("castor ") + castor::kVersion);
  root.require_subcommand(1);
  root.fallthrough(false);
  castor::app::CliContext ctx;
  castor::app::add_models_commands(root, ctx);
  castor::app::add_serve_command(root, ctx);
  castor::app::add_token_commands(root, ctx);
  castor::app::add_twins_commands(root, ctx);
  castor::app::add_import_command(root, ctx);
  castor::app::add_history_archive_commands(root, ctx);
  castor::app::add_query_command(root, ctx);
  castor::app::add_sim_commands(root, ctx);
  castor::app::add_demo_command(root, ctx);
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    root.exit(e);
    return 2;
  }
  return ctx.exit_code;
}
