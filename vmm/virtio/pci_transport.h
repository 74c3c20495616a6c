#pragma once
// virtio 1.x over PCI, modern interface only (virtio 1.2, section 4.1): a
// PCI function with vendor 0x1af4 and device 0x1040 + the virtio device ID,
// one 32-bit memory BAR holding the common, ISR, device-specific and notify
// structures plus the MSI-X table and PBA, and the vendor capabilities that
// point at them (and the PCI configuration access capability).
//
// Interrupts: MSI-X vectors through KVM irqfds, or legacy INTx with the ISR
// status when the driver leaves MSI-X off. Doorbells: a KVM ioeventfd per
// queue on the notify structure (the MMIO path handles any other write).
//
// Locking, outermost first: lifecycle_ (exclusive for common-configuration
// writes, which activate and reset the device; shared for notifications and
// device-configuration accesses), then the function's mutex_ (registers,
// configuration space, MSI-X). The device is never called with mutex_ held,
// and its DeviceSignals callbacks take only mutex_.
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "common/unique_fd.h"
#include "vmm/devices/eventfd_loop.h"
#include "vmm/devices/vm_exit.h"
#include "vmm/kvm/system.h"
#include "vmm/pci/function.h"
#include "vmm/pci/kvm_interrupts.h"
#include "vmm/pci/msix.h"
#include "vmm/virtio/device.h"

namespace shelter::vmm::virtio {

inline constexpr uint16_t kPciVendorId = 0x1af4;
inline constexpr uint16_t kPciDeviceIdBase = 0x1040;
inline constexpr uint16_t kNoVector = 0xffff;

// BAR 0.
inline constexpr uint64_t kCommonConfigOffset = 0x0000;
inline constexpr uint64_t kCommonConfigSize = 0x38;
inline constexpr uint64_t kIsrOffset = 0x1000;
inline constexpr uint64_t kDeviceConfigOffset = 0x2000;
inline constexpr uint64_t kDeviceConfigSize = 0x1000;
inline constexpr uint64_t kNotifyOffset = 0x3000;
inline constexpr uint32_t kNotifyOffMultiplier = 4;
inline constexpr uint64_t kMsixTableOffset = 0x4000;
inline constexpr uint64_t kMsixPbaOffset = 0x5000;
inline constexpr uint64_t kBarSize = 0x8000;
inline constexpr size_t kMaxQueues = 64;  // one MSI-X vector each plus one for configuration

// virtio_pci_common_cfg field offsets.
namespace common {
inline constexpr uint16_t kDeviceFeatureSelect = 0x00;
inline constexpr uint16_t kDeviceFeature = 0x04;
inline constexpr uint16_t kDriverFeatureSelect = 0x08;
inline constexpr uint16_t kDriverFeature = 0x0c;
inline constexpr uint16_t kConfigMsixVector = 0x10;
inline constexpr uint16_t kNumQueues = 0x12;
inline constexpr uint16_t kDeviceStatus = 0x14;
inline constexpr uint16_t kConfigGeneration = 0x15;
inline constexpr uint16_t kQueueSelect = 0x16;
inline constexpr uint16_t kQueueSize = 0x18;
inline constexpr uint16_t kQueueMsixVector = 0x1a;
inline constexpr uint16_t kQueueEnable = 0x1c;
inline constexpr uint16_t kQueueNotifyOff = 0x1e;
inline constexpr uint16_t kQueueDesc = 0x20;
inline constexpr uint16_t kQueueDriver = 0x28;
inline constexpr uint16_t kQueueDevice = 0x30;
}  // namespace common

// virtio_pci_cap cfg_type values.
inline constexpr uint8_t kCapCommonConfig = 1;
inline constexpr uint8_t kCapNotifyConfig = 2;
inline constexpr uint8_t kCapIsrConfig = 3;
inline constexpr uint8_t kCapDeviceConfig = 4;
inline constexpr uint8_t kCapPciConfig = 5;

inline constexpr uint8_t kIsrQueue = 1;
inline constexpr uint8_t kIsrConfig = 2;

// What a virtio-pci function needs from the VM around it.
struct PciPlatform {
  const memory::GuestMemory* memory;
  kvm::Vm* vm;                      // ioeventfds
  pci::GsiRouting* routing;         // MSI-X vectors
  devices::EventfdLoop* doorbells;  // runs queue notifications from ioeventfds
  devices::InterruptLine* intx;     // INTA# of the function's slot
};

// The PCI class code for a virtio device type.
uint32_t pci_class_code(uint32_t device_id);

class PciTransport final : public pci::PciFunction, private DeviceSignals {
 public:
  // Throws VmmError when the device declares no queue, more than
  // kMaxQueues, or a maximum size that is not a power of two up to 32768.
  PciTransport(std::shared_ptr<VirtioDevice> device, const PciPlatform& platform);
  ~PciTransport() override;

  void bar_read(unsigned bar, uint64_t offset, std::span<uint8_t> data) override;
  void bar_write(unsigned bar, uint64_t offset, std::span<const uint8_t> data) override;
  void decoding_changed() override;

 private:
  struct Queue {
    QueueConfig config;
    uint16_t max_size;
    uint16_t vector = kNoVector;
  };
  enum class Lifecycle { kNone, kActivate, kReset };

  // DeviceSignals (any thread).
  void used_buffers(uint16_t queue) override;
  void config_changed() override;
  void needs_reset() override;

  void before_config_read(uint16_t offset, size_t size) override;
  void on_config_write(uint16_t offset, size_t size) override;
  void after_config_write(uint16_t offset, size_t size) override;

  void write_common(uint64_t offset, std::span<const uint8_t> data);
  uint64_t read_common_field(uint16_t field) const;
  Lifecycle write_common_field(uint16_t field, uint64_t value);
  Lifecycle write_status(uint8_t value);
  void reset_registers();
  Queue* selected_queue();
  const Queue* selected_queue() const;
  void notify(uint16_t queue);
  void raise(uint16_t vector, uint8_t isr_bit);
  void update_intx();
  // The PCI configuration access capability's window into BAR 0.
  struct CfgAccess {
    uint64_t offset;
    uint32_t length;
  };
  bool cfg_access(CfgAccess& access) const;
  bool touches_cfg_data(uint16_t offset, size_t size) const;

  std::shared_ptr<VirtioDevice> device_;
  PciPlatform platform_;
  uint64_t device_features_;
  std::shared_mutex lifecycle_;

  // Guarded by mutex_.
  pci::KvmMsiVectors msi_vectors_;
  pci::Msix msix_;
  uint16_t pci_cfg_cap_ = 0;
  uint32_t device_feature_select_ = 0;
  uint32_t driver_feature_select_ = 0;
  uint64_t driver_features_ = 0;
  uint8_t status_ = 0;
  uint8_t config_generation_ = 0;
  uint16_t queue_select_ = 0;
  uint16_t config_vector_ = kNoVector;
  std::vector<Queue> queues_;
  uint8_t isr_ = 0;
  bool intx_level_ = false;
  bool activated_ = false;  // written with both locks held
  std::vector<UniqueFd> doorbells_;
  std::vector<bool> doorbell_bound_;        // per queue: KVM has its ioeventfd
  std::optional<uint64_t> doorbell_base_;  // the notify structure's address while decoded
};

}  // namespace shelter::vmm::virtio
