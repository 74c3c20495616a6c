/* The PVH probe: checks the hvm_start_info the VMM handed over in EBX. */
#include "probe.h"

struct hvm_start_info {
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
  uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry {
  uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_table_entry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

void pvh_probe_main(uint32_t start_info_address) {
  probe_boot_timer();
  probe_puts("shelter probe: PVH boot\n");
  const volatile struct hvm_start_info *info = (const volatile struct hvm_start_info *)(uintptr_t)start_info_address;
  struct probe_boot boot = {0};
  boot.boot_info_address = start_info_address;
  if (info->magic != 0x336ec578) {
    probe_fail("start-info", "bad magic");
    boot.cmdline = "";
    probe_finish(&boot);
  }
  if (info->version < 1) probe_fail("start-info", "version 0 has no memory map");
  else if (info->nr_modules > 1) probe_fail("start-info", "more than one module");
  else probe_pass("start-info");
  boot.cmdline = (const char *)(uintptr_t)info->cmdline_paddr;
  if (info->nr_modules == 1) {
    const volatile struct hvm_modlist_entry *module = (const volatile struct hvm_modlist_entry *)(uintptr_t)info->modlist_paddr;
    boot.initrd_address = module->paddr;
    boot.initrd_size = module->size;
  }
  boot.e820_count = info->memmap_entries > PROBE_MAX_E820 ? PROBE_MAX_E820 : info->memmap_entries;
  const volatile struct hvm_memmap_table_entry *map = (const volatile struct hvm_memmap_table_entry *)(uintptr_t)info->memmap_paddr;
  for (unsigned i = 0; i < boot.e820_count; ++i) {
    boot.e820[i].address = map[i].addr;
    boot.e820[i].size = map[i].size;
    boot.e820[i].type = map[i].type;
  }
  probe_finish(&boot);
}
