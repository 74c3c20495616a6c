#include "vmm/machine.h"

#include <spdlog/spdlog.h>

#include <system_error>
#include <thread>

#include "common/file.h"
#include "vmm/acpi/pm_device.h"
#include "vmm/acpi/tables.h"
#include "vmm/arch/x86_64/cpuid.h"
#include "vmm/arch/x86_64/msrs.h"
#include "vmm/arch/x86_64/regs.h"
#include "vmm/arch/x86_64/reset_vector.h"
#include "vmm/devices/legacy/i8042.h"
#include "vmm/devices/pseudo/exit_port.h"
#include "vmm/jail/thread_filter.h"
#include "vmm/kvm/error.h"
#include "vmm/virtio/block.h"
#include "vmm/virtio/console.h"
#include "vmm/virtio/pci_transport.h"
#include "vmm/virtio/rng.h"
#include "vmm/virtio/vsock.h"

namespace shelter::vmm {
namespace {

constexpr uint64_t kMaxKernelBytes = 512 * memory::kMiB;
constexpr uint64_t kMaxInitrdBytes = 2 * memory::kGiB;

std::vector<uint8_t> read_input(const std::filesystem::path& path, uint64_t limit, const char* role) {
  try {
    return read_file(path, limit);
  } catch (const Error& e) {
    throw VmmError(std::string(role) + " " + path.string() + ": " + e.what());
  }
}

void check_config(const VmConfig& config) {
  if (config.cpus == 0 || config.cpus > x86_64::kMaxVcpus)
    throw VmmError("--cpus " + std::to_string(config.cpus) + ": the VM supports 1 to " +
                   std::to_string(x86_64::kMaxVcpus) + " vCPUs");
  if (config.memory_mib < kMinMemoryMib || config.memory_mib > kMaxMemoryMib)
    throw VmmError("--memory " + std::to_string(config.memory_mib) + ": must be " + std::to_string(kMinMemoryMib) +
                   " to " + std::to_string(kMaxMemoryMib) + " MiB");
}

void configure_vcpu(kvm::Vcpu& vcpu, std::span<const kvm_cpuid_entry2> supported, unsigned count,
                    const x86_64::BootSetup* boot) {
  vcpu.set_cpuid(x86_64::normalized_cpuid(supported, vcpu.id(), count));
  vcpu.set_msrs(x86_64::boot_msrs());
  vcpu.set_fpu(x86_64::boot_fpu());
  // Application processors wait for INIT/SIPI from the guest; only the
  // boot vCPU starts at the kernel's entry.
  if (boot != nullptr) {
    vcpu.set_sregs(x86_64::boot_sregs(*boot, vcpu.get_sregs()));
    vcpu.set_regs(x86_64::boot_regs(*boot));
  }
  vcpu.set_lapic(x86_64::with_legacy_lint_wiring(vcpu.get_lapic()));
}

std::vector<std::shared_ptr<virtio::VirtioDevice>> configured_devices(const VmConfig& config,
                                                                      devices::ByteSink& console) {
  std::vector<std::shared_ptr<virtio::VirtioDevice>> devices;
  devices.push_back(std::make_shared<virtio::RngDevice>());
  devices.push_back(std::make_shared<virtio::ConsoleDevice>(console));
  for (size_t i = 0; i < config.disks.size(); ++i)
    devices.push_back(std::make_shared<virtio::BlockDevice>(config.disks[i].path.string(), config.disks[i].read_only,
                                                            "shelter-disk" + std::to_string(i)));
  if (config.vsock_uds) devices.push_back(std::make_shared<virtio::VsockDevice>(kGuestCid, config.vsock_uds->string()));
  return devices;
}

}  // namespace

class Machine::IrqLine final : public devices::InterruptLine {
 public:
  IrqLine(kvm::Vm& vm, uint32_t irq) : vm_(&vm), irq_(irq) {}
  void set_level(bool high) override { vm_->set_irq_line(irq_, high); }

 private:
  kvm::Vm* vm_;
  uint32_t irq_;
};

Machine::Machine(kvm::System system, kvm::Vm vm, memory::GuestMemory memory, x86_64::BootSetup setup)
    : system_(std::move(system)), vm_(std::move(vm)), memory_(std::move(memory)), boot_setup_(setup) {}

Machine::~Machine() = default;

std::unique_ptr<Machine> build_machine(kvm::KvmApi& api, const VmConfig& config, devices::ByteSink& console) {
  auto vmm_start = std::chrono::steady_clock::now();
  check_config(config);
  std::vector<uint8_t> kernel = read_input(config.kernel, kMaxKernelBytes, "kernel");
  // Disks and the vsock socket are opened before KVM, like the kernel, so
  // a bad path is reported the same way everywhere.
  std::vector<std::shared_ptr<virtio::VirtioDevice>> devices = configured_devices(config, console);
  std::optional<std::vector<uint8_t>> initrd;
  if (config.initrd) initrd = read_input(*config.initrd, kMaxInitrdBytes, "initrd");

  memory::GuestMemory memory(memory::MemoryLayout(config.memory_mib * memory::kMiB));
  uint64_t rsdp_address = acpi::install_tables(memory, config.cpus);
  x86_64::write_reset_vector(memory);
  x86_64::BootFiles files{config.kernel.string(), kernel, config.initrd ? config.initrd->string() : std::string(),
                          std::nullopt, config.cmdline, rsdp_address};
  if (initrd) files.initrd = std::span<const uint8_t>(*initrd);
  x86_64::BootSetup setup = x86_64::load_kernel(memory, files);

  kvm::System system = kvm::System::open(api);
  system.require_capabilities();
  if (unsigned max = system.max_vcpus(); config.cpus > max)
    throw VmmError("--cpus " + std::to_string(config.cpus) + ": KVM on this machine allows at most " +
                   std::to_string(max) + " vCPUs");
  kvm::Vm vm = system.create_vm();
  vm.set_tss_address(memory::kKvmTssAddress);
  vm.set_identity_map_address(memory::kKvmIdentityMapAddress);
  vm.create_irqchip();
  vm.create_pit2();
  uint32_t slot = 0;
  for (const memory::RamRegion& region : memory.layout().ram_regions())
    vm.set_user_memory_region(slot++, region.guest_address, region.size, memory.host_address(region));

  std::unique_ptr<Machine> machine(new Machine(std::move(system), std::move(vm), std::move(memory), setup));
  size_t run_area_size = machine->system_.vcpu_mmap_size();
  std::vector<kvm_cpuid_entry2> supported = machine->system_.supported_cpuid();
  for (unsigned id = 0; id < config.cpus; ++id) {
    machine->vcpus_.push_back(machine->vm_.create_vcpu(id, run_area_size));
    configure_vcpu(machine->vcpus_.back(), supported, config.cpus, id == 0 ? &setup : nullptr);
  }

  machine->serial_irq_ = std::make_unique<Machine::IrqLine>(machine->vm_, devices::kCom1Irq);
  machine->serial_ = std::make_shared<devices::Serial>(console, *machine->serial_irq_);
  machine->boot_timer_ = std::make_shared<devices::BootTimer>(vmm_start);
  Buses& buses = machine->buses_;
  buses.io.insert(devices::kCom1Port, devices::kCom1PortCount, machine->serial_);
  buses.io.insert(devices::kI8042DataPort, devices::kI8042PortCount, std::make_shared<devices::I8042>(machine->exits_));
  buses.io.insert(devices::kExitPort, devices::kExitPortCount, std::make_shared<devices::ExitPort>(machine->exits_));
  buses.io.insert(acpi::kPmPort, acpi::kPmPortCount, std::make_shared<acpi::PmDevice>(machine->exits_));
  buses.mmio.insert(memory::kBootTimerAddress, devices::kBootTimerLength, machine->boot_timer_);

  // PCI: the host bridge, configuration access (0xcf8 and ECAM), and one
  // dispatcher per BAR window; add_virtio_device() plugs devices in.
  machine->gsi_routing_ = std::make_unique<pci::GsiRouting>(machine->vm_);
  machine->pci_ = std::make_unique<pci::PciBus>(machine->memory_.layout());
  machine->pci_->attach(buses.io, buses.mmio);
  machine->doorbells_ = std::make_unique<devices::EventfdLoop>();
  for (auto& device : devices) machine->add_virtio_device(std::move(device));
  return machine;
}

void Machine::add_virtio_device(std::shared_ptr<virtio::VirtioDevice> device) {
  unsigned slot = pci_->free_slot();
  pci_irqs_.push_back(std::make_unique<IrqLine>(vm_, memory::pci_intx_gsi(slot)));
  virtio::PciPlatform platform{&memory_, &vm_, gsi_routing_.get(), doorbells_.get(), pci_irqs_.back().get()};
  virtio_devices_.push_back(device);
  pci_->add(slot, std::make_shared<virtio::PciTransport>(std::move(device), platform));
}

devices::VmExit Machine::run() {
  // Device threads start here, after the jail armed the filters, so that
  // each enters the device filter rather than running unfiltered.
  auto device_thread_failed = [this](const std::string& message) {
    exits_.request_exit({devices::VmExit::Reason::kError, 1, message});
  };
  doorbells_->start(device_thread_failed);
  for (const auto& device : virtio_devices_) device->start(device_thread_failed);
  std::vector<std::thread> threads;
  threads.reserve(vcpus_.size());
  try {
    for (kvm::Vcpu& vcpu : vcpus_) threads.emplace_back([this, &vcpu] { run_vcpu(vcpu, buses_, exits_); });
  } catch (const std::system_error& e) {
    // The vCPUs already running must still be stopped and joined.
    exits_.request_exit({devices::VmExit::Reason::kError, 1, std::string("cannot start a vCPU thread: ") + e.what()});
  }
  // The main thread's filter comes last, so that no vCPU thread inherits it.
  try {
    jail::enter_thread(jail::ThreadKind::kMain);
  } catch (const Error& e) {
    exits_.request_exit({devices::VmExit::Reason::kError, 1, e.what()});
  }
  devices::VmExit exit = exits_.wait();
  spdlog::debug("VM exit: {}", exit.message);
  for (size_t i = 0; i < threads.size(); ++i) kick_vcpu(vcpus_[i], threads[i].native_handle());
  for (std::thread& thread : threads) thread.join();
  doorbells_->stop();
  return exit;
}

}  // namespace shelter::vmm
