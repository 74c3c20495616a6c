#pragma once
// Runs a command line through /bin/sh for CLI tests: its exit status and what
// it wrote to stdout and stderr, kept apart.
#include <string>

namespace shelter::testing {

struct CommandResult {
  int status = -1;  // exit status, or 128+N when killed by signal N
  std::string out;
  std::string err;
};

CommandResult run_command(const std::string& command_line);

}  // namespace shelter::testing
