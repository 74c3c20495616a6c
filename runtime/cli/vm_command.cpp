#include "runtime/cli/vm_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <optional>

#include "common/error.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/jail/jail.h"
#include "vmm/devices/legacy/terminal_input.h"
#include "vmm/kvm/error.h"
#include "vmm/kvm/kvm_api.h"
#include "vmm/machine.h"

namespace shelter::cli {
namespace {

// The guest's serial output, unbuffered, on stdout.
class StdoutSink final : public vmm::devices::ByteSink {
 public:
  void write(uint8_t byte) override {
    while (::write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR) {
    }
  }
};

struct VmOptions {
  vmm::VmConfig vm;
  bool no_jail = false;
  std::string seccomp_action = "kill";
  std::optional<uid_t> jail_uid;
  std::optional<gid_t> jail_gid;
};

// What the VMM itself needs beyond the guest's memory: its code, heap,
// thread stacks, and the kernel and initrd it holds while loading them.
constexpr uint64_t kVmmMemoryOverhead = 256 * 1024 * 1024;

uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code error;
  uint64_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

vmm::jail::JailConfig jail_config(const VmOptions& options) {
  vmm::jail::JailConfig jail;
  vmm::jail::JailIdentity identity = vmm::jail::default_jail_identity();
  jail.identity = {options.jail_uid.value_or(identity.uid), options.jail_gid.value_or(identity.gid)};
  jail.devices = {"/dev/kvm"};
  jail.read_only_files = {options.vm.kernel};
  if (options.vm.initrd) jail.read_only_files.push_back(*options.vm.initrd);
  for (const vmm::DiskConfig& disk : options.vm.disks)
    (disk.read_only ? jail.read_only_files : jail.read_write_files).push_back(disk.path);
  // The listening socket is created there, and guest connections dial the
  // <uds>_<port> sockets beside it.
  if (options.vm.vsock_uds)
    jail.read_write_files.push_back(std::filesystem::absolute(*options.vm.vsock_uds).parent_path());
  jail.cpus = options.vm.cpus;
  jail.memory_limit_bytes = options.vm.memory_mib * 1024 * 1024 + kVmmMemoryOverhead +
                            file_size_or_zero(options.vm.kernel) +
                            (options.vm.initrd ? file_size_or_zero(*options.vm.initrd) : 0);
  jail.seccomp = options.seccomp_action == "log" ? vmm::jail::SeccompMode::kLog : vmm::jail::SeccompMode::kKill;
  return jail;
}

int run_machine(const vmm::VmConfig& config, const vmm::jail::JailConfig* jail);

// The jailed VMM's process: it reports its own error, as main would, and
// leaves through _exit (see vmm::jail::enter_jail).
[[noreturn]] void run_jailed_vmm(const VmOptions& options, const vmm::jail::JailConfig& jail) {
  int status = kExitFailure;
  try {
    status = run_machine(options.vm, &jail);
  } catch (const Error& e) {
    std::fprintf(stderr, "shelter: error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shelter: error: internal error: %s\n", e.what());
  }
  std::fflush(nullptr);
  ::_exit(status);
}

int run_vm(const VmOptions& options) {
  if (options.no_jail) {
    spdlog::warn("--no-jail: the VMM keeps root, its capabilities and every system call; isolation from the guest "
                 "is weakened");
    return run_machine(options.vm, nullptr);
  }
  vmm::jail::JailConfig jail = jail_config(options);
  // The caller's side waits as the reaper and passes the VMM's status on.
  if (std::optional<int> status = vmm::jail::enter_jail(jail)) return *status;
  run_jailed_vmm(options, jail);
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
      return kExitOk;
    case vmm::devices::VmExit::Reason::kError:
      break;
  }
  throw vmm::VmmError(exit.message);
}

// --disk FILE[,ro]: the last comma-separated field may say ro or rw.
vmm::DiskConfig parse_disk(const std::string& text) {
  vmm::DiskConfig disk{text, false};
  if (size_t comma = text.rfind(','); comma != std::string::npos) {
    std::string mode = text.substr(comma + 1);
    if (mode == "ro" || mode == "rw") {
      disk.path = text.substr(0, comma);
      disk.read_only = mode == "ro";
    }
  }
  if (disk.path.empty()) throw Error("--disk " + text + ": no file named");
  return disk;
}

}  // namespace

void add_vm_command(CLI::App& app, Commands& commands) {
  auto options = std::make_shared<VmOptions>();
  vmm::VmConfig* config = &options->vm;
  CLI::App* vm = app.add_subcommand(
      "vm", "Boot a kernel under the built-in KVM VMM, without an image. Serial output goes to stdout; "
            "the exit status is the guest's (exit port), 0 on power-off or reset. The VMM runs jailed "
            "(docs/jail.md); 125 when the jail stopped a forbidden system call.");
  vm->add_option("--kernel", config->kernel, "bzImage, PVH ELF or ELF64 kernel")->required();
  vm->add_option("--initrd", config->initrd, "Initial ramdisk");
  vm->add_option("--cmdline", config->cmdline, "Kernel command line");
  vm->add_option("--memory", config->memory_mib, "Guest memory in MiB")
      ->check(CLI::Range(vmm::kMinMemoryMib, vmm::kMaxMemoryMib))
      ->capture_default_str();
  vm->add_option("--cpus", config->cpus, "Number of vCPUs")
      ->check(CLI::Range(1u, vmm::x86_64::kMaxVcpus))
      ->capture_default_str();
  auto disks = std::make_shared<std::vector<std::string>>();
  vm->add_option("--disk", *disks, "virtio-blk disk backed by FILE, read-write unless FILE,ro (repeatable)")
      ->type_name("FILE[,ro]");
  vm->add_option("--vsock-uds", config->vsock_uds,
                 "virtio-vsock bridged to Unix sockets: the host listens at PATH (CONNECT <port>), guest "
                 "connections to port P go to PATH_P");
  vm->add_flag("--no-jail", options->no_jail,
               "Debugging only: run the VMM without namespaces, capability drop or seccomp (weakens isolation)");
  vm->add_option("--seccomp", options->seccomp_action,
                 "What a forbidden system call does: kill (report it and exit 125) or log (the kernel logs it)")
      ->check(CLI::IsMember({"kill", "log"}))
      ->capture_default_str();
  vm->add_option("--jail-uid", options->jail_uid,
                 "User the jailed VMM runs as (default: the shelter user if present, else 65534)")
      ->check(CLI::Range(1u, 4294967294u));
  vm->add_option("--jail-gid", options->jail_gid,
                 "Group the jailed VMM runs as (default: the shelter user's group if present, else 65534)")
      ->check(CLI::Range(1u, 4294967294u));
  commands.push_back(Command{vm,
                             [options, disks] {
                               options->vm.disks.clear();
                               for (const std::string& disk : *disks) options->vm.disks.push_back(parse_disk(disk));
                               return run_vm(*options);
                             },
                             kExitFailure});
}

}  // namespace shelter::cli
