#include "vmm/pci/function.h"

#include <bit>

#include "vmm/kvm/error.h"

namespace shelter::vmm::pci {
namespace {

constexpr uint32_t kBarMemoryType64 = 0x4;
constexpr uint32_t kBarPrefetchable = 0x8;

uint16_t bar_register(unsigned index) { return static_cast<uint16_t>(kBar0 + 4 * index); }

}  // namespace

PciFunction::PciFunction(const FunctionIdentity& identity) {
  config_.set16(kVendorId, identity.vendor_id);
  config_.set16(kDeviceId, identity.device_id);
  config_.set8(kRevisionId, identity.revision);
  config_.set8(kClassCode, static_cast<uint8_t>(identity.class_code));
  config_.set16(kClassCode + 1, static_cast<uint16_t>(identity.class_code >> 8));
  config_.set16(kSubsystemVendorId, identity.subsystem_vendor_id);
  config_.set16(kSubsystemId, identity.subsystem_id);
  // Memory space, bus master and INTx disable are the command bits this VMM
  // implements (no I/O BARs, no parity or SERR reporting).
  config_.set_writable(kCommand, 2, kCommandMemorySpace | kCommandBusMaster | kCommandInterruptDisable);
  config_.set_writable(kInterruptLine, 1, 0xff);
}

void PciFunction::declare_bar(unsigned index, uint64_t size, BarKind kind) {
  bool is_64 = kind == BarKind::kMemory64Prefetchable;
  if (index + (is_64 ? 1 : 0) >= kBarCount || size < 16 || !std::has_single_bit(size) ||
      (!is_64 && size > (uint64_t{1} << 31)))
    throw VmmError("PCI BAR " + std::to_string(index) + " of " + std::to_string(size) + " bytes cannot be declared");
  bars_[index] = {size, kind};
  uint64_t address_mask = ~(size - 1);
  config_.set32(bar_register(index), is_64 ? kBarMemoryType64 | kBarPrefetchable : 0);
  // The writable mask does BAR sizing: writing all ones reads back ~(size - 1)
  // with the type bits, as the specification's sizing procedure expects.
  config_.set_writable(bar_register(index), 4, address_mask & 0xfffffff0u);
  if (is_64) config_.set_writable(bar_register(index + 1), 4, address_mask >> 32);
}

void PciFunction::place_bar(unsigned index, uint64_t address) {
  std::lock_guard lock(mutex_);
  const BarDeclaration& bar = bars_.at(index);
  if (bar.size == 0 || address % bar.size != 0) throw VmmError("PCI BAR placed at an unaligned address");
  uint32_t flags = config_.get32(bar_register(index)) & 0xf;
  config_.set32(bar_register(index), static_cast<uint32_t>(address) | flags);
  if (bar.kind == BarKind::kMemory64Prefetchable)
    config_.set32(bar_register(index + 1), static_cast<uint32_t>(address >> 32));
}

uint64_t PciFunction::bar_address_locked(unsigned index) const {
  uint64_t address = config_.get32(bar_register(index)) & 0xfffffff0u;
  if (bars_[index].kind == BarKind::kMemory64Prefetchable)
    address |= uint64_t{config_.get32(bar_register(index + 1))} << 32;
  return address;
}

std::vector<DecodedBar> PciFunction::decoded_bars() const {
  std::lock_guard lock(mutex_);
  std::vector<DecodedBar> decoded;
  if ((config_.get16(kCommand) & kCommandMemorySpace) == 0) return decoded;
  for (unsigned i = 0; i < kBarCount; ++i)
    if (bars_[i].size != 0) decoded.push_back({i, bar_address_locked(i), bars_[i].size});
  return decoded;
}

void PciFunction::config_read(uint16_t offset, std::span<uint8_t> data) {
  before_config_read(offset, data.size());
  std::lock_guard lock(mutex_);
  config_.read(offset, data);
}

void PciFunction::config_write(uint16_t offset, std::span<const uint8_t> data) {
  {
    std::lock_guard lock(mutex_);
    config_.write(offset, data);
    on_config_write(offset, data.size());
  }
  after_config_write(offset, data.size());
}

void PciFunction::bar_read(unsigned /*bar*/, uint64_t /*offset*/, std::span<uint8_t> data) {
  for (uint8_t& byte : data) byte = 0;
}

void PciFunction::bar_write(unsigned /*bar*/, uint64_t /*offset*/, std::span<const uint8_t> /*data*/) {}

}  // namespace shelter::vmm::pci
