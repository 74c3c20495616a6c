#pragma once
// A PCI function: its configuration space (type 0 header) and up to six
// memory BARs. The guest sizes and places the BARs and enables decoding;
// the bus reads the result back through decoded_bars() to route MMIO.
//
// Locking: the configuration space is guarded by the function's mutex. The
// on_* hooks run with it held; the after/before hooks run without it, for
// work that must take other locks (a device's own, say).
#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "vmm/pci/config_space.h"

namespace shelter::vmm::pci {

inline constexpr unsigned kBarCount = 6;

enum class BarKind {
  kMemory32,              // placed in the 32-bit window
  kMemory64Prefetchable,  // two BAR slots, placed in the 64-bit window
};

struct BarDeclaration {
  uint64_t size = 0;  // 0: no BAR in this slot
  BarKind kind = BarKind::kMemory32;
};

// A BAR as the function decodes it right now.
struct DecodedBar {
  unsigned index;
  uint64_t address;
  uint64_t size;
  bool operator==(const DecodedBar&) const = default;
};

struct FunctionIdentity {
  uint16_t vendor_id;
  uint16_t device_id;
  uint32_t class_code;  // class << 16 | subclass << 8 | prog-if
  uint8_t revision = 0;
  uint16_t subsystem_vendor_id = 0;
  uint16_t subsystem_id = 0;
};

class PciFunction {
 public:
  virtual ~PciFunction() = default;
  PciFunction(const PciFunction&) = delete;
  PciFunction& operator=(const PciFunction&) = delete;

  // Guest configuration access; the bus keeps offset + size within 4 KiB.
  void config_read(uint16_t offset, std::span<uint8_t> data);
  void config_write(uint16_t offset, std::span<const uint8_t> data);
  // Guest access inside a decoded memory BAR (offset + size <= BAR size).
  virtual void bar_read(unsigned bar, uint64_t offset, std::span<uint8_t> data);
  virtual void bar_write(unsigned bar, uint64_t offset, std::span<const uint8_t> data);
  // The bus saw decoded_bars() change (a BAR moved, decoding turned on or off).
  virtual void decoding_changed() {}

  const std::array<BarDeclaration, kBarCount>& bar_declarations() const noexcept { return bars_; }
  // The memory BARs the function decodes: none while memory space is
  // disabled in the command register.
  std::vector<DecodedBar> decoded_bars() const;
  // Firmware's job at build time: the BAR's initial address.
  void place_bar(unsigned index, uint64_t address);

 protected:
  explicit PciFunction(const FunctionIdentity& identity);
  // A power-of-two size of at least 16 bytes; a 64-bit BAR takes index + 1 too.
  void declare_bar(unsigned index, uint64_t size, BarKind kind);
  // Hooks around guest configuration accesses (see the locking note above).
  virtual void before_config_read(uint16_t /*offset*/, size_t /*size*/) {}
  virtual void on_config_write(uint16_t /*offset*/, size_t /*size*/) {}
  virtual void after_config_write(uint16_t /*offset*/, size_t /*size*/) {}

  mutable std::mutex mutex_;
  ConfigSpace config_;  // guarded by mutex_

 private:
  uint64_t bar_address_locked(unsigned index) const;
  std::array<BarDeclaration, kBarCount> bars_{};
};

}  // namespace shelter::vmm::pci
