#include "vmm/pci/msix.h"

#include <cstring>

#include "vmm/kvm/error.h"

namespace shelter::vmm::pci {
namespace {

constexpr unsigned kAddressLow = 0;
constexpr unsigned kAddressHigh = 4;
constexpr unsigned kData = 8;
constexpr unsigned kVectorControl = 12;

}  // namespace

Msix::Msix(ConfigSpace& config, uint16_t vectors, unsigned bar, uint32_t table_offset, uint32_t pba_offset,
           MsiSink& sink)
    : config_(&config),
      sink_(&sink),
      vectors_(vectors),
      table_(size_t{vectors} * kMsixEntrySize),
      pending_((vectors + 63u) / 64) {
  if (vectors == 0 || vectors > kMsixMaxVectors || bar >= 6 || table_offset % 8 != 0 || pba_offset % 8 != 0)
    throw VmmError("invalid MSI-X layout");
  // Every vector starts masked (PCI 3.0, 6.8.2.9).
  for (uint16_t v = 0; v < vectors; ++v) table_[size_t{v} * kMsixEntrySize + kVectorControl] = kMsixVectorMasked;
  uint8_t body[10] = {};
  uint16_t control = static_cast<uint16_t>(vectors - 1);
  std::memcpy(body, &control, 2);
  uint32_t table = table_offset | bar;
  uint32_t pba = pba_offset | bar;
  std::memcpy(body + 2, &table, 4);
  std::memcpy(body + 6, &pba, 4);
  capability_ = config.add_capability(kCapabilityMsix, body);
  config.set_writable(static_cast<uint16_t>(capability_ + 2), 2, kMsixControlEnable | kMsixControlFunctionMask);
}

bool Msix::enabled() const {
  return (config_->get16(static_cast<uint16_t>(capability_ + 2)) & kMsixControlEnable) != 0;
}

uint32_t Msix::entry32(uint16_t vector, unsigned field) const {
  uint32_t value;
  std::memcpy(&value, &table_[size_t{vector} * kMsixEntrySize + field], 4);
  return value;
}

bool Msix::masked(uint16_t vector) const {
  bool function_masked =
      (config_->get16(static_cast<uint16_t>(capability_ + 2)) & kMsixControlFunctionMask) != 0;
  return function_masked || (entry32(vector, kVectorControl) & kMsixVectorMasked) != 0;
}

bool Msix::pending(uint16_t vector) const { return (pending_[vector / 64] >> (vector % 64) & 1) != 0; }

void Msix::table_read(uint64_t offset, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) data[i] = offset + i < table_.size() ? table_[offset + i] : 0;
}

void Msix::table_write(uint64_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size() && offset + i < table_.size(); ++i) {
    uint64_t at = offset + i;
    uint64_t field = at % kMsixEntrySize;
    // Only the mask bit of the vector control dword is writable.
    if (field >= kVectorControl)
      table_[at] = field == kVectorControl ? (data[i] & kMsixVectorMasked) : 0;
    else
      table_[at] = data[i];
  }
  if (offset >= table_.size() || data.empty()) return;
  uint64_t last = std::min<uint64_t>(offset + data.size() - 1, table_.size() - 1);
  for (uint64_t v = offset / kMsixEntrySize; v <= last / kMsixEntrySize; ++v)
    deliver_if_released(static_cast<uint16_t>(v));
}

void Msix::pba_read(uint64_t offset, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    uint64_t at = offset + i;
    data[i] = at < pba_size() ? static_cast<uint8_t>(pending_[at / 8] >> (8 * (at % 8))) : 0;
  }
}

void Msix::control_written() {
  for (uint16_t v = 0; v < vectors_; ++v) deliver_if_released(v);
}

void Msix::deliver_if_released(uint16_t vector) {
  if (!enabled() || !pending(vector) || masked(vector)) return;
  pending_[vector / 64] &= ~(uint64_t{1} << (vector % 64));
  uint64_t address = entry32(vector, kAddressLow) | uint64_t{entry32(vector, kAddressHigh)} << 32;
  sink_->signal_msi(vector, address, entry32(vector, kData));
}

void Msix::signal(uint16_t vector) {
  if (vector >= vectors_) return;
  pending_[vector / 64] |= uint64_t{1} << (vector % 64);
  deliver_if_released(vector);
}

}  // namespace shelter::vmm::pci
