#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter verify-image IMG`: every block against the root hash; 0 when all match.
void add_verify_image_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
