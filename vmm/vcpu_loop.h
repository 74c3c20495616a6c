#pragma once
// The vCPU thread's loop: KVM_RUN, then dispatch the exit to the I/O or MMIO
// bus or end the VM, until the VM stops. Stopping is cooperative: the
// stopper sets the stop flag, then kicks each vCPU out of KVM_RUN
// (immediate_exit plus a signal), in that order, so no vCPU can miss it.
#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "vmm/devices/bus.h"
#include "vmm/devices/vm_exit.h"
#include "vmm/kvm/system.h"

namespace shelter::vmm {

struct Buses {
  devices::Bus io;
  devices::Bus mmio;
};

// Collects the first exit request and lets the main thread wait for it.
class ExitCoordinator final : public devices::ExitSink {
 public:
  void request_exit(devices::VmExit exit) override;
  devices::VmExit wait();
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<devices::VmExit> exit_;
  std::atomic<bool> stopping_{false};
};

enum class ExitAction { kContinue, kStop };

// Handles the exit KVM_RUN left in the vCPU's run area.
ExitAction handle_exit(kvm::Vcpu& vcpu, const Buses& buses, devices::ExitSink& exits);

// Runs the vCPU until exits.stopping(); errors end the VM with kError.
void run_vcpu(kvm::Vcpu& vcpu, const Buses& buses, ExitCoordinator& exits);

// Makes a vCPU thread's KVM_RUN return (EINTR) now or at its next entry.
void kick_vcpu(kvm::Vcpu& vcpu, pthread_t thread);

}  // namespace shelter::vmm
