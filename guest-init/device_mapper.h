#pragma once
// Device-mapper through its control device's ioctls (no lvm2 or cryptsetup
// in the guest). DmControl is the kernel boundary, so tests replace it with a
// fake and check the exact ioctl sequence and buffers.
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "images/verity_params.h"

namespace shelter::guest {

class DmControl {
 public:
  virtual ~DmControl() = default;
  // Issues one DM_* ioctl on a buffer that starts with a struct dm_ioctl and
  // may be rewritten by the kernel. Throws SystemError.
  virtual void ioctl(unsigned long command, std::span<uint8_t> buffer) = 0;
};

// /dev/mapper/control.
class KernelDmControl : public DmControl {
 public:
  KernelDmControl();
  void ioctl(unsigned long command, std::span<uint8_t> buffer) override;

 private:
  UniqueFd fd_;
};

struct DmTarget {
  uint64_t start_sector = 0;
  uint64_t sector_count = 0;
  std::string type;    // "linear", "verity"
  std::string params;  // the target's table text
};

class DeviceMapper {
 public:
  explicit DeviceMapper(DmControl& control) : control_(control) {}

  // DM_DEV_CREATE; returns the new device's number.
  dev_t create(const std::string& name);
  // DM_TABLE_LOAD into the inactive table, read-only. With secret set the
  // table holds a key: the kernel wipes its copy of the buffer
  // (DM_SECURE_DATA_FLAG) and this one is wiped before it is freed.
  void load_read_only(const std::string& name, const std::vector<DmTarget>& targets, bool secret = false);
  // DM_DEV_SUSPEND without the suspend flag: makes the loaded table live.
  void resume(const std::string& name);
  // DM_TABLE_STATUS: the status text of the device's first target.
  std::string status(const std::string& name);

 private:
  DmControl& control_;
};

inline constexpr const char* kDataDeviceName = "shelter-data";
inline constexpr const char* kVerityDeviceName = "shelter-verity";
inline constexpr const char* kCryptDeviceName = "shelter-crypt";

// The verity target's table text for data on data_dev (starting at its block
// 0) and the hash area on hash_dev at params.hash_offset. As with
// `veritysetup --hash-offset`, the hash area opens with veritysetup's
// superblock (one hash block); the tree starts right after it.
std::string verity_table(const images::VerityParams& params, dev_t data_dev, dev_t hash_dev);

// Maps the image's data area (a linear target at data_offset) and puts a
// read-only verity device over it; returns the verity device's number.
dev_t setup_verity(DeviceMapper& mapper, const images::VerityParams& params, dev_t disk);

// The crypt target's table text: aes-xts-plain64 with the key in hex, IVs
// counted in 512-byte sectors from the start of `lower` (as `shelter build
// --encrypt` wrote them). The caller wipes the returned text.
std::string crypt_table(std::span<const uint8_t> key, dev_t lower);

// Puts a read-only dm-crypt device over the verity device (the hash tree is
// over the ciphertext, so verity checks what crypt then decrypts); returns
// its number. Wipes every copy of the key it made.
dev_t setup_crypt(DeviceMapper& mapper, const images::VerityParams& params, dev_t verity, std::span<const uint8_t> key);

// True when dm-verity has seen a block that does not match the root hash.
bool verity_found_corruption(DeviceMapper& mapper);

}  // namespace shelter::guest
