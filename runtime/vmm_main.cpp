// shelter-vmm: the VMM process behind `shelter vm`. It takes the same options
// and gives the same output, errors and exit statuses; it is linked with the
// VMM library alone so that it starts fast and small (docs/vmm.md).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "common/error.h"
#include "runtime/cli/command.h"
#include "runtime/cli/logging.h"
#include "runtime/cli/vm_options.h"
#include "vmm/devices/legacy/terminal_input.h"
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
      return cli::kExitOk;
    case vmm::devices::VmExit::Reason::kError:
      break;
  }
  throw vmm::VmmError(exit.message);
}

void print_error(const std::string& message) { std::fprintf(stderr, "shelter: error: %s\n", message.c_str()); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The VMM process of `shelter vm` (see `shelter vm --help`).", "shelter-vmm"};
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
  try {
    return run_vm(options.resolved());
  } catch (const Error& e) {
    print_error(e.what());
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
  }
  return cli::kExitFailure;
}
