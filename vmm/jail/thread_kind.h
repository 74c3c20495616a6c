#pragma once
// The kinds of thread the VMM runs. Each kind gets its own seccomp
// allow-list (vmm/jail/seccomp_policy.cpp), installed by the thread itself
// when it starts. Adding a kind: one value here and one row in the policy
// table.
namespace shelter::vmm::jail {

enum class ThreadKind {
  kMain,           // builds the VM, starts the others, waits for the exit, tears down
  kVcpu,           // KVM_RUN and the device emulation its exits reach
  kTerminalInput,  // copies the host terminal's bytes into the serial port
  kDevice,         // device threads: virtqueue doorbells (ioeventfds) and vsock's host sockets
};

}  // namespace shelter::vmm::jail
