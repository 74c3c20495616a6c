#pragma once
// A way of running a VmConfig: QEMU today, the built-in VMM later.
#include <sys/types.h>

#include <memory>
#include <string>

#include "runtime/launcher/vm_config.h"

namespace shelter::backend {

class RunningVm {
 public:
  virtual ~RunningVm() = default;
  // The VMM's process; the launcher learns of its end through SIGCHLD.
  virtual pid_t pid() const = 0;
  // Asks the VMM to stop the guest now (idempotent).
  virtual void stop() = 0;
};

class VmBackend {
 public:
  virtual ~VmBackend() = default;
  // Starts the VM with its serial ports on `channels` (which it may keep open
  // in its own process). Throws Error when the VMM cannot be started.
  virtual std::unique_ptr<RunningVm> start(const launcher::VmConfig& config,
                                           const launcher::GuestChannelFds& channels) = 0;
};

}  // namespace shelter::backend
