#include "guest-init/device_mapper.h"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "images/format.h"

#include "common/error.h"
#include "common/hex.h"

namespace shelter::guest {
namespace {

static_assert(sizeof(dm_ioctl) == 312);
static_assert(offsetof(dm_ioctl, data_size) == 12);
static_assert(offsetof(dm_ioctl, data_start) == 16);
static_assert(offsetof(dm_ioctl, target_count) == 20);
static_assert(offsetof(dm_ioctl, flags) == 28);
static_assert(offsetof(dm_ioctl, dev) == 40);
static_assert(offsetof(dm_ioctl, name) == 48);
static_assert(sizeof(dm_target_spec) == 40);
static_assert(offsetof(dm_target_spec, next) == 20);
static_assert(offsetof(dm_target_spec, target_type) == 24);

constexpr size_t kStatusBufferSize = 16 * 1024;

// A dm_ioctl header for `name` followed by room for `payload` bytes.
std::vector<uint8_t> request(const std::string& name, size_t payload) {
  if (name.empty() || name.size() >= DM_NAME_LEN) throw Error("device-mapper: bad device name");
  std::vector<uint8_t> buffer(sizeof(dm_ioctl) + payload, 0);
  dm_ioctl header{};
  header.version[0] = DM_VERSION_MAJOR;
  header.version[1] = 0;
  header.version[2] = 0;
  header.data_size = static_cast<uint32_t>(buffer.size());
  header.data_start = sizeof(dm_ioctl);
  std::memcpy(header.name, name.data(), name.size());
  std::memcpy(buffer.data(), &header, sizeof header);
  return buffer;
}

dm_ioctl header_of(std::span<const uint8_t> buffer) {
  dm_ioctl header;
  std::memcpy(&header, buffer.data(), sizeof header);
  return header;
}

size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

KernelDmControl::KernelDmControl()
    : fd_(static_cast<int>(check_syscall(::open("/dev/mapper/control", O_RDWR | O_CLOEXEC),
                                         "opening /dev/mapper/control"))) {}

void KernelDmControl::ioctl(unsigned long command, std::span<uint8_t> buffer) {
  check_syscall(::ioctl(fd_.get(), command, buffer.data()), "device-mapper ioctl");
}

dev_t DeviceMapper::create(const std::string& name) {
  std::vector<uint8_t> buffer = request(name, 0);
  control_.ioctl(DM_DEV_CREATE, buffer);
  return static_cast<dev_t>(header_of(buffer).dev);
}

void DeviceMapper::load_read_only(const std::string& name, const std::vector<DmTarget>& targets, bool secret) {
  size_t payload = 0;
  for (const DmTarget& t : targets) payload += sizeof(dm_target_spec) + align8(t.params.size() + 1);
  std::vector<uint8_t> buffer = request(name, payload);
  dm_ioctl header = header_of(buffer);
  header.target_count = static_cast<uint32_t>(targets.size());
  header.flags = DM_READONLY_FLAG | (secret ? DM_SECURE_DATA_FLAG : 0);
  std::memcpy(buffer.data(), &header, sizeof header);

  size_t offset = sizeof(dm_ioctl);
  for (const DmTarget& t : targets) {
    if (t.type.empty() || t.type.size() >= DM_MAX_TYPE_NAME) throw Error("device-mapper: bad target type");
    size_t size = sizeof(dm_target_spec) + align8(t.params.size() + 1);
    dm_target_spec spec{};
    spec.sector_start = t.start_sector;
    spec.length = t.sector_count;
    spec.next = static_cast<uint32_t>(size);
    std::memcpy(spec.target_type, t.type.data(), t.type.size());
    std::memcpy(buffer.data() + offset, &spec, sizeof spec);
    std::memcpy(buffer.data() + offset + sizeof spec, t.params.data(), t.params.size());
    offset += size;
  }
  struct Wipe {
    std::vector<uint8_t>& buffer;
    bool secret;
    ~Wipe() {
      if (secret) explicit_bzero(buffer.data(), buffer.size());
    }
  } wipe{buffer, secret};
  control_.ioctl(DM_TABLE_LOAD, buffer);
}

void DeviceMapper::resume(const std::string& name) {
  std::vector<uint8_t> buffer = request(name, 0);
  control_.ioctl(DM_DEV_SUSPEND, buffer);
}

std::string DeviceMapper::status(const std::string& name) {
  std::vector<uint8_t> buffer = request(name, kStatusBufferSize);
  control_.ioctl(DM_TABLE_STATUS, buffer);
  dm_ioctl header = header_of(buffer);
  if (header.flags & DM_BUFFER_FULL_FLAG) throw Error("device-mapper: status does not fit");
  if (header.target_count == 0) throw Error("device-mapper: " + name + " has no target");
  size_t spec_at = header.data_start;
  if (spec_at < sizeof(dm_ioctl) || spec_at + sizeof(dm_target_spec) > buffer.size())
    throw Error("device-mapper: status reply out of bounds");
  size_t text_at = spec_at + sizeof(dm_target_spec);
  const char* text = reinterpret_cast<const char*>(buffer.data() + text_at);
  return std::string(text, strnlen(text, buffer.size() - text_at));
}

std::string verity_table(const images::VerityParams& p, dev_t data_dev, dev_t hash_dev) {
  auto device = [](dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); };
  return "1 " + device(data_dev) + " " + device(hash_dev) + " " + std::to_string(p.data_block_size) + " " +
         std::to_string(p.hash_block_size) + " " + std::to_string(p.data_blocks()) + " " +
         std::to_string(p.hash_offset / p.hash_block_size + 1) + " " + p.algorithm + " " + to_hex(p.root_hash) +
         " " + to_hex(p.salt);
}

dev_t setup_verity(DeviceMapper& mapper, const images::VerityParams& p, dev_t disk) {
  constexpr uint64_t kSector = 512;
  dev_t data = mapper.create(kDataDeviceName);
  mapper.load_read_only(kDataDeviceName,
                        {{0, p.data_size / kSector, "linear",
                          std::to_string(major(disk)) + ":" + std::to_string(minor(disk)) + " " +
                              std::to_string(p.data_offset / kSector)}});
  mapper.resume(kDataDeviceName);

  dev_t verity = mapper.create(kVerityDeviceName);
  mapper.load_read_only(kVerityDeviceName, {{0, p.data_size / kSector, "verity", verity_table(p, data, disk)}});
  mapper.resume(kVerityDeviceName);
  return verity;
}

std::string crypt_table(std::span<const uint8_t> key, dev_t lower) {
  if (key.size() != images::kXtsKeySize) throw Error("the image key must be 64 bytes (AES-256-XTS)");
  // Built in one reserved buffer so that no reallocation leaves a copy behind.
  std::string hex = to_hex(key);
  std::string device = std::to_string(major(lower)) + ":" + std::to_string(minor(lower));
  std::string text;
  text.reserve(64 + hex.size() + device.size());
  text.append("aes-xts-plain64 ").append(hex).append(" 0 ").append(device).append(" 0");
  explicit_bzero(hex.data(), hex.size());
  return text;
}

dev_t setup_crypt(DeviceMapper& mapper, const images::VerityParams& p, dev_t verity, std::span<const uint8_t> key) {
  constexpr uint64_t kSector = 512;
  std::vector<DmTarget> table(1);
  table[0].sector_count = p.data_size / kSector;
  table[0].type = "crypt";
  table[0].params = crypt_table(key, verity);
  struct Wipe {
    std::string& text;
    ~Wipe() { explicit_bzero(text.data(), text.size()); }
  } wipe{table[0].params};
  dev_t crypt = mapper.create(kCryptDeviceName);
  mapper.load_read_only(kCryptDeviceName, table, true);
  mapper.resume(kCryptDeviceName);
  return crypt;
}

bool verity_found_corruption(DeviceMapper& mapper) { return mapper.status(kVerityDeviceName).starts_with("C"); }

}  // namespace shelter::guest
