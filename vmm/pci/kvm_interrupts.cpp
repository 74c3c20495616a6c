#include "vmm/pci/kvm_interrupts.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vmm/kvm/error.h"
#include "vmm/memory/layout.h"

namespace shelter::vmm::pci {
namespace {

// KVM_MAX_IRQ_ROUTES on x86.
constexpr uint32_t kMaxGsiRoutes = 4096;
constexpr uint32_t kIoApicPins = 24;
constexpr uint32_t kLegacyIrqs = 16;

kvm_irq_routing_entry irqchip_route(uint32_t gsi, uint32_t chip, uint32_t pin) {
  kvm_irq_routing_entry entry{};
  entry.gsi = gsi;
  entry.type = KVM_IRQ_ROUTING_IRQCHIP;
  entry.u.irqchip.irqchip = chip;
  entry.u.irqchip.pin = pin;
  return entry;
}

}  // namespace

GsiRouting::GsiRouting(kvm::Vm& vm) : vm_(&vm), next_gsi_(memory::kMsiGsiBase) {
  for (uint32_t gsi = 0; gsi < kIoApicPins; ++gsi) {
    if (gsi < kLegacyIrqs)
      irqchip_routes_.push_back(
          irqchip_route(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, gsi % 8));
    irqchip_routes_.push_back(irqchip_route(gsi, KVM_IRQCHIP_IOAPIC, gsi));
  }
}

uint32_t GsiRouting::allocate_msi_gsi() {
  std::lock_guard lock(mutex_);
  if (irqchip_routes_.size() + msi_routes_.size() >= kMaxGsiRoutes)
    throw VmmError("KVM's GSI routing table is full");
  uint32_t gsi = next_gsi_++;
  kvm_irq_routing_entry entry{};
  entry.gsi = gsi;
  entry.type = KVM_IRQ_ROUTING_MSI;
  msi_routes_[gsi] = {entry, false};
  return gsi;
}

void GsiRouting::route_msi(uint32_t gsi, uint64_t address, uint32_t data) {
  std::lock_guard lock(mutex_);
  MsiRoute& route = msi_routes_.at(gsi);
  kvm_irq_routing_msi& msi = route.entry.u.msi;
  uint32_t low = static_cast<uint32_t>(address);
  uint32_t high = static_cast<uint32_t>(address >> 32);
  if (route.programmed && msi.address_lo == low && msi.address_hi == high && msi.data == data) return;
  msi.address_lo = low;
  msi.address_hi = high;
  msi.data = data;
  route.programmed = true;
  std::vector<kvm_irq_routing_entry> table = irqchip_routes_;
  for (const auto& [unused, other] : msi_routes_)
    if (other.programmed) table.push_back(other.entry);
  try {
    vm_->set_gsi_routing(table);
  } catch (...) {
    route.programmed = false;  // retried on the next delivery
    throw;
  }
}

KvmMsiVectors::KvmMsiVectors(kvm::Vm& vm, GsiRouting& routing, uint16_t vectors) : routing_(&routing) {
  for (uint16_t v = 0; v < vectors; ++v) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw SystemError("eventfd for an MSI-X vector", errno);
    eventfds_.emplace_back(fd);
    gsis_.push_back(routing.allocate_msi_gsi());
    vm.assign_irqfd(fd, gsis_.back());
  }
}

void KvmMsiVectors::signal_msi(uint16_t vector, uint64_t address, uint32_t data) {
  // Device threads signal too, and the message is the guest's to choose:
  // a route KVM refuses loses this interrupt, not the VMM.
  try {
    routing_->route_msi(gsis_.at(vector), address, data);
  } catch (const Error& e) {
    spdlog::warn("MSI-X vector {} (address {:#x}, data {:#x}) not delivered: {}", vector, address, data, e.what());
    return;
  }
  uint64_t one = 1;
  // A full counter (EAGAIN) already means an interrupt is on its way.
  if (::write(eventfds_.at(vector).get(), &one, sizeof one) < 0 && errno != EAGAIN)
    spdlog::warn("MSI-X vector {}: write to its irqfd failed: errno {}", vector, errno);
}

}  // namespace shelter::vmm::pci
