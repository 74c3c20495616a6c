#include "runtime/cli/vm_command.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "vmm/arch/x86_64/cpuid.h"
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

// The terminal's state before the guest took over its input; restored on
// exit, and by a signal handler when SIGINT or SIGTERM ends the process.
struct termios saved_terminal;

void restore_terminal_and_reraise(int signal) {
  ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
  ::signal(signal, SIG_DFL);
  ::raise(signal);
}

// Feeds the host terminal's keystrokes to the guest's serial port: the
// terminal leaves canonical mode and echo (the guest echoes), keeps its
// signal keys, and a thread copies stdin into the UART's receive FIFO.
class TerminalInput {
 public:
  explicit TerminalInput(vmm::devices::Serial& serial) : serial_(&serial), stop_(::eventfd(0, EFD_CLOEXEC)) {
    if (!stop_) throw SystemError("eventfd for the terminal input thread", errno);
    check_syscall(::tcgetattr(STDIN_FILENO, &saved_terminal), "tcgetattr on stdin");
    struct termios raw = saved_terminal;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::signal(SIGINT, restore_terminal_and_reraise);
    ::signal(SIGTERM, restore_terminal_and_reraise);
    check_syscall(::tcsetattr(STDIN_FILENO, TCSANOW, &raw), "tcsetattr on stdin");
    thread_ = std::thread([this] { copy_input(); });
  }
  TerminalInput(const TerminalInput&) = delete;
  TerminalInput& operator=(const TerminalInput&) = delete;
  ~TerminalInput() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
    thread_.join();
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
  }

 private:
  void copy_input() {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    uint8_t buffer[64];
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n <= 0) return;  // end of input: the guest just gets no more
      std::span<const uint8_t> pending(buffer, static_cast<size_t>(n));
      // The guest drains its 64-byte FIFO at its own pace.
      while (!pending.empty()) {
        pending = pending.subspan(serial_->enqueue_input(pending));
        if (!pending.empty()) {
          pollfd stop{stop_.get(), POLLIN, 0};
          if (::poll(&stop, 1, 1) > 0) return;
        }
      }
    }
  }

  vmm::devices::Serial* serial_;
  UniqueFd stop_;
  std::thread thread_;
};

int run_vm(const vmm::VmConfig& config) {
  StdoutSink console;
  std::unique_ptr<vmm::Machine> machine = vmm::build_machine(vmm::kvm::system_kvm_api(), config, console);
  std::optional<TerminalInput> input;
  if (::isatty(STDIN_FILENO)) input.emplace(machine->serial());
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
  commands.push_back(Command{vm, [config] { return run_vm(*config); }, kExitFailure});
}

}  // namespace shelter::cli
