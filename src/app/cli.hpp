// The castor command line: one binary, subcommands registered per family (cmd_*.cpp).
// A subcommand's callback stores its exit code; main returns it. Exit codes: 0 success,
// 1 the operation found a problem (e.g. invalid models), 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace castor::app {

struct CliContext {
  int exit_code = 0;
};

// Each family adds its subcommands to the root app.
void add_models_commands(CLI::App& root, CliContext& ctx);
void add_serve_command(CLI::App& root, CliContext& ctx);   // cmd_serve.cpp
void add_token_commands(CLI::App& root, CliContext& ctx);  // cmd_token.cpp
void add_twins_commands(CLI::App& root, CliContext& ctx);  // cmd_twins.cpp
void add_import_command(CLI::App& root, CliContext& ctx);  // cmd_import.cpp
// castor export history, castor import history (after add_import_command): cmd_history.cpp
void add_history_archive_commands(CLI::App& root, CliContext& ctx);
void add_query_command(CLI::App& root, CliContext& ctx);   // cmd_query.cpp
void add_sim_commands(CLI::App& root, CliContext& ctx);    // cmd_sim.cpp
void add_demo_command(CLI::App& root, CliContext& ctx);    // cmd_demo.cpp

}  // namespace castor::app
