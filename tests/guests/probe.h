/* Shared runtime of the freestanding probe guests: port I/O, serial output,
 * the exit port, the boot timer, and the checks every boot protocol shares. */
#ifndef SHELTER_PROBE_H
#define SHELTER_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "probe_layout.h"

#define PROBE_SERIAL_PORT 0x3f8
#define PROBE_EXIT_PORT 0xf4
#define PROBE_BOOT_TIMER 0xc0000000ul
#define PROBE_BOOT_TIMER_MAGIC 123
#define PROBE_LAPIC_BASE 0xfee00000ul

struct probe_e820 {
  uint64_t address;
  uint64_t size;
  uint32_t type;
};

#define PROBE_MAX_E820 32

/* What a boot protocol handed over, normalised for the shared checks. */
struct probe_boot {
  const char *cmdline;
  uint64_t initrd_address;
  uint64_t initrd_size;
  struct probe_e820 e820[PROBE_MAX_E820];
  unsigned e820_count;
  uint64_t boot_info_address; /* zero page or hvm_start_info */
};

static inline void outb(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" ::"a"(value), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t value;
  __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

/* The freestanding runtime's own (probe.c). */
void *memset(void *dest, int value, size_t size);
void *memcpy(void *dest, const void *src, size_t size);

void probe_puts(const char *text);
void probe_put_hex(uint64_t value);
void probe_put_dec(uint64_t value);
void probe_pass(const char *check);
void probe_fail(const char *check, const char *why);
void probe_boot_timer(void);
/* Finds "key=" in the command line; returns the value's start or NULL. */
const char *probe_cmdline_value(const char *cmdline, const char *key);
uint64_t probe_parse_number(const char *text, unsigned base);
uint32_t probe_fnv1a(const uint8_t *bytes, uint64_t size);
/* Runs the shared checks (cmdline, e820, initrd, long mode, CPUs), prints
 * the summary and ends the VM through the exit port. */
void probe_finish(const struct probe_boot *boot) __attribute__((noreturn));
/* The PCI and virtio-pci checks (pci=1 on the command line; pci_probe.c). */
void probe_check_pci(const char *cmdline);
/* Counts a failure found by a protocol-specific check. */
extern unsigned probe_failures;

extern char _kernel_start[], _kernel_end[];

#endif
