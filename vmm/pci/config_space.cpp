#include "vmm/pci/config_space.h"

#include "vmm/kvm/error.h"

namespace shelter::vmm::pci {

void ConfigSpace::read(uint16_t offset, std::span<uint8_t> data) const {
  for (size_t i = 0; i < data.size(); ++i) {
    size_t at = size_t{offset} + i;
    data[i] = at < kConfigSpaceSize ? bytes_[at] : 0;
  }
}

void ConfigSpace::write(uint16_t offset, std::span<const uint8_t> data) {
  for (size_t i = 0; i < data.size(); ++i) {
    size_t at = size_t{offset} + i;
    if (at >= kConfigSpaceSize) break;
    bytes_[at] = static_cast<uint8_t>((bytes_[at] & ~writable_[at]) | (data[i] & writable_[at]));
  }
}

uint16_t ConfigSpace::get16(uint16_t offset) const {
  return static_cast<uint16_t>(get8(offset) | get8(static_cast<uint16_t>(offset + 1)) << 8);
}

uint32_t ConfigSpace::get32(uint16_t offset) const {
  return get16(offset) | uint32_t{get16(static_cast<uint16_t>(offset + 2))} << 16;
}

void ConfigSpace::set16(uint16_t offset, uint16_t value) {
  set8(offset, static_cast<uint8_t>(value));
  set8(static_cast<uint16_t>(offset + 1), static_cast<uint8_t>(value >> 8));
}

void ConfigSpace::set32(uint16_t offset, uint32_t value) {
  set16(offset, static_cast<uint16_t>(value));
  set16(static_cast<uint16_t>(offset + 2), static_cast<uint16_t>(value >> 16));
}

void ConfigSpace::set_writable(uint16_t offset, size_t size, uint64_t mask) {
  for (size_t i = 0; i < size; ++i) writable_.at(offset + i) = static_cast<uint8_t>(mask >> (8 * i));
}

uint16_t ConfigSpace::add_capability(uint8_t id, std::span<const uint8_t> body) {
  // Capabilities start dword-aligned (PCI 3.0, 6.7).
  uint16_t offset = static_cast<uint16_t>((next_capability_ + 3) & ~3);
  if (offset + 2 + body.size() > kConfigSpaceSize) throw VmmError("PCI configuration space is full of capabilities");
  set8(offset, id);
  set8(static_cast<uint16_t>(offset + 1), 0);
  for (size_t i = 0; i < body.size(); ++i) set8(static_cast<uint16_t>(offset + 2 + i), body[i]);
  if (last_capability_ == 0) {
    set8(kCapabilitiesPointer, static_cast<uint8_t>(offset));
    set16(kStatus, get16(kStatus) | kStatusCapabilityList);
  } else {
    set8(static_cast<uint16_t>(last_capability_ + 1), static_cast<uint8_t>(offset));
  }
  last_capability_ = offset;
  next_capability_ = static_cast<uint16_t>(offset + 2 + body.size());
  return offset;
}

}  // namespace shelter::vmm::pci
