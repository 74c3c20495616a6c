#include "vmm/devices/bus.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "vmm/kvm/error.h"

namespace shelter::vmm::devices {

void Bus::insert(uint64_t base, uint64_t length, std::shared_ptr<BusDevice> device) {
  if (length == 0 || base > UINT64_MAX - length) throw VmmError("bus range of a device is empty or wraps");
  auto next = std::upper_bound(ranges_.begin(), ranges_.end(), base,
                               [](uint64_t b, const Range& r) { return b < r.base; });
  bool overlaps_next = next != ranges_.end() && next->base < base + length;
  bool overlaps_previous = next != ranges_.begin() && std::prev(next)->base + std::prev(next)->length > base;
  if (overlaps_next || overlaps_previous) {
    char text[64];
    std::snprintf(text, sizeof text, "0x%llx+0x%llx", static_cast<unsigned long long>(base),
                  static_cast<unsigned long long>(length));
    throw VmmError(std::string("bus range ") + text + " overlaps another device");
  }
  ranges_.insert(next, Range{base, length, std::move(device)});
}

const Bus::Range* Bus::find(uint64_t address, uint64_t size) const {
  auto next = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                               [](uint64_t a, const Range& r) { return a < r.base; });
  if (next == ranges_.begin()) return nullptr;
  const Range& range = *std::prev(next);
  uint64_t offset = address - range.base;
  if (offset >= range.length || size > range.length - offset) return nullptr;
  return &range;
}

bool Bus::read(uint64_t address, std::span<uint8_t> data) const {
  const Range* range = find(address, data.size());
  if (range == nullptr) return false;
  range->device->read(address - range->base, data);
  return true;
}

bool Bus::write(uint64_t address, std::span<const uint8_t> data) const {
  const Range* range = find(address, data.size());
  if (range == nullptr) return false;
  range->device->write(address - range->base, data);
  return true;
}

}  // namespace shelter::vmm::devices
