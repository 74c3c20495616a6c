#pragma once
// The MSI-X capability of a function (PCI 3.0, section 6.8.2): the
// capability in configuration space, the vector table and the pending bit
// array in a BAR, and masking. The owning function guards all of it with
// its mutex.
#include <cstdint>
#include <span>
#include <vector>

#include "vmm/pci/config_space.h"

namespace shelter::vmm::pci {

inline constexpr uint16_t kMsixEntrySize = 16;
inline constexpr uint16_t kMsixMaxVectors = 2048;
inline constexpr uint16_t kMsixControlEnable = 1 << 15;
inline constexpr uint16_t kMsixControlFunctionMask = 1 << 14;
inline constexpr uint32_t kMsixVectorMasked = 1;

// Where an unmasked vector's message goes.
class MsiSink {
 public:
  virtual ~MsiSink() = default;
  virtual void signal_msi(uint16_t vector, uint64_t address, uint32_t data) = 0;
};

class Msix {
 public:
  // Adds the capability to config; the table and the PBA lie in bar at the
  // given offsets (8-byte aligned).
  Msix(ConfigSpace& config, uint16_t vectors, unsigned bar, uint32_t table_offset, uint32_t pba_offset,
       MsiSink& sink);

  uint16_t vector_count() const noexcept { return vectors_; }
  uint32_t table_size() const noexcept { return uint32_t{vectors_} * kMsixEntrySize; }
  uint32_t pba_size() const noexcept { return static_cast<uint32_t>(pending_.size() * 8); }
  uint16_t capability_offset() const noexcept { return capability_; }
  bool enabled() const;

  // Guest accesses at any width inside the table or the PBA (the PBA is read-only).
  void table_read(uint64_t offset, std::span<uint8_t> data) const;
  void table_write(uint64_t offset, std::span<const uint8_t> data);
  void pba_read(uint64_t offset, std::span<uint8_t> data) const;
  // After a configuration write: delivers pending vectors a cleared
  // function mask released.
  void control_written();

  // Raises vector (< vector_count()): delivered now, or left pending while
  // masked. Only meaningful while enabled().
  void signal(uint16_t vector);
  bool pending(uint16_t vector) const;

 private:
  bool masked(uint16_t vector) const;
  void deliver_if_released(uint16_t vector);
  uint32_t entry32(uint16_t vector, unsigned field) const;

  ConfigSpace* config_;
  MsiSink* sink_;
  uint16_t vectors_;
  uint16_t capability_;
  std::vector<uint8_t> table_;
  std::vector<uint64_t> pending_;
};

}  // namespace shelter::vmm::pci
