#pragma once
// Where things live in guest-physical memory, and the RAM map (e820) the
// loaders hand to the guest. Later ACPI and PCI code places its tables and
// windows from the same description, so the guest sees one consistent map.
#include <cstdint>
#include <vector>

namespace shelter::vmm::memory {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;
inline constexpr uint64_t kPageSize = 4096;

// Fixed low-memory addresses of the boot structures (below the EBDA).
inline constexpr uint64_t kGdtAddress = 0x500;
inline constexpr uint64_t kPvhStartInfoAddress = 0x6000;  // hvm_start_info, memmap, modules
inline constexpr uint64_t kZeroPageAddress = 0x7000;      // Linux boot_params
inline constexpr uint64_t kBootStackTop = 0x8ff0;
inline constexpr uint64_t kPml4Address = 0x9000;  // then the PDPT and four page directories
inline constexpr uint64_t kCmdlineAddress = 0x20000;
inline constexpr uint64_t kCmdlineMaxSize = 0x10000;
// The EBDA and legacy ROM area [0x9fc00, 1 MiB) are reserved, not RAM.
inline constexpr uint64_t kEbdaStart = 0x9fc00;
inline constexpr uint64_t kHighMemoryStart = 1 * kMiB;

// The 32-bit hole below 4 GiB holds device MMIO (PCI windows, LAPIC, IOAPIC);
// RAM beyond it continues at 4 GiB.
inline constexpr uint64_t kPciHoleStart = 3 * kGiB;
inline constexpr uint64_t kPciHoleEnd = 4 * kGiB;
// KVM's private pages on Intel (TSS: three pages; identity map: one page).
inline constexpr uint64_t kKvmIdentityMapAddress = 0xfffbc000;
inline constexpr uint64_t kKvmTssAddress = 0xfffbd000;
// The boot-timer pseudo-device's MMIO page, first page of the hole.
inline constexpr uint64_t kBootTimerAddress = kPciHoleStart;

// ACPI tables (RSDP first) live in the reserved legacy ROM area, where a
// guest that scans for the RSDP finds it too.
inline constexpr uint64_t kAcpiTablesAddress = 0xe0000;
inline constexpr uint64_t kAcpiTablesMaxSize = 0x20000;

// PCI, shared by the host bridge, the BAR allocator and the DSDT/MCFG:
// one segment, bus 0 only, ECAM for it; a 32-bit MMIO window after the
// platform pages; a 64-bit prefetchable window above RAM big enough for
// GPU-sized BARs.
inline constexpr uint64_t kPlatformMmioStart = kPciHoleStart;  // boot timer, ...
inline constexpr uint64_t kPciMmio32Start = kPciHoleStart + 16 * kMiB;
inline constexpr uint64_t kPciMmio32End = 0xe0000000;
inline constexpr uint64_t kPciEcamAddress = 0xe0000000;
inline constexpr uint64_t kPciEcamSize = 256 * kMiB;  // buses 0-255 reserved; bus 0 used
inline constexpr uint64_t kIoApicAddress = 0xfec00000;
inline constexpr uint64_t kLapicAddress = 0xfee00000;
inline constexpr uint64_t kPciMmio64Alignment = 64 * kGiB;
inline constexpr uint64_t kPciMmio64Size = 256 * kGiB;
// Legacy PCI I/O ports for BARs (below them: legacy devices and 0xcf8).
inline constexpr uint64_t kPciIoStart = 0x1000;
inline constexpr uint64_t kPciIoEnd = 0x10000;
// Legacy INTx: device in slot S raises INTA# on GSI 16 + S % 8 (the
// DSDT's _PRT says the same); MSI/MSI-X routes start at kMsiGsiBase.
inline constexpr uint32_t kPciIntxGsiBase = 16;
inline constexpr uint32_t kMsiGsiBase = 24;
constexpr uint32_t pci_intx_gsi(uint32_t slot) noexcept { return kPciIntxGsiBase + slot % 8; }

// e820 entry types (ACPI address range types).
enum class E820Type : uint32_t { kRam = 1, kReserved = 2 };

struct E820Entry {
  uint64_t address;
  uint64_t size;
  E820Type type;
  bool operator==(const E820Entry&) const = default;
};

// One contiguous piece of guest RAM backed by host memory.
struct RamRegion {
  uint64_t guest_address;
  uint64_t size;
  uint64_t end() const noexcept { return guest_address + size; }
};

class MemoryLayout {
 public:
  // RAM of ram_bytes (a multiple of the page size, at least 2 MiB), split
  // around the PCI hole; throws VmmError otherwise.
  explicit MemoryLayout(uint64_t ram_bytes);

  uint64_t ram_bytes() const noexcept { return ram_bytes_; }
  // The RAM regions: below the hole, and above 4 GiB when RAM reaches it.
  const std::vector<RamRegion>& ram_regions() const noexcept { return regions_; }
  // End of RAM below 4 GiB: where 32-bit loaders must stay.
  uint64_t low_ram_end() const noexcept { return regions_.front().end(); }
  // The e820 map: low RAM less the EBDA/ROM area, and high RAM.
  std::vector<E820Entry> e820() const;
  // The 64-bit PCI window: [pci_mmio64_start(), + kPciMmio64Size), the first
  // kPciMmio64Alignment boundary at or above the end of RAM and 4 GiB.
  uint64_t pci_mmio64_start() const noexcept;

 private:
  uint64_t ram_bytes_;
  std::vector<RamRegion> regions_;
};

}  // namespace shelter::vmm::memory
