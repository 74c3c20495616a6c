#pragma once
// A built VM: KVM objects, guest memory, devices and vCPUs, ready to run.
// build_machine() is the single construction path; it checks the request
// and loads the kernel before it touches KVM, so that bad input is reported
// the same way on machines with and without /dev/kvm.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmm/arch/x86_64/loader.h"
#include "vmm/devices/eventfd_loop.h"
#include "vmm/devices/legacy/serial.h"
#include "vmm/devices/pseudo/boot_timer.h"
#include "vmm/kvm/system.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/pci/kvm_interrupts.h"
#include "vmm/pci/pci_bus.h"
#include "vmm/vcpu_loop.h"
#include "vmm/virtio/device.h"

namespace shelter::vmm {

inline constexpr uint64_t kMinMemoryMib = 2;
inline constexpr uint64_t kMaxMemoryMib = uint64_t{1} << 20;  // 1 TiB

struct DiskConfig {
  std::filesystem::path path;
  bool read_only = false;
};

// The guest's vsock context ID (2 is the host's; 3 is the first a guest gets).
inline constexpr uint64_t kGuestCid = 3;

struct VmConfig {
  std::filesystem::path kernel;
  std::optional<std::filesystem::path> initrd;
  std::string cmdline;
  uint64_t memory_mib = 128;
  unsigned cpus = 1;
  // virtio-pci devices besides the rng and the console (hvc0) every VM has.
  std::vector<DiskConfig> disks;  // virtio-blk, serial "shelter-disk<N>"
  std::optional<std::filesystem::path> vsock_uds;  // hybrid vsock: the host's listening socket
};

class Machine {
 public:
  ~Machine();
  // Runs every vCPU on its own thread until the first exit request, then
  // stops and joins them all.
  devices::VmExit run();

  const memory::GuestMemory& memory() const noexcept { return memory_; }
  const x86_64::BootSetup& boot_setup() const noexcept { return boot_setup_; }
  std::optional<std::chrono::microseconds> boot_time() const { return boot_timer_->boot_time(); }
  // Host input for the serial port (the terminal thread feeds it).
  devices::Serial& serial() noexcept { return *serial_; }
  // Plugs device into the next free PCI slot as a virtio-pci function;
  // only before run(). Throws VmmError when the bus or a window is full.
  void add_virtio_device(std::shared_ptr<virtio::VirtioDevice> device);
  pci::PciBus& pci() noexcept { return *pci_; }
  // The port I/O bus, for devices added before run() (the tests' devices).
  devices::Bus& io_bus() noexcept { return buses_.io; }
  // The device thread that serves the virtqueue doorbells; eventfds join it
  // only before run() (the tests' devices).
  devices::EventfdLoop& doorbells() noexcept { return *doorbells_; }

 private:
  friend std::unique_ptr<Machine> build_machine(kvm::KvmApi&, const VmConfig&, devices::ByteSink&);
  class IrqLine;
  Machine(kvm::System system, kvm::Vm vm, memory::GuestMemory memory, x86_64::BootSetup setup);

  kvm::System system_;
  kvm::Vm vm_;
  memory::GuestMemory memory_;
  x86_64::BootSetup boot_setup_;
  std::vector<kvm::Vcpu> vcpus_;
  std::unique_ptr<IrqLine> serial_irq_;
  std::shared_ptr<devices::Serial> serial_;
  std::shared_ptr<devices::BootTimer> boot_timer_;
  Buses buses_;
  ExitCoordinator exits_;
  // PCI; destroyed before the VM and the lines its functions use.
  std::unique_ptr<pci::GsiRouting> gsi_routing_;
  std::vector<std::unique_ptr<IrqLine>> pci_irqs_;
  std::unique_ptr<pci::PciBus> pci_;
  std::unique_ptr<devices::EventfdLoop> doorbells_;  // stops before the functions go
  std::vector<std::shared_ptr<virtio::VirtioDevice>> virtio_devices_;  // run() starts their threads
};

// Reads the kernel (and initrd), builds guest memory and loads the kernel,
// then creates the VM, its vCPUs and devices through api. Throws VmmError
// with one line naming the file or the limit and the reason.
std::unique_ptr<Machine> build_machine(kvm::KvmApi& api, const VmConfig& config, devices::ByteSink& console);

}  // namespace shelter::vmm
