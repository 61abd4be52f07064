#include "app/cli.hpp"

namespace castor::app {
void add_models_commands(CLI::App&, CliContext&) {}
}  // namespace castor::app
