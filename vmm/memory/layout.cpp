#include "vmm/memory/layout.h"

#include <algorithm>
#include <string>

#include "vmm/kvm/error.h"

namespace shelter::vmm::memory {

inline constexpr uint64_t kMinimumRam = 2 * kMiB;

MemoryLayout::MemoryLayout(uint64_t ram_bytes) : ram_bytes_(ram_bytes) {
  if (ram_bytes < kMinimumRam)
    throw VmmError("guest memory of " + std::to_string(ram_bytes) + " bytes is below the minimum of 2 MiB");
  if (ram_bytes % kPageSize != 0)
    throw VmmError("guest memory of " + std::to_string(ram_bytes) + " bytes is not a whole number of pages");
  // Guest-physical addresses stay far below 2^46 on any x86-64 KVM host.
  if (ram_bytes > (uint64_t{1} << 45))
    throw VmmError("guest memory of " + std::to_string(ram_bytes / kMiB) + " MiB is larger than supported");
  uint64_t low = std::min(ram_bytes, kPciHoleStart);
  regions_.push_back({0, low});
  if (ram_bytes > low) regions_.push_back({kPciHoleEnd, ram_bytes - low});
}

std::vector<E820Entry> MemoryLayout::e820() const {
  std::vector<E820Entry> map;
  map.push_back({0, kEbdaStart, E820Type::kRam});
  map.push_back({kEbdaStart, kHighMemoryStart - kEbdaStart, E820Type::kReserved});
  map.push_back({kHighMemoryStart, low_ram_end() - kHighMemoryStart, E820Type::kRam});
  if (regions_.size() > 1) map.push_back({regions_[1].guest_address, regions_[1].size, E820Type::kRam});
  return map;
}

uint64_t MemoryLayout::pci_mmio64_start() const noexcept {
  uint64_t end = std::max(regions_.back().end(), kPciHoleEnd);
  return (end + kPciMmio64Alignment - 1) / kPciMmio64Alignment * kPciMmio64Alignment;
}

}  // namespace shelter::vmm::memory
