// A test-only VMM: `shelter vm`'s jailed path (jail, build, drop privileges,
// run) with one of the forbidden-call devices (tests/unit/vmm/
// forbidden_call_port.h) at the port the probe writes. The jail must end it
// with the one-line report naming the thread kind and status 125.
//   forbidden_call_vmm KERNEL vcpu|device CPUS
// Prints the guest's serial output on stdout; exits as the jailed VMM did.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "tests/unit/vmm/forbidden_call_port.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/jail/jail.h"
#include "vmm/kvm/kvm_api.h"
#include "vmm/machine.h"

namespace {

using namespace shelter::vmm;

class StdoutSink final : public devices::ByteSink {
 public:
  void write(uint8_t byte) override {
    while (::write(STDOUT_FILENO, &byte, 1) < 0 && errno == EINTR) {
    }
  }
};

[[noreturn]] void run_vmm(const VmConfig& config, const jail::JailConfig& jail, bool on_device_thread) {
  int status = 1;
  try {
    StdoutSink console;
    std::unique_ptr<Machine> machine = build_machine(kvm::system_kvm_api(), config, console);
    if (on_device_thread)
      machine->io_bus().insert(testing::kForbiddenDoorbellPort, 1,
                               std::make_shared<testing::ForbiddenCallDoorbell>(machine->doorbells()));
    else
      machine->io_bus().insert(testing::kForbiddenCallPort, 1, std::make_shared<testing::ForbiddenCallPort>());
    jail::drop_privileges(jail);
    devices::VmExit exit = machine->run();
    std::fprintf(stderr, "forbidden_call_vmm: the VM ended without a violation: %s\n", exit.message.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forbidden_call_vmm: %s\n", e.what());
  }
  std::fflush(nullptr);
  ::_exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || (std::string(argv[2]) != "vcpu" && std::string(argv[2]) != "device")) {
    std::fprintf(stderr, "usage: forbidden_call_vmm KERNEL vcpu|device CPUS\n");
    return 2;
  }
  bool on_device_thread = std::string(argv[2]) == "device";
  // Log lines as `shelter` writes them: unbuffered stderr (spdlog's default
  // logger buffers stdout, whose first use stats it: a call no thread makes).
  auto logger = spdlog::stderr_logger_mt("forbidden_call_vmm");
  logger->set_level(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  VmConfig config;
  config.kernel = argv[1];
  config.cpus = static_cast<unsigned>(std::stoul(argv[3]));
  config.memory_mib = 128;
  char port[8];
  std::snprintf(port, sizeof port, "%x", on_device_thread ? testing::kForbiddenDoorbellPort : testing::kForbiddenCallPort);
  config.cmdline = "cpus=" + std::to_string(config.cpus) + " forbidden_port=" + port;
  jail::JailConfig jail;
  jail.identity = jail::default_jail_identity();
  jail.devices = {"/dev/kvm"};
  jail.read_only_files = {config.kernel};
  jail.cpus = config.cpus;
  try {
    if (std::optional<int> status = jail::enter_jail(jail)) return *status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forbidden_call_vmm: %s\n", e.what());
    return 1;
  }
  run_vmm(config, jail, on_device_thread);
}
