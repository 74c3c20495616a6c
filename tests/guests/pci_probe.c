/* The probes' PCI and virtio checks, run when the command line has pci=1:
 * enumerate bus 0 through ports 0xCF8/0xCFC, compare with ECAM, find the
 * virtio-pci devices by ID, and drive them as a minimal virtio 1.x driver
 * (polling, no interrupts): read random bytes from virtio-rng, read the
 * whole virtio-blk disk and compare its checksum with blk_size=/blk_fnv=,
 * write a line to virtio-console, and echo a line through virtio-vsock with
 * the host's port vsock_port=. */
#include "probe.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_CAP_VENDOR 0x09
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_DEVICE 4
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_VSOCK 19
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_F_ACCESS_PLATFORM (1ull << 33)
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define QUEUE_SIZE 8
#define BLK_CHUNK 4096

static inline void outl(uint16_t port, uint32_t value) { __asm__ volatile("outl %0, %1" ::"a"(value), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) {
  uint32_t value;
  __asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

static uint32_t config_read(unsigned slot, unsigned offset) {
  outl(PCI_CONFIG_ADDRESS, 0x80000000u | (slot << 11) | (offset & 0xfc));
  return inl(PCI_CONFIG_DATA);
}
static void config_write(unsigned slot, unsigned offset, uint32_t value) {
  outl(PCI_CONFIG_ADDRESS, 0x80000000u | (slot << 11) | (offset & 0xfc));
  outl(PCI_CONFIG_DATA, value);
}

static volatile uint8_t *mmio8(uint64_t address) { return (volatile uint8_t *)address; }
static volatile uint16_t *mmio16(uint64_t address) { return (volatile uint16_t *)address; }
static volatile uint32_t *mmio32(uint64_t address) { return (volatile uint32_t *)address; }

/* BARs the firmware (or the VMM) left above the probe's 4 GiB identity map
 * are moved to the 32-bit window named by pci_mmio32= (default: Shelter's). */
static uint64_t next_mmio32;

static uint64_t bar_address(unsigned slot, unsigned bar) {
  unsigned offset = 0x10 + 4 * bar;
  uint32_t low = config_read(slot, offset);
  if (low & 1) return 0; /* an I/O BAR */
  int is64 = ((low >> 1) & 3) == 2;
  uint64_t address = (low & ~0xfull) | (is64 ? (uint64_t)config_read(slot, offset + 4) << 32 : 0);
  if (address != 0 && address + 0x1000 <= 0x100000000ull) return address;
  config_write(slot, offset, 0xffffffffu);
  uint64_t size = ~(uint64_t)(config_read(slot, offset) & ~0xfu) + 1;
  if (is64) {
    config_write(slot, offset + 4, 0xffffffffu);
    size = ~(((uint64_t)config_read(slot, offset + 4) << 32) | (config_read(slot, offset) & ~0xfu)) + 1;
  }
  if (size == 0 || size > 0x10000000ull) return 0; /* unimplemented, or too big for the window */
  address = (next_mmio32 + size - 1) & ~(size - 1);
  next_mmio32 = address + size;
  config_write(slot, offset, (uint32_t)address);
  if (is64) config_write(slot, offset + 4, 0);
  return address;
}

struct virtq {
  struct {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
  } desc[QUEUE_SIZE];
  struct {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[QUEUE_SIZE];
    uint16_t used_event;
  } avail __attribute__((aligned(2)));
  struct {
    uint16_t flags;
    uint16_t idx;
    struct {
      uint32_t id;
      uint32_t length;
    } ring[QUEUE_SIZE];
    uint16_t avail_event;
  } used __attribute__((aligned(4)));
} __attribute__((aligned(4096)));

struct virtio_dev {
  unsigned slot;
  uint16_t device_id;
  uint64_t common;
  uint64_t notify;
  uint32_t notify_multiplier;
  uint64_t device;
  struct virtq *queues;
  unsigned queue_count;
};

static struct virtq rng_queues[1], blk_queues[1], console_queues[2];
static uint8_t blk_buffer[BLK_CHUNK] __attribute__((aligned(4096)));
static uint8_t io_buffer[256] __attribute__((aligned(64)));

/* Common configuration registers (virtio 1.2, 4.1.4.3). */
enum {
  COMMON_DEVICE_FEATURE_SELECT = 0x00,
  COMMON_DEVICE_FEATURE = 0x04,
  COMMON_DRIVER_FEATURE_SELECT = 0x08,
  COMMON_DRIVER_FEATURE = 0x0c,
  COMMON_NUM_QUEUES = 0x12,
  COMMON_STATUS = 0x14,
  COMMON_QUEUE_SELECT = 0x16,
  COMMON_QUEUE_SIZE = 0x18,
  COMMON_QUEUE_MSIX_VECTOR = 0x1a,
  COMMON_QUEUE_ENABLE = 0x1c,
  COMMON_QUEUE_NOTIFY_OFF = 0x1e,
  COMMON_QUEUE_DESC = 0x20,
  COMMON_QUEUE_DRIVER = 0x28,
  COMMON_QUEUE_DEVICE = 0x30,
};

static int find_capabilities(struct virtio_dev *dev) {
  if (!(config_read(dev->slot, 0x04) & (1u << 20))) return 0; /* no capability list */
  unsigned offset = config_read(dev->slot, 0x34) & 0xfc;
  for (unsigned hops = 0; offset != 0 && hops < 48; ++hops) {
    uint32_t head = config_read(dev->slot, offset);
    unsigned type = (head >> 24) & 0xff;
    if ((head & 0xff) == PCI_CAP_VENDOR &&
        (type == VIRTIO_PCI_CAP_COMMON || type == VIRTIO_PCI_CAP_NOTIFY || type == VIRTIO_PCI_CAP_DEVICE)) {
      unsigned bar = config_read(dev->slot, offset + 4) & 0xff;
      uint64_t address = bar < 6 ? bar_address(dev->slot, bar) : 0;
      uint64_t at = address + config_read(dev->slot, offset + 8);
      if (address == 0) return 0;
      if (type == VIRTIO_PCI_CAP_COMMON && dev->common == 0) dev->common = at;
      if (type == VIRTIO_PCI_CAP_DEVICE && dev->device == 0) dev->device = at;
      if (type == VIRTIO_PCI_CAP_NOTIFY && dev->notify == 0) {
        dev->notify = at;
        dev->notify_multiplier = config_read(dev->slot, offset + 16);
      }
    }
    offset = (head >> 8) & 0xfc;
  }
  /* Memory space and bus mastering on. */
  config_write(dev->slot, 0x04, (config_read(dev->slot, 0x04) & 0xffff) | 0x6);
  return dev->common && dev->notify && dev->device;
}

static void write64(uint64_t address, uint64_t value) {
  *mmio32(address) = (uint32_t)value;
  *mmio32(address + 4) = (uint32_t)(value >> 32);
}

/* Reset, negotiate VERSION_1 (and ACCESS_PLATFORM when offered), set up
 * every queue in dev->queues, DRIVER_OK. Returns 0 and says why on failure. */
static int virtio_start(struct virtio_dev *dev, const char *check) {
  uint64_t c = dev->common;
  *mmio8(c + COMMON_STATUS) = 0;
  for (unsigned i = 0; *mmio8(c + COMMON_STATUS) != 0; ++i)
    if (i > 1000000) { probe_fail(check, "device does not reset"); return 0; }
  *mmio8(c + COMMON_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE;
  *mmio8(c + COMMON_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
  *mmio32(c + COMMON_DEVICE_FEATURE_SELECT) = 1;
  uint64_t offered = (uint64_t)*mmio32(c + COMMON_DEVICE_FEATURE) << 32;
  if (!(offered & VIRTIO_F_VERSION_1)) { probe_fail(check, "VERSION_1 not offered"); return 0; }
  uint64_t wanted = VIRTIO_F_VERSION_1 | (offered & VIRTIO_F_ACCESS_PLATFORM);
  *mmio32(c + COMMON_DRIVER_FEATURE_SELECT) = 0;
  *mmio32(c + COMMON_DRIVER_FEATURE) = 0;
  *mmio32(c + COMMON_DRIVER_FEATURE_SELECT) = 1;
  *mmio32(c + COMMON_DRIVER_FEATURE) = (uint32_t)(wanted >> 32);
  *mmio8(c + COMMON_STATUS) = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
  if (!(*mmio8(c + COMMON_STATUS) & VIRTIO_STATUS_FEATURES_OK)) { probe_fail(check, "FEATURES_OK refused"); return 0; }
  if (*mmio16(c + COMMON_NUM_QUEUES) < dev->queue_count) { probe_fail(check, "too few queues"); return 0; }
  for (unsigned q = 0; q < dev->queue_count; ++q) {
    struct virtq *vq = &dev->queues[q];
    memset(vq, 0, sizeof *vq);
    *mmio16(c + COMMON_QUEUE_SELECT) = (uint16_t)q;
    uint16_t max = *mmio16(c + COMMON_QUEUE_SIZE);
    if (max < QUEUE_SIZE) { probe_fail(check, "queue smaller than 8"); return 0; }
    *mmio16(c + COMMON_QUEUE_SIZE) = QUEUE_SIZE;
    *mmio16(c + COMMON_QUEUE_MSIX_VECTOR) = 0xffff;
    write64(c + COMMON_QUEUE_DESC, (uint64_t)(uintptr_t)vq->desc);
    write64(c + COMMON_QUEUE_DRIVER, (uint64_t)(uintptr_t)&vq->avail);
    write64(c + COMMON_QUEUE_DEVICE, (uint64_t)(uintptr_t)&vq->used);
    *mmio16(c + COMMON_QUEUE_ENABLE) = 1;
  }
  *mmio8(c + COMMON_STATUS) =
      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
  return 1;
}

/* Makes a chain of up to 3 buffers available on queue q and notifies;
 * returns the used index to wait beyond. */
static uint16_t virtio_post(struct virtio_dev *dev, unsigned q, const uint64_t *addresses, const uint32_t *lengths,
                            const uint16_t *flags, unsigned count) {
  struct virtq *vq = &dev->queues[q];
  for (unsigned i = 0; i < count; ++i) {
    vq->desc[i].address = addresses[i];
    vq->desc[i].length = lengths[i];
    vq->desc[i].flags = (uint16_t)(flags[i] | (i + 1 < count ? VIRTQ_DESC_F_NEXT : 0));
    vq->desc[i].next = (uint16_t)(i + 1);
  }
  uint16_t used_before = *(volatile uint16_t *)&vq->used.idx;
  vq->avail.ring[vq->avail.idx % QUEUE_SIZE] = 0;
  __asm__ volatile("" ::: "memory");
  *(volatile uint16_t *)&vq->avail.idx = (uint16_t)(vq->avail.idx + 1);
  __asm__ volatile("mfence" ::: "memory");
  *mmio16(dev->common + COMMON_QUEUE_SELECT) = (uint16_t)q;
  uint16_t notify_off = *mmio16(dev->common + COMMON_QUEUE_NOTIFY_OFF);
  *mmio16(dev->notify + (uint64_t)notify_off * dev->notify_multiplier) = (uint16_t)q;
  return used_before;
}

/* Polls until queue q's used index passes used_before; returns the used
 * length, or -1 when the device never answers. */
static int64_t virtio_wait(struct virtio_dev *dev, unsigned q, uint16_t used_before) {
  struct virtq *vq = &dev->queues[q];
  for (unsigned long spins = 0; *(volatile uint16_t *)&vq->used.idx == used_before; ++spins)
    if (spins > 200000000ul) return -1;
  __asm__ volatile("" ::: "memory");
  return vq->used.ring[used_before % QUEUE_SIZE].length;
}

/* One chain on queue q (head descriptor 0), waiting for the device. */
static int64_t virtio_transfer(struct virtio_dev *dev, unsigned q, const uint64_t *addresses,
                               const uint32_t *lengths, const uint16_t *flags, unsigned count) {
  return virtio_wait(dev, q, virtio_post(dev, q, addresses, lengths, flags, count));
}

static void check_rng(struct virtio_dev *dev) {
  dev->queues = rng_queues;
  dev->queue_count = 1;
  if (!virtio_start(dev, "virtio-rng")) return;
  memset(io_buffer, 0, 64);
  uint64_t address = (uint64_t)(uintptr_t)io_buffer;
  uint32_t length = 64;
  uint16_t flags = VIRTQ_DESC_F_WRITE;
  int64_t got = virtio_transfer(dev, 0, &address, &length, &flags, 1);
  if (got <= 0 || got > 64) { probe_fail("virtio-rng", "no bytes came back"); return; }
  unsigned nonzero = 0;
  for (int64_t i = 0; i < got; ++i) nonzero += io_buffer[i] != 0;
  if (nonzero == 0) { probe_fail("virtio-rng", "the bytes are all zero"); return; }
  probe_puts("virtio-rng bytes: ");
  probe_put_dec((uint64_t)got);
  probe_puts("\n");
  probe_pass("virtio-rng");
}

struct blk_request {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

static int blk_request(struct virtio_dev *dev, uint32_t type, uint64_t sector, void *data, uint32_t size) {
  static struct blk_request header;
  static volatile uint8_t status;
  header.type = type;
  header.reserved = 0;
  header.sector = sector;
  status = 0xff;
  uint64_t addresses[3] = {(uint64_t)(uintptr_t)&header, (uint64_t)(uintptr_t)data, (uint64_t)(uintptr_t)&status};
  uint32_t lengths[3] = {sizeof header, size, 1};
  uint16_t flags[3] = {0, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_F_WRITE};
  if (virtio_transfer(dev, 0, addresses, lengths, flags, 3) < 0) return -1;
  return status;
}

static void check_blk(struct virtio_dev *dev, const char *cmdline) {
  const char *size_text = probe_cmdline_value(cmdline, "blk_size");
  const char *fnv_text = probe_cmdline_value(cmdline, "blk_fnv");
  if (!size_text || !fnv_text) { probe_fail("virtio-blk", "blk_size= or blk_fnv= missing"); return; }
  uint64_t size = probe_parse_number(size_text, 10);
  uint32_t expected = (uint32_t)probe_parse_number(fnv_text, 16);
  dev->queues = blk_queues;
  dev->queue_count = 1;
  if (!virtio_start(dev, "virtio-blk")) return;
  uint64_t capacity = *mmio32(dev->device) | (uint64_t)*mmio32(dev->device + 4) << 32;
  if (capacity * 512 != size) { probe_fail("virtio-blk", "capacity differs from blk_size="); return; }
  uint32_t hash = 2166136261u;
  for (uint64_t offset = 0; offset < size; offset += BLK_CHUNK) {
    uint32_t chunk = size - offset < BLK_CHUNK ? (uint32_t)(size - offset) : BLK_CHUNK;
    int status = blk_request(dev, 0 /* VIRTIO_BLK_T_IN */, offset / 512, blk_buffer, chunk);
    if (status != 0) { probe_fail("virtio-blk", status < 0 ? "no answer to a read" : "a read failed"); return; }
    for (uint32_t i = 0; i < chunk; ++i) hash = (hash ^ blk_buffer[i]) * 16777619u;
  }
  if (hash != expected) { probe_fail("virtio-blk", "the disk's checksum differs from blk_fnv="); return; }
  /* A read past the end must fail with an error status, not succeed. */
  if (blk_request(dev, 0, size / 512, blk_buffer, 512) != 1) { probe_fail("virtio-blk", "read past the end was not IOERR"); return; }
  probe_puts("virtio-blk bytes: ");
  probe_put_dec(size);
  probe_puts("\n");
  probe_pass("virtio-blk");
}

static void check_console(struct virtio_dev *dev) {
  static const char line[] = "hvc0: hello from the probe\n";
  dev->queues = console_queues;
  dev->queue_count = 2;
  if (!virtio_start(dev, "virtio-console")) return;
  memcpy(io_buffer, line, sizeof line - 1);
  uint64_t address = (uint64_t)(uintptr_t)io_buffer;
  uint32_t length = sizeof line - 1;
  uint16_t flags = 0;
  if (virtio_transfer(dev, 1, &address, &length, &flags, 1) < 0) { probe_fail("virtio-console", "transmitq never answered"); return; }
  probe_pass("virtio-console");
}

/* virtio-vsock (virtio 1.2, 5.10): connect to the host's port vsock_port=,
 * send a line, expect it echoed back, shut down. */
struct vsock_header {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t length;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
} __attribute__((packed));
_Static_assert(sizeof(struct vsock_header) == 44, "virtio_vsock_hdr is 44 bytes");

enum { VSOCK_OP_REQUEST = 1, VSOCK_OP_RESPONSE = 2, VSOCK_OP_RST = 3, VSOCK_OP_SHUTDOWN = 4, VSOCK_OP_RW = 5 };
#define VSOCK_HOST_CID 2
#define VSOCK_PROBE_PORT 1025
#define VSOCK_BUFFER 4096

static struct virtq vsock_queues[3];
static uint8_t vsock_rx[sizeof(struct vsock_header) + 256] __attribute__((aligned(64)));
static struct {
  struct vsock_header header;
  uint8_t payload[64];
} __attribute__((packed)) vsock_tx;

static int vsock_send(struct virtio_dev *dev, uint64_t cid, uint32_t port, uint16_t op, const char *payload,
                      uint32_t length) {
  memset(&vsock_tx, 0, sizeof vsock_tx);
  vsock_tx.header.src_cid = cid;
  vsock_tx.header.dst_cid = VSOCK_HOST_CID;
  vsock_tx.header.src_port = VSOCK_PROBE_PORT;
  vsock_tx.header.dst_port = port;
  vsock_tx.header.length = length;
  vsock_tx.header.type = 1; /* stream */
  vsock_tx.header.op = op;
  vsock_tx.header.flags = op == VSOCK_OP_SHUTDOWN ? 3 : 0;
  vsock_tx.header.buf_alloc = VSOCK_BUFFER;
  if (length) memcpy(vsock_tx.payload, payload, length);
  uint64_t address = (uint64_t)(uintptr_t)&vsock_tx;
  uint32_t size = (uint32_t)sizeof vsock_tx.header + length;
  uint16_t flags = 0;
  return virtio_transfer(dev, 1, &address, &size, &flags, 1) >= 0;
}

/* Waits for the next packet other than a credit update; its header and
 * payload are in vsock_rx. Returns 0 when none comes. */
static int vsock_receive(struct virtio_dev *dev, uint16_t *op) {
  for (unsigned packets = 0; packets < 8; ++packets) {
    uint64_t address = (uint64_t)(uintptr_t)vsock_rx;
    uint32_t size = sizeof vsock_rx;
    uint16_t flags = VIRTQ_DESC_F_WRITE;
    if (virtio_wait(dev, 0, virtio_post(dev, 0, &address, &size, &flags, 1)) < 0) return 0;
    const struct vsock_header *header = (const struct vsock_header *)vsock_rx;
    if (header->op == 6 /* CREDIT_UPDATE */) continue;
    *op = header->op;
    return 1;
  }
  return 0;
}

static void check_vsock(struct virtio_dev *dev, const char *cmdline) {
  static const char line[] = "ping from the probe\n";
  const char *port_text = probe_cmdline_value(cmdline, "vsock_port");
  if (!port_text) { probe_fail("virtio-vsock", "vsock_port= missing"); return; }
  uint32_t port = (uint32_t)probe_parse_number(port_text, 10);
  dev->queues = vsock_queues;
  dev->queue_count = 3;
  if (!virtio_start(dev, "virtio-vsock")) return;
  uint64_t cid = *mmio32(dev->device) | (uint64_t)*mmio32(dev->device + 4) << 32;
  uint16_t op = 0;
  if (!vsock_send(dev, cid, port, VSOCK_OP_REQUEST, 0, 0)) { probe_fail("virtio-vsock", "tx never answered"); return; }
  if (!vsock_receive(dev, &op) || op != VSOCK_OP_RESPONSE) { probe_fail("virtio-vsock", "no RESPONSE to the connection request"); return; }
  if (!vsock_send(dev, cid, port, VSOCK_OP_RW, line, sizeof line - 1)) { probe_fail("virtio-vsock", "tx never answered"); return; }
  if (!vsock_receive(dev, &op) || op != VSOCK_OP_RW) { probe_fail("virtio-vsock", "nothing came back"); return; }
  const struct vsock_header *header = (const struct vsock_header *)vsock_rx;
  const uint8_t *payload = vsock_rx + sizeof *header;
  if (header->length != sizeof line - 1) { probe_fail("virtio-vsock", "the echo has another length"); return; }
  for (unsigned i = 0; i < sizeof line - 1; ++i)
    if (payload[i] != (uint8_t)line[i]) { probe_fail("virtio-vsock", "the echo differs"); return; }
  vsock_send(dev, cid, port, VSOCK_OP_SHUTDOWN, 0, 0);
  probe_puts("virtio-vsock guest cid: ");
  probe_put_dec(cid);
  probe_puts("\n");
  probe_pass("virtio-vsock");
}

void probe_check_pci(const char *cmdline) {
  const char *ecam_text = probe_cmdline_value(cmdline, "pci_ecam");
  const char *window_text = probe_cmdline_value(cmdline, "pci_mmio32");
  uint64_t ecam = ecam_text ? probe_parse_number(ecam_text, 16) : 0xe0000000ull;
  next_mmio32 = window_text ? probe_parse_number(window_text, 16) : 0xc1000000ull;
  if ((config_read(0, 0x08) >> 16) != 0x0600) { probe_fail("pci", "00:00.0 is not a host bridge"); return; }
  unsigned found = 0;
  for (unsigned slot = 0; slot < 32; ++slot) {
    uint32_t id = config_read(slot, 0);
    if ((id & 0xffff) == 0xffff) continue;
    ++found;
    probe_puts("pci: 00:");
    probe_put_hex(slot);
    probe_puts(".0 ");
    probe_put_hex(id);
    probe_puts("\n");
    if (*mmio32(ecam + ((uint64_t)slot << 15)) != id) { probe_fail("pci", "ECAM and port 0xcf8 disagree"); return; }
    uint16_t device = (uint16_t)(id >> 16);
    if ((id & 0xffff) != PCI_VENDOR_VIRTIO || device < 0x1040) continue;
    struct virtio_dev dev = {.slot = slot, .device_id = (uint16_t)(device - 0x1040)};
    if (!find_capabilities(&dev)) { probe_fail("pci", "a virtio device lacks its virtio-pci capabilities"); return; }
    if (dev.device_id == VIRTIO_ID_RNG) check_rng(&dev);
    if (dev.device_id == VIRTIO_ID_BLOCK) check_blk(&dev, cmdline);
    if (dev.device_id == VIRTIO_ID_CONSOLE) check_console(&dev);
    if (dev.device_id == VIRTIO_ID_VSOCK) check_vsock(&dev, cmdline);
  }
  if (found < 2) { probe_fail("pci", "no device besides the host bridge"); return; }
  probe_pass("pci");
}
