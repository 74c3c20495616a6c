#pragma once
#include "runtime/cli/command.h"

namespace shelter::cli {

// `shelter build SRC -o IMG [--entrypoint CMD] [--env K=V]... [--workdir DIR]
//  [--encrypt [--key-file F]] [--add-binary PATH]... [--force]`
void add_build_command(CLI::App& app, Commands& commands);

}  // namespace shelter::cli
