#pragma once
// Why a VM stopped, and the interface through which devices and vCPUs end it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace shelter::vmm::devices {

struct VmExit {
  enum class Reason {
    kExitPort,    // the guest wrote a status to the exit port
    kReset,       // i8042 reset, KVM system-event reset, or triple fault
    kPowerOff,    // KVM system-event shutdown, or the boot vCPU halted for good
    kError,       // the VMM could not go on (message says why)
  };
  Reason reason;
  int status;  // the exit port's value; 0 for reset and power-off
  std::string message;
};

class ExitSink {
 public:
  virtual ~ExitSink() = default;
  // The first request decides the VM's exit; later ones are ignored.
  virtual void request_exit(VmExit exit) = 0;
};

// An interrupt line of the in-kernel interrupt controller (KVM_IRQ_LINE).
class InterruptLine {
 public:
  virtual ~InterruptLine() = default;
  virtual void set_level(bool high) = 0;
};

// Where the serial port's output goes.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(uint8_t byte) = 0;
};

// A guest console's input (the UART, virtio-console), fed from the host.
class InputSink {
 public:
  virtual ~InputSink() = default;
  // Returns how many bytes it took; the caller offers the rest again later.
  virtual size_t enqueue_input(std::span<const uint8_t> bytes) = 0;
};

}  // namespace shelter::vmm::devices
