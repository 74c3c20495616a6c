#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter inspect IMG [--json]`
void add_inspect_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
