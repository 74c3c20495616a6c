#pragma once
// An address bus (the port I/O space or the MMIO space) that routes a
// vCPU's access to the device covering its address. The bus is built before
// the vCPUs start and is read-only afterwards; each device serialises its
// own state, since several vCPU threads may reach it at once.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace shelter::vmm::devices {

class BusDevice {
 public:
  virtual ~BusDevice() = default;
  // offset: from the start of the device's range; data.size() is 1 to 8.
  virtual void read(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void write(uint64_t offset, std::span<const uint8_t> data) = 0;
};

class Bus {
 public:
  // Throws VmmError when [base, base + length) overlaps a registered range.
  void insert(uint64_t base, uint64_t length, std::shared_ptr<BusDevice> device);
  // False when no device covers the access (the access must lie inside one
  // device's range entirely).
  bool read(uint64_t address, std::span<uint8_t> data) const;
  bool write(uint64_t address, std::span<const uint8_t> data) const;

 private:
  struct Range {
    uint64_t base;
    uint64_t length;
    std::shared_ptr<BusDevice> device;
  };
  const Range* find(uint64_t address, uint64_t size) const;
  std::vector<Range> ranges_;  // sorted by base, disjoint
};

}  // namespace shelter::vmm::devices
