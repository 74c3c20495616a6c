#include "runtime/cli/vm_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "common/error.h"
#include "vmm/arch/x86_64/cpuid.h"
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

int run_vm(const vmm::VmConfig& config) {
  StdoutSink console;
  std::unique_ptr<vmm::Machine> machine = vmm::build_machine(vmm::kvm::system_kvm_api(), config, console);
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
  auto config = std::make_shared<vmm::VmConfig>();
  CLI::App* vm = app.add_subcommand(
      "vm", "Boot a kernel under the built-in KVM VMM, without an image. Serial output goes to stdout; "
            "the exit status is the guest's (exit port), 0 on power-off or reset.");
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
  commands.push_back(Command{vm,
                             [config, disks] {
                               config->disks.clear();
                               for (const std::string& disk : *disks) config->disks.push_back(parse_disk(disk));
                               return run_vm(*config);
                             },
                             kExitFailure});
}

}  // namespace shelter::cli
