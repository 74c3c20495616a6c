/* The bzImage probe: entered through the 64-bit Linux boot protocol with
 * RSI pointing at the zero page; checks what it holds. */
#include "probe.h"

static uint8_t u8_at(uint64_t base, unsigned offset) { return *(volatile uint8_t *)(uintptr_t)(base + offset); }
static uint16_t u16_at(uint64_t base, unsigned offset) { return *(volatile uint16_t *)(uintptr_t)(base + offset); }
static uint32_t u32_at(uint64_t base, unsigned offset) { return *(volatile uint32_t *)(uintptr_t)(base + offset); }
static uint64_t u64_at(uint64_t base, unsigned offset) { return *(volatile uint64_t *)(uintptr_t)(base + offset); }

void bzimage_probe_main(uint64_t zero_page) {
  probe_boot_timer();
  probe_puts("shelter probe: bzImage, 64-bit boot protocol\n");
  struct probe_boot boot = {0};
  boot.boot_info_address = zero_page;
  if (u16_at(zero_page, 0x1fe) != 0xaa55 || u32_at(zero_page, 0x202) != 0x53726448)
    probe_fail("zero-page", "no setup header in the zero page");
  else if (u8_at(zero_page, 0x210) == 0)
    probe_fail("zero-page", "type_of_loader not set");
  else if (u16_at(zero_page, 0x206) != 0x020f)
    probe_fail("zero-page", "the header's protocol version was not copied");
  else
    probe_pass("zero-page");
  boot.cmdline = (const char *)(uintptr_t)u32_at(zero_page, 0x228);
  boot.initrd_address = u32_at(zero_page, 0x218);
  boot.initrd_size = u32_at(zero_page, 0x21c);
  boot.e820_count = u8_at(zero_page, 0x1e8);
  if (boot.e820_count > PROBE_MAX_E820) boot.e820_count = PROBE_MAX_E820;
  for (unsigned i = 0; i < boot.e820_count; ++i) {
    unsigned entry = 0x2d0 + 20 * i;
    boot.e820[i].address = u64_at(zero_page, entry);
    boot.e820[i].size = u64_at(zero_page, entry + 8);
    boot.e820[i].type = u32_at(zero_page, entry + 16);
  }
  probe_finish(&boot);
}
