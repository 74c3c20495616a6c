#include "probe.h"

unsigned probe_failures;

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *dest, int value, size_t size) {
  uint8_t *d = dest;
  while (size--) *d++ = (uint8_t)value;
  return dest;
}

void *memcpy(void *dest, const void *src, size_t size) {
  uint8_t *d = dest;
  const uint8_t *s = src;
  while (size--) *d++ = *s++;
  return dest;
}

static void serial_putc(char c) {
  while ((inb(PROBE_SERIAL_PORT + 5) & 0x20) == 0) {
  }
  outb(PROBE_SERIAL_PORT, (uint8_t)c);
}

void probe_puts(const char *text) {
  while (*text) serial_putc(*text++);
}

void probe_put_hex(uint64_t value) {
  char digits[19] = "0x";
  int i;
  for (i = 0; i < 16; ++i) digits[2 + i] = "0123456789abcdef"[(value >> (60 - 4 * i)) & 0xf];
  digits[18] = 0;
  probe_puts(digits);
}

void probe_put_dec(uint64_t value) {
  char digits[21];
  int i = 20;
  digits[i] = 0;
  do {
    digits[--i] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  probe_puts(digits + i);
}

void probe_pass(const char *check) {
  probe_puts("PASS ");
  probe_puts(check);
  probe_puts("\n");
}

void probe_fail(const char *check, const char *why) {
  ++probe_failures;
  probe_puts("FAIL ");
  probe_puts(check);
  probe_puts(": ");
  probe_puts(why);
  probe_puts("\n");
}

void probe_boot_timer(void) { *(volatile uint8_t *)PROBE_BOOT_TIMER = PROBE_BOOT_TIMER_MAGIC; }

const char *probe_cmdline_value(const char *cmdline, const char *key) {
  const char *p = cmdline;
  while (*p) {
    while (*p == ' ') ++p;
    const char *k = key;
    const char *q = p;
    while (*k && *q == *k) ++k, ++q;
    if (*k == 0 && *q == '=') return q + 1;
    while (*p && *p != ' ') ++p;
  }
  return 0;
}

uint64_t probe_parse_number(const char *text, unsigned base) {
  uint64_t value = 0;
  for (;; ++text) {
    unsigned digit;
    if (*text >= '0' && *text <= '9') digit = (unsigned)(*text - '0');
    else if (*text >= 'a' && *text <= 'f') digit = (unsigned)(*text - 'a' + 10);
    else break;
    if (digit >= base) break;
    value = value * base + digit;
  }
  return value;
}

uint32_t probe_fnv1a(const uint8_t *bytes, uint64_t size) {
  uint32_t hash = 2166136261u;
  for (uint64_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

static void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
  __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}

static uint64_t rdmsr(uint32_t index) {
  uint32_t low, high;
  __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(index));
  return ((uint64_t)high << 32) | low;
}

static void check_cmdline(const struct probe_boot *boot) {
  unsigned length = 0;
  while (length < 4096 && boot->cmdline[length]) ++length;
  if (length == 4096) {
    probe_fail("cmdline", "not NUL-terminated within 4096 bytes");
    return;
  }
  /* The host compares this line with the command line it passed. */
  probe_puts("cmdline: ");
  probe_puts(boot->cmdline);
  probe_puts("\n");
  probe_pass("cmdline");
}

static int ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

static int inside_ram(const struct probe_boot *boot, uint64_t start, uint64_t end) {
  for (unsigned i = 0; i < boot->e820_count; ++i) {
    const struct probe_e820 *e = &boot->e820[i];
    if (e->type == 1 && start >= e->address && end <= e->address + e->size) return 1;
  }
  return 0;
}

static void check_e820(const struct probe_boot *boot) {
  uint64_t kernel_start = (uint64_t)(uintptr_t)_kernel_start, kernel_end = (uint64_t)(uintptr_t)_kernel_end;
  uint64_t total = 0;
  for (unsigned i = 0; i < boot->e820_count; ++i) {
    probe_puts("e820: ");
    probe_put_hex(boot->e820[i].address);
    probe_puts(" ");
    probe_put_hex(boot->e820[i].size);
    probe_puts(" type ");
    probe_put_dec(boot->e820[i].type);
    probe_puts("\n");
  }
  if (boot->e820_count == 0) {
    probe_fail("e820", "no entries");
    return;
  }
  for (unsigned i = 0; i < boot->e820_count; ++i) {
    const struct probe_e820 *e = &boot->e820[i];
    if (e->size == 0) { probe_fail("e820", "empty entry"); return; }
    if (i > 0 && boot->e820[i - 1].address + boot->e820[i - 1].size > e->address) {
      probe_fail("e820", "entries overlap or are unsorted");
      return;
    }
    if (e->type != 1 && ranges_overlap(e->address, e->size, kernel_start, kernel_end - kernel_start)) {
      probe_fail("e820", "a reserved range overlaps the kernel");
      return;
    }
    total += e->size;
  }
  if (!inside_ram(boot, kernel_start, kernel_end)) { probe_fail("e820", "the kernel is not inside RAM"); return; }
  if (!inside_ram(boot, boot->boot_info_address, boot->boot_info_address + 56)) {
    probe_fail("e820", "the boot information is not inside RAM");
    return;
  }
  const char *mem = probe_cmdline_value(boot->cmdline, "mem_mib");
  if (mem && total != probe_parse_number(mem, 10) << 20) {
    probe_fail("e820", "the map does not add up to mem_mib");
    return;
  }
  probe_puts("e820 entries: ");
  probe_put_dec(boot->e820_count);
  probe_puts(", bytes: ");
  probe_put_hex(total);
  probe_puts("\n");
  probe_pass("e820");
}

static void check_initrd(const struct probe_boot *boot) {
  const char *size = probe_cmdline_value(boot->cmdline, "initrd_size");
  const char *fnv = probe_cmdline_value(boot->cmdline, "initrd_fnv");
  if (!size || !fnv) {
    if (boot->initrd_size != 0) probe_fail("initrd", "an initrd arrived that the cmdline does not describe");
    else probe_pass("initrd (none)");
    return;
  }
  uint64_t kernel_end = (uint64_t)(uintptr_t)_kernel_end;
  if (boot->initrd_size != probe_parse_number(size, 10)) { probe_fail("initrd", "size differs"); return; }
  if (boot->initrd_address < kernel_end) { probe_fail("initrd", "overlaps the kernel"); return; }
  if (!inside_ram(boot, boot->initrd_address, boot->initrd_address + boot->initrd_size)) {
    probe_fail("initrd", "not inside RAM");
    return;
  }
  uint32_t hash = probe_fnv1a((const uint8_t *)(uintptr_t)boot->initrd_address, boot->initrd_size);
  if (hash != (uint32_t)probe_parse_number(fnv, 16)) { probe_fail("initrd", "checksum differs"); return; }
  probe_pass("initrd");
}

static void check_long_mode(void) {
  uint64_t cr0, cr4;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  uint64_t efer = rdmsr(0xc0000080);
  if (!(cr0 & 1) || !(cr0 & (1ul << 31))) { probe_fail("long-mode", "CR0.PE/PG clear"); return; }
  if (!(cr4 & (1 << 5))) { probe_fail("long-mode", "CR4.PAE clear"); return; }
  if (!(efer & (1 << 10))) { probe_fail("long-mode", "EFER.LMA clear"); return; }
  probe_pass("long-mode");
}

/* What each application processor found about itself. */
struct ap_report {
  uint32_t lapic_id, cpuid_apic_id, x2apic_id;
};
uint8_t probe_ap_stacks[PROBE_MAX_APS * 4096] __attribute__((aligned(16)));
static volatile struct ap_report ap_reports[PROBE_MAX_APS];
static volatile uint32_t aps_reported;
extern const uint8_t ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_cr3[];

static volatile uint32_t *lapic_register(unsigned offset) {
  return (volatile uint32_t *)(PROBE_LAPIC_BASE + offset);
}

void probe_ap_main(uint32_t slot) {
  uint32_t a, b, c, d;
  ap_reports[slot].lapic_id = *lapic_register(0x20) >> 24;
  cpuid(1, 0, &a, &b, &c, &d);
  ap_reports[slot].cpuid_apic_id = b >> 24;
  cpuid(0, 0, &a, &b, &c, &d);
  if (a >= 0xb) {
    cpuid(0xb, 0, &a, &b, &c, &d);
    ap_reports[slot].x2apic_id = d;
  } else {
    ap_reports[slot].x2apic_id = ap_reports[slot].cpuid_apic_id;
  }
  __atomic_add_fetch(&aps_reported, 1, __ATOMIC_SEQ_CST);
}

static void spin(unsigned long iterations) {
  for (unsigned long i = 0; i < iterations; ++i) __asm__ volatile("pause");
}

static void send_ipi(uint32_t command) {
  *lapic_register(0x310) = 0;
  *lapic_register(0x300) = command;
  while (*lapic_register(0x300) & (1u << 12)) __asm__ volatile("pause"); /* delivery pending */
}

/* INIT-SIPI-SIPI to all but self (Intel SDM vol. 3, 8.4.4), after copying
 * the start-up code to the SIPI vector's page; returns once every expected
 * AP reported, or after a bounded wait. */
static void start_aps(uint32_t count) {
  uint8_t *trampoline;
  uint64_t cr3;
  __asm__("" : "=r"(trampoline) : "0"((uintptr_t)PROBE_TRAMPOLINE_BASE));
  memcpy(trampoline, ap_trampoline_start, (size_t)(ap_trampoline_end - ap_trampoline_start));
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  *(volatile uint32_t *)(trampoline + (ap_trampoline_cr3 - ap_trampoline_start)) = (uint32_t)cr3;
  *lapic_register(0xf0) = 0x1ff; /* software-enable the LAPIC */
  send_ipi(0x000c4500);         /* INIT, all excluding self */
  spin(100000);
  for (int i = 0; i < 2; ++i) {
    send_ipi(0x000c4600 | PROBE_SIPI_VECTOR);
    spin(10000);
  }
  for (unsigned long wait = 0; wait < 200000000ul && aps_reported < count; ++wait) __asm__ volatile("pause");
}

static void check_application_processors(uint64_t expected) {
  uint32_t count = (uint32_t)expected - 1;
  if (count > PROBE_MAX_APS) {
    probe_fail("application-processors", "more vCPUs than the probe can start");
    return;
  }
  start_aps(count);
  if (aps_reported != count) {
    probe_fail("application-processors", "not every AP started");
    return;
  }
  uint32_t seen = 1; /* bit i: APIC ID i reported; the boot vCPU is 0 */
  for (uint32_t i = 0; i < count; ++i) {
    const volatile struct ap_report *r = &ap_reports[i];
    probe_puts("ap apic id: ");
    probe_put_dec(r->lapic_id);
    probe_puts("\n");
    if (r->lapic_id != r->cpuid_apic_id || r->lapic_id != r->x2apic_id) {
      probe_fail("application-processors", "an AP's CPUID APIC ID differs from its LAPIC ID");
      return;
    }
    if (r->lapic_id >= expected || (seen & (1u << r->lapic_id))) {
      probe_fail("application-processors", "APIC IDs are not 0 to cpus-1, each once");
      return;
    }
    seen |= 1u << r->lapic_id;
  }
  probe_pass("application-processors");
}

static void check_cpus(const struct probe_boot *boot) {
  const char *text = probe_cmdline_value(boot->cmdline, "cpus");
  uint64_t expected = text ? probe_parse_number(text, 10) : 1;
  uint32_t a, b, c, d;
  cpuid(1, 0, &a, &b, &c, &d);
  if (!(c & (1u << 31))) { probe_fail("cpus", "CPUID.1:ECX hypervisor bit clear"); return; }
  if ((b >> 24) != 0) { probe_fail("cpus", "the boot vCPU's CPUID APIC ID is not 0"); return; }
  uint32_t lapic_id = *(volatile uint32_t *)(PROBE_LAPIC_BASE + 0x20) >> 24;
  if (lapic_id != 0) { probe_fail("cpus", "the boot vCPU's LAPIC ID is not 0"); return; }
  /* EBX[23:16] counts logical processors only when EDX.HTT is set. */
  uint64_t logical = (d & (1u << 28)) ? (b >> 16) & 0xff : 1;
  if (logical != expected) { probe_fail("cpus", "CPUID.1 logical processor count differs from cpus="); return; }
  cpuid(0, 0, &a, &b, &c, &d);
  if (a >= 0xb) {
    cpuid(0xb, 1, &a, &b, &c, &d);
    if ((b & 0xffff) != expected) { probe_fail("cpus", "CPUID.0xB core count differs from cpus="); return; }
    if (d != 0) { probe_fail("cpus", "CPUID.0xB x2APIC ID is not 0"); return; }
  }
  probe_puts("vcpus: ");
  probe_put_dec(expected);
  probe_puts("\n");
  probe_pass("cpus");
  if (expected > 1) check_application_processors(expected);
}

void probe_finish(const struct probe_boot *boot) {
  check_cmdline(boot);
  check_e820(boot);
  check_initrd(boot);
  check_long_mode();
  check_cpus(boot);
  const char *pci = probe_cmdline_value(boot->cmdline, "pci");
  if (pci && *pci == '1') probe_check_pci(boot->cmdline);
  if (probe_failures == 0) {
    probe_puts("PROBE PASS\n");
  } else {
    probe_puts("PROBE FAIL ");
    probe_put_dec(probe_failures);
    probe_puts("\n");
  }
  const char *hold = probe_cmdline_value(boot->cmdline, "hold");
  if (hold && *hold == '1') {
    // Stay alive (busy, so the VMM cannot take it for a halt) while a test
    // looks at the running VMM from outside; it ends the VMM itself.
    probe_puts("PROBE HOLD\n");
    for (;;) __asm__ volatile("pause");
  }
  const char *forbidden = probe_cmdline_value(boot->cmdline, "forbidden_port");
  if (forbidden) {
    // A test-only device of the VMM sits at this port and makes a forbidden
    // system call when written: the jail must end the VMM before the probe
    // could exit on its own, so it waits here.
    probe_puts("PROBE FORBIDDEN CALL\n");
    outb((uint16_t)probe_parse_number(forbidden, 16), 1);
    for (;;) __asm__ volatile("pause");
  }
  outb(PROBE_EXIT_PORT, probe_failures == 0 ? 0 : 1);
  for (;;) __asm__ volatile("cli; hlt");
}
