#include "runtime/cli/vm_command.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/vm_options.h"

namespace shelter::cli {
namespace {

// The VMM process lives in its own executable beside this one, linked with
// the VMM alone: a VM's process then maps none of the crypto, archive and
// HTTP libraries the rest of the CLI needs (docs/vmm.md).
constexpr const char* kVmmExecutable = "shelter-vmm";

[[noreturn]] int exec_vmm(const VmOptions& options) {
  std::filesystem::path vmm = executable_directory() / kVmmExecutable;
  std::vector<std::string> args{vmm.string(), "--log-level", current_log_level()};
  for (std::string& arg : options.arguments()) args.push_back(std::move(arg));
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(vmm.c_str(), argv.data());
  throw SystemError("cannot run the VMM " + vmm.string(), errno);
}

}  // namespace

void add_vm_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<VmOptions>();
  CLI::App* vm = app.add_subcommand("vm", kVmDescription);
  add_vm_options(*vm, *options);
  commands.push_back(Command{vm, [options] { return exec_vmm(*options); }, kExitFailure});
}

}  // namespace shelter::cli
