// shelter: the command users type. It only chooses which executable serves
// the command line and executes it in its own process: `shelter vm` goes
// to shelter-vmm, everything else to shelter-cli, both beside this file.
// It links nothing but libc, libstdc++ and shelter_common (statically), so
// that a VM's process starts and peaks as small as shelter-vmm alone
// (docs/vmm.md).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/file.h"

namespace {

constexpr std::string_view kLogLevel = "--log-level";

}  // namespace

int main(int argc, char** argv) {
  // The global options the CLI takes before a subcommand: only --log-level
  // carries a value that must reach shelter-vmm.
  int first = 1;
  std::string log_level;
  while (first < argc) {
    std::string_view arg = argv[first];
    if (arg == kLogLevel && first + 1 < argc) {
      log_level = argv[first + 1];
      first += 2;
    } else if (arg.starts_with(std::string(kLogLevel) + "=")) {
      log_level = arg.substr(kLogLevel.size() + 1);
      first += 1;
    } else {
      break;
    }
  }
  std::filesystem::path directory;
  try {
    directory = shelter::executable_directory();
  } catch (const shelter::Error& error) {
    std::fprintf(stderr, "shelter: error: %s\n", error.what());
    return 1;
  }
  std::vector<char*> args;
  std::string target;
  std::string log_level_option(kLogLevel);
  if (first < argc && std::string_view(argv[first]) == "vm") {
    target = (directory / "shelter-vmm").string();
    args.push_back(target.data());
    if (!log_level.empty()) {
      args.push_back(log_level_option.data());
      args.push_back(log_level.data());
    }
    args.insert(args.end(), argv + first + 1, argv + argc);
  } else {
    target = (directory / "shelter-cli").string();
    args.assign(argv, argv + argc);
  }
  args.push_back(nullptr);
  ::execv(target.c_str(), args.data());
  std::fprintf(stderr, "shelter: error: cannot run %s: %s\n", target.c_str(), std::strerror(errno));
  return 1;
}
