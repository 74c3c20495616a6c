#pragma once
// PCI interrupts through KVM: one GSI routing table per VM, and for each
// MSI-X vector a GSI with an MSI route and an irqfd, so raising a vector is
// one eventfd write from any thread.
#include <linux/kvm.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"
#include "vmm/kvm/system.h"
#include "vmm/pci/msix.h"

namespace shelter::vmm::pci {

// KVM_SET_GSI_ROUTING replaces the VM's whole table, so this keeps the
// routes KVM installs with the in-kernel irqchip (GSI 0-15 to the PICs and
// the IOAPIC, 16-23 to the IOAPIC) and adds the MSI routes.
class GsiRouting {
 public:
  explicit GsiRouting(kvm::Vm& vm);
  // A fresh GSI from kMsiGsiBase up; throws VmmError when KVM's table is full.
  uint32_t allocate_msi_gsi();
  // Points gsi at the MSI message; tells KVM only when the route changed.
  void route_msi(uint32_t gsi, uint64_t address, uint32_t data);

 private:
  std::mutex mutex_;
  kvm::Vm* vm_;
  uint32_t next_gsi_;
  std::vector<kvm_irq_routing_entry> irqchip_routes_;
  struct MsiRoute {
    kvm_irq_routing_entry entry;
    bool programmed;  // KVM has it (a vector is routed on its first delivery)
  };
  std::map<uint32_t, MsiRoute> msi_routes_;
};

class KvmMsiVectors final : public MsiSink {
 public:
  // Creates an eventfd and a GSI per vector and binds them with KVM_IRQFD.
  KvmMsiVectors(kvm::Vm& vm, GsiRouting& routing, uint16_t vectors);
  // Never throws: a failure is logged with the ioctl and errno, and the
  // interrupt is lost.
  void signal_msi(uint16_t vector, uint64_t address, uint32_t data) override;

  uint32_t gsi(uint16_t vector) const { return gsis_.at(vector); }
  int eventfd(uint16_t vector) const { return eventfds_.at(vector).get(); }

 private:
  GsiRouting* routing_;
  std::vector<UniqueFd> eventfds_;
  std::vector<uint32_t> gsis_;
};

}  // namespace shelter::vmm::pci
