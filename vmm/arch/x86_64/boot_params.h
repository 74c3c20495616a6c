#pragma once
// The Linux x86 boot protocol's structures (Documentation/arch/x86/boot.rst
// and zero-page.rst), laid out byte for byte; offsets are from the start of
// the zero page (boot_params), as the protocol documents them.
#include <cstddef>
#include <cstdint>

namespace shelter::vmm::x86_64 {

#pragma pack(push, 1)

struct SetupHeader {
  uint8_t setup_sects;
  uint16_t root_flags;
  uint32_t syssize;
  uint16_t ram_size;
  uint16_t vid_mode;
  uint16_t root_dev;
  uint16_t boot_flag;
  uint16_t jump;
  uint32_t header;
  uint16_t version;
  uint32_t realmode_swtch;
  uint16_t start_sys_seg;
  uint16_t kernel_version;
  uint8_t type_of_loader;
  uint8_t loadflags;
  uint16_t setup_move_size;
  uint32_t code32_start;
  uint32_t ramdisk_image;
  uint32_t ramdisk_size;
  uint32_t bootsect_kludge;
  uint16_t heap_end_ptr;
  uint8_t ext_loader_ver;
  uint8_t ext_loader_type;
  uint32_t cmd_line_ptr;
  uint32_t initrd_addr_max;
  uint32_t kernel_alignment;
  uint8_t relocatable_kernel;
  uint8_t min_alignment;
  uint16_t xloadflags;
  uint32_t cmdline_size;
  uint32_t hardware_subarch;
  uint64_t hardware_subarch_data;
  uint32_t payload_offset;
  uint32_t payload_length;
  uint64_t setup_data;
  uint64_t pref_address;
  uint32_t init_size;
  uint32_t handover_offset;
  uint32_t kernel_info_offset;
};

struct BootE820Entry {
  uint64_t address;
  uint64_t size;
  uint32_t type;
};

inline constexpr size_t kZeroPageE820Max = 128;

struct BootParams {
  uint8_t screen_info[0x40];
  uint8_t apm_bios_info[0x14];
  uint8_t pad1[4];
  uint64_t tboot_addr;
  uint8_t ist_info[0x10];
  uint64_t acpi_rsdp_addr;
  uint8_t pad2[8];
  uint8_t hd0_info[0x10];
  uint8_t hd1_info[0x10];
  uint8_t sys_desc_table[0x10];
  uint8_t olpc_ofw_header[0x10];
  uint32_t ext_ramdisk_image;
  uint32_t ext_ramdisk_size;
  uint32_t ext_cmd_line_ptr;
  uint8_t pad3[0x74];
  uint8_t edid_info[0x80];
  uint8_t efi_info[0x20];
  uint32_t alt_mem_k;
  uint32_t scratch;
  uint8_t e820_entries;
  uint8_t eddbuf_entries;
  uint8_t edd_mbr_sig_buf_entries;
  uint8_t kbd_status;
  uint8_t secure_boot;
  uint8_t pad4[2];
  uint8_t sentinel;
  uint8_t pad5[1];
  SetupHeader hdr;
  uint8_t pad6[0x290 - 0x1f1 - sizeof(SetupHeader)];
  uint8_t edd_mbr_sig_buffer[0x40];
  BootE820Entry e820_table[kZeroPageE820Max];
  uint8_t pad7[0x30];
  uint8_t eddbuf[0x1ec];
  uint8_t pad8[0x114];
};

#pragma pack(pop)

static_assert(sizeof(SetupHeader) == 0x26c - 0x1f1);
static_assert(offsetof(SetupHeader, boot_flag) == 0x1fe - 0x1f1);
static_assert(offsetof(SetupHeader, header) == 0x202 - 0x1f1);
static_assert(offsetof(SetupHeader, version) == 0x206 - 0x1f1);
static_assert(offsetof(SetupHeader, type_of_loader) == 0x210 - 0x1f1);
static_assert(offsetof(SetupHeader, loadflags) == 0x211 - 0x1f1);
static_assert(offsetof(SetupHeader, code32_start) == 0x214 - 0x1f1);
static_assert(offsetof(SetupHeader, ramdisk_image) == 0x218 - 0x1f1);
static_assert(offsetof(SetupHeader, ramdisk_size) == 0x21c - 0x1f1);
static_assert(offsetof(SetupHeader, heap_end_ptr) == 0x224 - 0x1f1);
static_assert(offsetof(SetupHeader, cmd_line_ptr) == 0x228 - 0x1f1);
static_assert(offsetof(SetupHeader, initrd_addr_max) == 0x22c - 0x1f1);
static_assert(offsetof(SetupHeader, kernel_alignment) == 0x230 - 0x1f1);
static_assert(offsetof(SetupHeader, relocatable_kernel) == 0x234 - 0x1f1);
static_assert(offsetof(SetupHeader, xloadflags) == 0x236 - 0x1f1);
static_assert(offsetof(SetupHeader, cmdline_size) == 0x238 - 0x1f1);
static_assert(offsetof(SetupHeader, payload_offset) == 0x248 - 0x1f1);
static_assert(offsetof(SetupHeader, setup_data) == 0x250 - 0x1f1);
static_assert(offsetof(SetupHeader, pref_address) == 0x258 - 0x1f1);
static_assert(offsetof(SetupHeader, init_size) == 0x260 - 0x1f1);
static_assert(offsetof(SetupHeader, kernel_info_offset) == 0x268 - 0x1f1);
static_assert(sizeof(BootE820Entry) == 20);
static_assert(offsetof(BootParams, acpi_rsdp_addr) == 0x070);
static_assert(offsetof(BootParams, ext_ramdisk_image) == 0x0c0);
static_assert(offsetof(BootParams, ext_ramdisk_size) == 0x0c4);
static_assert(offsetof(BootParams, ext_cmd_line_ptr) == 0x0c8);
static_assert(offsetof(BootParams, e820_entries) == 0x1e8);
static_assert(offsetof(BootParams, sentinel) == 0x1ef);
static_assert(offsetof(BootParams, hdr) == 0x1f1);
static_assert(offsetof(BootParams, e820_table) == 0x2d0);
static_assert(offsetof(BootParams, eddbuf) == 0xd00);
static_assert(sizeof(BootParams) == 4096);

inline constexpr uint16_t kBootFlag = 0xaa55;
inline constexpr uint32_t kHeaderMagic = 0x53726448;  // "HdrS"
inline constexpr uint16_t kMinimumBootProtocol = 0x020c;  // 2.12: xloadflags, 64-bit entry
inline constexpr uint8_t kLoadedHigh = 0x01;              // loadflags
inline constexpr uint8_t kCanUseHeap = 0x80;              // loadflags
inline constexpr uint16_t kXlfKernel64 = 0x01;            // xloadflags: 64-bit entry at +0x200
inline constexpr uint8_t kLoaderTypeUndefined = 0xff;
inline constexpr uint64_t kEntry64Offset = 0x200;
// Default initrd_addr_max for loaders given no setup header (plain vmlinux).
inline constexpr uint32_t kDefaultInitrdAddrMax = 0x37ffffff;

}  // namespace shelter::vmm::x86_64
