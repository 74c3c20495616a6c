// shelter-vmm: the VMM process, which `shelter vm` executes. It takes the
// command's options and gives its output, errors and exit statuses; it is
// linked with the VMM library alone so that it starts fast and small
// (docs/vmm.md).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "runtime/cli/command.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/vm_options.h"
#include "vmm/devices/legacy/terminal_input.h"
#include "vmm/jail/jail.h"
#include "vmm/kvm/error.h"
#include "vmm/kvm/kvm_api.h"
#include "vmm/machine.h"

namespace {

using namespace shelter;

// The guest's serial output, unbuffered, on stdout.
class StdoutSink final : public vmm::devices::ByteSink {
 public:
  void write(uint8_t byte) override {
    while (::write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR) {
    }
  }
};

// What the VMM itself needs beyond the guest's memory: its code, heap,
// thread stacks, and the kernel and initrd it holds while loading them.
constexpr uint64_t kVmmMemoryOverhead = 256 * 1024 * 1024;

uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code error;
  uint64_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

vmm::jail::JailConfig jail_config(const cli::VmOptions& options, const vmm::VmConfig& vm) {
  vmm::jail::JailConfig jail;
  vmm::jail::JailIdentity identity = vmm::jail::default_jail_identity();
  jail.identity = {options.jail_uid.value_or(identity.uid), options.jail_gid.value_or(identity.gid)};
  jail.devices = {"/dev/kvm"};
  jail.read_only_files = {vm.kernel};
  if (vm.initrd) jail.read_only_files.push_back(*vm.initrd);
  for (const vmm::DiskConfig& disk : vm.disks)
    (disk.read_only ? jail.read_only_files : jail.read_write_files).push_back(disk.path);
  // The listening socket is created there, and guest connections dial the
  // <uds>_<port> sockets beside it.
  if (vm.vsock_uds) jail.read_write_files.push_back(std::filesystem::absolute(*vm.vsock_uds).parent_path());
  jail.cpus = vm.cpus;
  jail.memory_limit_bytes = vm.memory_mib * 1024 * 1024 + kVmmMemoryOverhead + file_size_or_zero(vm.kernel) +
                            (vm.initrd ? file_size_or_zero(*vm.initrd) : 0);
  jail.seccomp = options.seccomp_action == "log" ? vmm::jail::SeccompMode::kLog : vmm::jail::SeccompMode::kKill;
  return jail;
}

// Builds and runs the VM; with jail, drops the VMM's privileges once the VM
// is built and before its first instruction.
int run_machine(const vmm::VmConfig& config, const vmm::jail::JailConfig* jail) {
  StdoutSink console;
  std::unique_ptr<vmm::Machine> machine = vmm::build_machine(vmm::kvm::system_kvm_api(), config, console);
  if (jail != nullptr) vmm::jail::drop_privileges(*jail);
  std::optional<vmm::devices::TerminalInput> input;
  if (::isatty(STDIN_FILENO)) input.emplace(STDIN_FILENO, machine->serial());
  vmm::devices::VmExit exit = machine->run();
  input.reset();
  if (auto boot = machine->boot_time()) spdlog::info("guest boot time: {} us", boot->count());
  switch (exit.reason) {
    case vmm::devices::VmExit::Reason::kExitPort:
      spdlog::info("{}", exit.message);
      return exit.status;
    case vmm::devices::VmExit::Reason::kReset:
    case vmm::devices::VmExit::Reason::kPowerOff:
      spdlog::info("{}", exit.message);
      return cli::kExitOk;
    case vmm::devices::VmExit::Reason::kError:
      break;
  }
  throw vmm::VmmError(exit.message);
}

void print_error(const std::string& message) { std::fprintf(stderr, "shelter: error: %s\n", message.c_str()); }

// Runs fn, reporting an error as main would; returns the exit status.
template <typename Fn>
int report_errors(Fn fn) {
  try {
    return fn();
  } catch (const Error& e) {
    print_error(e.what());
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
  }
  return cli::kExitFailure;
}

int run_vm(const cli::VmOptions& options) {
  vmm::VmConfig vm = options.resolved();
  if (options.no_jail) {
    spdlog::warn("--no-jail: the VMM keeps root, its capabilities and every system call; isolation from the guest "
                 "is weakened");
    return run_machine(vm, nullptr);
  }
  vmm::jail::JailConfig jail = jail_config(options, vm);
  // The caller's side waits as the reaper and passes the VMM's status on.
  if (std::optional<int> status = vmm::jail::enter_jail(jail)) return *status;
  // The jailed VMM's process leaves through _exit (see vmm::jail::enter_jail).
  int status = report_errors([&] { return run_machine(vm, &jail); });
  std::fflush(nullptr);
  ::_exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  // `shelter vm` executes this directly, so it speaks as that command.
  CLI::App app{cli::kVmDescription, "shelter vm"};
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "Diagnostics on stderr")
      ->check(CLI::IsMember(cli::log_level_names()))
      ->capture_default_str();
  cli::VmOptions options;
  cli::add_vm_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see --help)");
    return cli::kExitUsage;
  }

  cli::setup_logging(log_level);
  return report_errors([&] { return run_vm(options); });
}
