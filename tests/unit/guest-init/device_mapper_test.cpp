#include "guest-init/device_mapper.h"

#include <gtest/gtest.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace shelter::guest {
namespace {

struct Call {
  unsigned long command;
  std::string name;
  uint32_t flags;
  std::vector<DmTarget> targets;
};

// Records each ioctl with the targets decoded from its buffer, and answers
// the way the kernel does (a device number on create, a status text).
class FakeDmControl : public DmControl {
 public:
  std::vector<Call> calls;
  std::string status_text = "V";
  uint32_t next_minor = 0;

  void ioctl(unsigned long command, std::span<uint8_t> buffer) override {
    dm_ioctl header;
    std::memcpy(&header, buffer.data(), sizeof header);
    EXPECT_EQ(header.version[0], 4u);
    EXPECT_EQ(header.data_size, buffer.size());
    EXPECT_EQ(header.data_start, sizeof(dm_ioctl));
    Call call{command, header.name, header.flags, {}};
    if (command == DM_TABLE_LOAD) {
      size_t at = header.data_start;
      for (uint32_t i = 0; i < header.target_count; ++i) {
        dm_target_spec spec;
        std::memcpy(&spec, buffer.data() + at, sizeof spec);
        EXPECT_EQ(spec.next % 8, 0u);
        const char* params = reinterpret_cast<const char*>(buffer.data() + at + sizeof spec);
        call.targets.push_back({spec.sector_start, spec.length, spec.target_type, params});
        at += spec.next;
      }
      EXPECT_LE(at, buffer.size());
    }
    if (command == DM_DEV_CREATE) {
      header.dev = makedev(254, next_minor++);
      std::memcpy(buffer.data(), &header, sizeof header);
    }
    if (command == DM_TABLE_STATUS) {
      header.target_count = 1;
      std::memcpy(buffer.data(), &header, sizeof header);
      std::memcpy(buffer.data() + sizeof header + sizeof(dm_target_spec), status_text.c_str(),
                  status_text.size() + 1);
    }
    calls.push_back(call);
  }
};

images::VerityParams params() {
  images::VerityParams p;
  p.data_offset = 8192;
  p.data_size = 10 * 4096;
  p.hash_offset = 12 * 4096;
  p.root_hash = std::vector<uint8_t>(32, 0x11);
  p.salt = {0xaa, 0xbb};
  return p;
}

// The tree's first block follows the superblock at hash_offset (block 12).
TEST(DeviceMapper, VerityTableNamesDevicesBlocksAndHashStart) {
  EXPECT_EQ(verity_table(params(), makedev(254, 0), makedev(253, 0)),
            "1 254:0 253:0 4096 4096 10 13 sha256 " + std::string(64, '1') + " aabb");
}

TEST(DeviceMapper, SetupIssuesLinearThenVerityReadOnly) {
  FakeDmControl control;
  DeviceMapper mapper(control);
  dev_t verity = setup_verity(mapper, params(), makedev(253, 0));
  EXPECT_EQ(verity, makedev(254, 1));
  ASSERT_EQ(control.calls.size(), 6u);
  std::vector<unsigned long> commands;
  for (const Call& c : control.calls) commands.push_back(c.command);
  EXPECT_EQ(commands, (std::vector<unsigned long>{DM_DEV_CREATE, DM_TABLE_LOAD, DM_DEV_SUSPEND, DM_DEV_CREATE,
                                                  DM_TABLE_LOAD, DM_DEV_SUSPEND}));
  EXPECT_EQ(control.calls[0].name, "shelter-data");
  EXPECT_EQ(control.calls[3].name, "shelter-verity");
  for (int load : {1, 4}) EXPECT_TRUE(control.calls[load].flags & DM_READONLY_FLAG);
  for (int resume : {2, 5}) EXPECT_FALSE(control.calls[resume].flags & DM_SUSPEND_FLAG);
  ASSERT_EQ(control.calls[1].targets.size(), 1u);
  const DmTarget& linear = control.calls[1].targets[0];
  EXPECT_EQ(linear.type, "linear");
  EXPECT_EQ(linear.sector_count, 80u);
  EXPECT_EQ(linear.params, "253:0 16");
  ASSERT_EQ(control.calls[4].targets.size(), 1u);
  const DmTarget& v = control.calls[4].targets[0];
  EXPECT_EQ(v.type, "verity");
  EXPECT_EQ(v.start_sector, 0u);
  EXPECT_EQ(v.sector_count, 80u);
  EXPECT_EQ(v.params, verity_table(params(), makedev(254, 0), makedev(253, 0)));
}

TEST(DeviceMapper, CryptTableIsXtsPlain64OverTheWholeLowerDevice) {
  std::vector<uint8_t> key(64);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  std::string hex;
  for (uint8_t b : key) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", b);
    hex += two;
  }
  EXPECT_EQ(crypt_table(key, makedev(254, 1)), "aes-xts-plain64 " + hex + " 0 254:1 0");
  EXPECT_THROW(crypt_table(std::vector<uint8_t>(32), makedev(254, 1)), Error);
}

// Crypt goes on top of verity: the hash tree is over the ciphertext.
TEST(DeviceMapper, CryptGoesOverVerityReadOnlyWithSecureData) {
  FakeDmControl control;
  DeviceMapper mapper(control);
  dev_t verity = setup_verity(mapper, params(), makedev(253, 0));
  std::vector<uint8_t> key(64, 0x5a);
  dev_t crypt = setup_crypt(mapper, params(), verity, key);
  EXPECT_EQ(crypt, makedev(254, 2));
  ASSERT_EQ(control.calls.size(), 9u);
  EXPECT_EQ(control.calls[6].command, static_cast<unsigned long>(DM_DEV_CREATE));
  EXPECT_EQ(control.calls[6].name, "shelter-crypt");
  const Call& load = control.calls[7];
  EXPECT_EQ(load.command, static_cast<unsigned long>(DM_TABLE_LOAD));
  EXPECT_TRUE(load.flags & DM_READONLY_FLAG);
  EXPECT_TRUE(load.flags & DM_SECURE_DATA_FLAG);
  ASSERT_EQ(load.targets.size(), 1u);
  EXPECT_EQ(load.targets[0].type, "crypt");
  EXPECT_EQ(load.targets[0].sector_count, 80u);
  EXPECT_EQ(load.targets[0].params, crypt_table(key, verity));
  EXPECT_EQ(control.calls[8].command, static_cast<unsigned long>(DM_DEV_SUSPEND));
  EXPECT_FALSE(control.calls[4].flags & DM_SECURE_DATA_FLAG);  // verity's table holds no secret
}

TEST(DeviceMapper, CorruptionComesFromTheVerityStatus) {
  FakeDmControl control;
  DeviceMapper mapper(control);
  EXPECT_FALSE(verity_found_corruption(mapper));
  control.status_text = "C";
  EXPECT_TRUE(verity_found_corruption(mapper));
  EXPECT_EQ(control.calls.back().command, DM_TABLE_STATUS);
  EXPECT_EQ(control.calls.back().name, "shelter-verity");
}

TEST(DeviceMapper, RejectsNamesTheKernelCannotHold) {
  FakeDmControl control;
  DeviceMapper mapper(control);
  EXPECT_THROW(mapper.create(""), Error);
  EXPECT_THROW(mapper.create(std::string(DM_NAME_LEN, 'x')), Error);
  EXPECT_TRUE(control.calls.empty());
}

}  // namespace
}  // namespace shelter::guest
