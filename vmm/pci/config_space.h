#pragma once
// One PCI function's configuration space as the guest sees it: the bytes,
// which bits a guest write may change, and the capability list. Guest
// accesses of any width at any offset go through read() and write(); the
// device side sets fields directly with the set_* helpers.
#include <array>
#include <cstdint>
#include <span>

namespace shelter::vmm::pci {

// The conventional space; ECAM's extended space (256..4095) reads as 0.
inline constexpr uint16_t kConfigSpaceSize = 256;
inline constexpr uint16_t kExtendedConfigSpaceSize = 4096;

// Type 0 header fields (PCI Local Bus 3.0, section 6.1).
inline constexpr uint16_t kVendorId = 0x00;
inline constexpr uint16_t kDeviceId = 0x02;
inline constexpr uint16_t kCommand = 0x04;
inline constexpr uint16_t kStatus = 0x06;
inline constexpr uint16_t kRevisionId = 0x08;
inline constexpr uint16_t kClassCode = 0x09;  // prog-if, subclass, class
inline constexpr uint16_t kHeaderType = 0x0e;
inline constexpr uint16_t kBar0 = 0x10;
inline constexpr uint16_t kSubsystemVendorId = 0x2c;
inline constexpr uint16_t kSubsystemId = 0x2e;
inline constexpr uint16_t kCapabilitiesPointer = 0x34;
inline constexpr uint16_t kInterruptLine = 0x3c;
inline constexpr uint16_t kInterruptPin = 0x3d;
inline constexpr uint16_t kFirstCapability = 0x40;

inline constexpr uint16_t kCommandMemorySpace = 1 << 1;
inline constexpr uint16_t kCommandBusMaster = 1 << 2;
inline constexpr uint16_t kCommandInterruptDisable = 1 << 10;
inline constexpr uint16_t kStatusInterrupt = 1 << 3;
inline constexpr uint16_t kStatusCapabilityList = 1 << 4;

inline constexpr uint8_t kCapabilityMsix = 0x11;
inline constexpr uint8_t kCapabilityVendor = 0x09;

class ConfigSpace {
 public:
  // Guest access: offsets at or past 256 read 0 and ignore writes; the
  // caller keeps offset + size within the 4 KiB extended space.
  void read(uint16_t offset, std::span<uint8_t> data) const;
  // Changes only the bits writable() allows.
  void write(uint16_t offset, std::span<const uint8_t> data);

  // Device side.
  uint8_t get8(uint16_t offset) const { return bytes_.at(offset); }
  uint16_t get16(uint16_t offset) const;
  uint32_t get32(uint16_t offset) const;
  void set8(uint16_t offset, uint8_t value) { bytes_.at(offset) = value; }
  void set16(uint16_t offset, uint16_t value);
  void set32(uint16_t offset, uint32_t value);
  // Marks bits of the little-endian field at offset as guest-writable.
  void set_writable(uint16_t offset, size_t size, uint64_t mask);
  // Appends a capability (body: the bytes after the ID and next pointer)
  // and links it into the list; returns its offset. Throws VmmError when the
  // space is full.
  uint16_t add_capability(uint8_t id, std::span<const uint8_t> body);

 private:
  std::array<uint8_t, kConfigSpaceSize> bytes_{};
  std::array<uint8_t, kConfigSpaceSize> writable_{};
  uint16_t next_capability_ = kFirstCapability;
  uint16_t last_capability_ = 0;
};

}  // namespace shelter::vmm::pci
