#pragma once
// How subcommands plug into the shelter CLI: each add_*_command() declares its
// options on a CLI11 subcommand and returns what to run when it was chosen.
#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace shelter::cli {

// Exit statuses of every command but `run` (DESIGN.md, CLI contract).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Command {
  CLI::App* parser;
  std::function<int()> run;
  // Status when run throws: 1 for most commands, 125 for `run`.
  int failure_status = kExitFailure;
};

using Commands = std::vector<Command>;

}  // namespace shelter::cli
