#pragma once
// virtio-blk (virtio 1.2, section 5.2) over a host file or block device,
// read-only or read-write. One request queue; requests are served
// synchronously on the notifying thread with pread/pwrite/fdatasync
// straight between the file and guest memory. Offered: RO (read-only
// disks), FLUSH, SEG_MAX, BLK_SIZE, and the device-independent VERSION_1,
// ACCESS_PLATFORM, INDIRECT_DESC and EVENT_IDX.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "vmm/virtio/device.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio {

inline constexpr uint64_t kBlockFeatureSegMax = uint64_t{1} << 2;
inline constexpr uint64_t kBlockFeatureRo = uint64_t{1} << 5;
inline constexpr uint64_t kBlockFeatureBlkSize = uint64_t{1} << 6;
inline constexpr uint64_t kBlockFeatureFlush = uint64_t{1} << 9;

inline constexpr uint32_t kBlockRequestIn = 0;
inline constexpr uint32_t kBlockRequestOut = 1;
inline constexpr uint32_t kBlockRequestFlush = 4;
inline constexpr uint32_t kBlockRequestGetId = 8;

inline constexpr uint8_t kBlockStatusOk = 0;
inline constexpr uint8_t kBlockStatusIoErr = 1;
inline constexpr uint8_t kBlockStatusUnsupported = 2;

inline constexpr uint64_t kSectorSize = 512;
inline constexpr size_t kBlockIdBytes = 20;
inline constexpr uint16_t kBlockQueueSize = 256;

// struct virtio_blk_req's header, as the driver sends it.
struct BlockRequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(BlockRequestHeader) == 16);
static_assert(offsetof(BlockRequestHeader, reserved) == 4 && offsetof(BlockRequestHeader, sector) == 8);

// The start of struct virtio_blk_config: the fields the offered features
// give meaning to (geometry is not offered and reads as zero).
struct __attribute__((packed)) BlockConfig {
  uint64_t capacity;  // in 512-byte sectors
  uint32_t size_max;
  uint32_t seg_max;
  uint16_t cylinders;
  uint8_t heads;
  uint8_t sectors;
  uint32_t blk_size;
};
static_assert(sizeof(BlockConfig) == 24);
static_assert(offsetof(BlockConfig, seg_max) == 12 && offsetof(BlockConfig, cylinders) == 16 &&
              offsetof(BlockConfig, blk_size) == 20);

class BlockDevice final : public VirtioDevice {
 public:
  // Opens path (read-only when read_only); throws VmmError naming the file.
  // serial: up to 20 bytes, returned by GET_ID.
  BlockDevice(const std::string& path, bool read_only, std::string serial);

  uint32_t device_id() const override { return kDeviceIdBlock; }
  uint64_t device_features() const override;
  std::vector<uint16_t> queue_max_sizes() const override { return {kBlockQueueSize}; }
  void read_config(uint64_t offset, std::span<uint8_t> data) override;
  void write_config(uint64_t offset, std::span<const uint8_t> data) override;
  void activate(Activation activation) override;
  void queue_notify(uint16_t queue) override;
  void reset() override;

  uint64_t capacity_sectors() const noexcept { return size_ / kSectorSize; }

 private:
  // Serves one chain; returns the bytes written into it, or nullopt when the
  // chain cannot carry a status byte (the driver broke the protocol).
  std::optional<uint32_t> serve(const DescriptorChain& chain);
  uint8_t transfer(const BlockRequestHeader& header, ChainReader& reader, ChainWriter& writer);

  std::string path_;
  bool read_only_;
  std::string serial_;
  UniqueFd fd_;
  uint64_t size_ = 0;

  std::mutex mutex_;
  std::unique_ptr<Queue> queue_;
};

}  // namespace shelter::vmm::virtio
