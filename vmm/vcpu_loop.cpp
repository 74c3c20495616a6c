#include "vmm/vcpu_loop.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/error.h"

namespace shelter::vmm {
namespace {

using devices::VmExit;

int kick_signal() { return SIGRTMIN; }

// The kick signal only has to interrupt KVM_RUN; its handler does nothing,
// and it is installed without SA_RESTART so the ioctl returns EINTR.
void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    sigaction(kick_signal(), &action, nullptr);
  });
}

std::string vcpu_name(const kvm::Vcpu& vcpu) { return "vCPU " + std::to_string(vcpu.id()); }

void handle_io(kvm::Vcpu& vcpu, const Buses& buses) {
  kvm_run& run = vcpu.run_area();
  std::span<uint8_t> area = vcpu.run_area_bytes();
  uint64_t size = run.io.size, count = run.io.count;
  if ((size != 1 && size != 2 && size != 4) || count == 0 || run.io.data_offset > area.size() ||
      size * count > area.size() - run.io.data_offset)
    throw VmmError(vcpu_name(vcpu) + ": malformed KVM_EXIT_IO (size " + std::to_string(size) + ", count " +
                   std::to_string(count) + ")");
  for (uint64_t i = 0; i < count; ++i) {
    std::span<uint8_t> data = area.subspan(run.io.data_offset + i * size, size);
    if (run.io.direction == KVM_EXIT_IO_OUT) {
      if (!buses.io.write(run.io.port, data)) spdlog::debug("{}: write to unclaimed port {:#x}", vcpu_name(vcpu), run.io.port);
    } else if (!buses.io.read(run.io.port, data)) {
      std::fill(data.begin(), data.end(), 0xff);  // an open ISA bus reads all ones
    }
  }
}

void handle_mmio(kvm::Vcpu& vcpu, const Buses& buses) {
  kvm_run& run = vcpu.run_area();
  uint32_t len = run.mmio.len;
  if (len == 0 || len > sizeof run.mmio.data)
    throw VmmError(vcpu_name(vcpu) + ": malformed KVM_EXIT_MMIO (length " + std::to_string(len) + ")");
  std::span<uint8_t> data(run.mmio.data, len);
  if (run.mmio.is_write) {
    if (!buses.mmio.write(run.mmio.phys_addr, data))
      spdlog::debug("{}: write to unclaimed MMIO {:#x}", vcpu_name(vcpu), run.mmio.phys_addr);
  } else if (!buses.mmio.read(run.mmio.phys_addr, data)) {
    std::fill(data.begin(), data.end(), 0);
  }
}

const char* internal_error_text(uint32_t suberror) {
  switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION: return "instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX: return "exception during exception delivery";
    case KVM_INTERNAL_ERROR_DELIVERY_EV: return "event delivery failed";
    default: return "internal error";
  }
}

}  // namespace

void ExitCoordinator::request_exit(VmExit exit) {
  std::lock_guard lock(mutex_);
  if (exit_) return;
  exit_ = std::move(exit);
  stopping_.store(true, std::memory_order_release);
  changed_.notify_all();
}

VmExit ExitCoordinator::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return exit_.has_value(); });
  return *exit_;
}

ExitAction handle_exit(kvm::Vcpu& vcpu, const Buses& buses, devices::ExitSink& exits) {
  kvm_run& run = vcpu.run_area();
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      handle_io(vcpu, buses);
      return ExitAction::kContinue;
    case KVM_EXIT_MMIO:
      handle_mmio(vcpu, buses);
      return ExitAction::kContinue;
    case KVM_EXIT_INTR:
      return ExitAction::kContinue;
    case KVM_EXIT_HLT:
      // With the in-kernel irqchip KVM handles HLT itself; an exit means the
      // vCPU halted with no way to wake it, so the guest is done.
      exits.request_exit({VmExit::Reason::kPowerOff, 0, vcpu_name(vcpu) + " halted"});
      return ExitAction::kStop;
    case KVM_EXIT_SHUTDOWN:
      spdlog::warn("{}: triple fault; treating it as a reset", vcpu_name(vcpu));
      exits.request_exit({VmExit::Reason::kReset, 0, vcpu_name(vcpu) + ": triple fault (reset)"});
      return ExitAction::kStop;
    case KVM_EXIT_SYSTEM_EVENT:
      if (run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
        exits.request_exit({VmExit::Reason::kReset, 0, "the guest reset the machine"});
      } else if (run.system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
        exits.request_exit({VmExit::Reason::kPowerOff, 0, "the guest powered off"});
      } else {
        exits.request_exit({VmExit::Reason::kError, 1,
                            vcpu_name(vcpu) + ": system event " + std::to_string(run.system_event.type)});
      }
      return ExitAction::kStop;
    case KVM_EXIT_FAIL_ENTRY: {
      char reason[32];
      std::snprintf(reason, sizeof reason, "0x%llx",
                    static_cast<unsigned long long>(run.fail_entry.hardware_entry_failure_reason));
      exits.request_exit({VmExit::Reason::kError, 1,
                          vcpu_name(vcpu) + ": KVM_EXIT_FAIL_ENTRY, hardware entry failure reason " + reason});
      return ExitAction::kStop;
    }
    case KVM_EXIT_INTERNAL_ERROR:
      exits.request_exit({VmExit::Reason::kError, 1,
                          vcpu_name(vcpu) + ": KVM_EXIT_INTERNAL_ERROR: " + internal_error_text(run.internal.suberror) +
                              " (suberror " + std::to_string(run.internal.suberror) + ")"});
      return ExitAction::kStop;
    default:
      exits.request_exit({VmExit::Reason::kError, 1,
                          vcpu_name(vcpu) + ": unexpected KVM exit reason " + std::to_string(run.exit_reason)});
      return ExitAction::kStop;
  }
}

void run_vcpu(kvm::Vcpu& vcpu, const Buses& buses, ExitCoordinator& exits) {
  install_kick_handler();
  std::atomic_ref<uint8_t> immediate_exit(vcpu.run_area().immediate_exit);
  try {
    jail::enter_thread(jail::ThreadKind::kVcpu);
    while (!exits.stopping()) {
      kvm::SysResult r = vcpu.run();
      if (!r.ok()) {
        if (r.error != EINTR && r.error != EAGAIN) throw KvmError("KVM_RUN (" + vcpu_name(vcpu) + ")", r.error);
        immediate_exit.store(0);
        continue;
      }
      if (handle_exit(vcpu, buses, exits) == ExitAction::kStop) break;
    }
  } catch (const std::exception& e) {
    exits.request_exit({VmExit::Reason::kError, 1, e.what()});
  }
}

void kick_vcpu(kvm::Vcpu& vcpu, pthread_t thread) {
  install_kick_handler();
  std::atomic_ref<uint8_t>(vcpu.run_area().immediate_exit).store(1);
  pthread_kill(thread, kick_signal());
}

}  // namespace shelter::vmm
