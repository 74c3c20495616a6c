#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter kbs serve|admin-keygen|add-resource|set-policy|sim-tee`.
void add_kbs_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
