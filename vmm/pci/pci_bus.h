#pragma once
// PCI segment 0, bus 0: the host bridge at 00:00.0 and up to 31 more
// single-function devices. The guest reaches configuration space through
// the legacy ports 0xcf8/0xcfc and through ECAM, and the devices' memory
// BARs through two MMIO windows. The MMIO bus is fixed once vCPUs run, so
// each window is one dispatcher registered at build time; it routes an
// access through a snapshot of the decoded BARs that a configuration write
// replaces (readers copy the snapshot pointer under a shared lock and
// dispatch without holding it).
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "vmm/devices/bus.h"
#include "vmm/memory/layout.h"
#include "vmm/pci/function.h"

namespace shelter::vmm::pci {

inline constexpr uint16_t kConfigAddressPort = 0xcf8;
inline constexpr uint16_t kConfigPortCount = 8;  // 0xcf8-0xcff
inline constexpr unsigned kSlotCount = 32;
// The host bridge identifies as Red Hat's generic PCIe host bridge (the one
// QEMU's "gpex" uses), which no guest applies chipset quirks to.
inline constexpr uint16_t kHostBridgeVendorId = 0x1b36;
inline constexpr uint16_t kHostBridgeDeviceId = 0x0008;
inline constexpr uint32_t kClassHostBridge = 0x060000;

// Hands out naturally aligned ranges of one window: the lowest free place
// where the size fits, so the gaps that alignment leaves get reused.
class BarAllocator {
 public:
  BarAllocator(uint64_t start, uint64_t end) : free_{{start, end}} {}
  // size is a power of two; throws VmmError when it does not fit.
  uint64_t allocate(uint64_t size);

 private:
  struct Range {
    uint64_t start;
    uint64_t end;
  };
  std::vector<Range> free_;  // sorted, disjoint
};

class PciBus {
 public:
  // The windows come from layout (kPciMmio32Start..End, pci_mmio64_start()).
  explicit PciBus(const memory::MemoryLayout& layout);

  // The lowest empty slot; throws VmmError when the bus is full.
  unsigned free_slot() const;
  // Plugs function into slot and places its BARs in the windows.
  void add(unsigned slot, std::shared_ptr<PciFunction> function);

  // Configuration access of any width; absent functions read all ones.
  void config_read(unsigned bus, unsigned device, unsigned function, uint16_t offset, std::span<uint8_t> data);
  void config_write(unsigned bus, unsigned device, unsigned function, uint16_t offset,
                    std::span<const uint8_t> data);
  // An access inside one of the windows; where no BAR decodes it, reads
  // return all ones and writes are dropped (a master abort).
  void mmio_read(uint64_t address, std::span<uint8_t> data) const;
  void mmio_write(uint64_t address, std::span<const uint8_t> data) const;

  // Registers the configuration ports, ECAM and both window dispatchers.
  void attach(devices::Bus& io, devices::Bus& mmio);

  uint64_t mmio64_start() const noexcept { return mmio64_start_; }

 private:
  struct Route {
    uint64_t base;
    uint64_t size;
    PciFunction* function;  // owned by slots_, which never shrinks
    unsigned bar;
  };
  class ConfigPorts;
  class Ecam;
  class Window;

  PciFunction* find(unsigned bus, unsigned device, unsigned function) const;
  bool inside_a_window(const DecodedBar& bar) const;
  const Route* route(const std::vector<Route>& routes, uint64_t address, size_t size) const;
  // Re-reads every function's decoded BARs; called with config_mutex_ held.
  void refresh_routes();

  uint64_t mmio64_start_;
  BarAllocator mmio32_;
  BarAllocator mmio64_;
  std::array<std::shared_ptr<PciFunction>, kSlotCount> slots_;
  std::mutex config_mutex_;  // serialises configuration accesses
  uint32_t config_address_ = 0;  // the 0xcf8 latch, guarded by config_mutex_
  std::array<std::vector<DecodedBar>, kSlotCount> decoded_;  // guarded by config_mutex_
  mutable std::shared_mutex routes_mutex_;
  std::shared_ptr<const std::vector<Route>> routes_;  // sorted by base
};

}  // namespace shelter::vmm::pci
