#include "vmm/virtio/block.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "vmm/kvm/error.h"
#include "vmm/virtio/config_space.h"

namespace shelter::vmm::virtio {
BlockDevice::BlockDevice(const std::string& path, bool read_only, std::string serial)
    : path_(path), read_only_(read_only), serial_(std::move(serial)) {
  fd_.reset(::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!fd_) throw VmmError("disk " + path + ": " + std::strerror(errno));
  off_t end = ::lseek(fd_.get(), 0, SEEK_END);
  if (end < 0) throw VmmError("disk " + path + ": cannot find its size: " + std::strerror(errno));
  size_ = static_cast<uint64_t>(end);
  if (serial_.size() > kBlockIdBytes) serial_.resize(kBlockIdBytes);
}

uint64_t BlockDevice::device_features() const {
  uint64_t features = kCommonDeviceFeatures | kBlockFeatureSegMax | kBlockFeatureBlkSize | kBlockFeatureFlush;
  if (read_only_) features |= kBlockFeatureRo;
  return features;
}

void BlockDevice::read_config(uint64_t offset, std::span<uint8_t> data) {
  BlockConfig config{};
  config.capacity = capacity_sectors();
  config.seg_max = kBlockQueueSize - 2;  // room for the header and the status
  config.blk_size = kSectorSize;
  read_config_bytes(config, offset, data);
}

void BlockDevice::write_config(uint64_t, std::span<const uint8_t>) {
  // No writable field is offered (CONFIG_WCE is not): writes are ignored.
}

void BlockDevice::activate(Activation activation) {
  std::lock_guard lock(mutex_);
  queue_ = std::make_unique<Queue>(*activation.memory, activation.queues.at(0), activation.features, 0,
                                   *activation.signals);
}

void BlockDevice::reset() {
  std::lock_guard lock(mutex_);
  queue_.reset();
}

void BlockDevice::queue_notify(uint16_t queue) {
  std::lock_guard lock(mutex_);
  if (queue != 0 || !queue_) return;
  while (std::optional<DescriptorChain> chain = queue_->pop()) {
    std::optional<uint32_t> written = serve(*chain);
    if (!written) {
      queue_->fail("block request without a writable status byte");
      break;
    }
    queue_->push_used(chain->head, *written);
  }
  queue_->signal_used();
}

std::optional<uint32_t> BlockDevice::serve(const DescriptorChain& chain) {
  if (chain.writable_bytes == 0) return std::nullopt;
  // The status is the chain's last writable byte; data goes before it.
  ChainReader reader(chain);
  ChainWriter writer(chain, /*reserve_tail=*/1);
  BlockRequestHeader header;
  uint8_t status = kBlockStatusIoErr;
  if (reader.read(std::span(reinterpret_cast<uint8_t*>(&header), sizeof header)) == sizeof header)
    status = transfer(header, reader, writer);
  std::span<uint8_t> last = chain.writable.back();
  last.back() = status;
  return static_cast<uint32_t>(writer.written() + 1);
}

uint8_t BlockDevice::transfer(const BlockRequestHeader& header, ChainReader& reader, ChainWriter& writer) {
  switch (header.type) {
    case kBlockRequestIn:
    case kBlockRequestOut: {
      bool in = header.type == kBlockRequestIn;
      uint64_t length = in ? writer.remaining() : reader.remaining();
      if (!in && read_only_) return kBlockStatusIoErr;
      // Whole sectors inside the disk: the file is never read or written
      // past its end, and never grows.
      if (length % kSectorSize != 0 || header.sector > capacity_sectors() ||
          length / kSectorSize > capacity_sectors() - header.sector)
        return kBlockStatusIoErr;
      uint64_t position = header.sector * kSectorSize;
      std::vector<std::span<uint8_t>> parts = in ? writer.take(length) : reader.take(length);
      for (std::span<uint8_t> part : parts) {
        size_t done = 0;
        while (done < part.size()) {
          ssize_t n = in ? ::pread(fd_.get(), part.data() + done, part.size() - done, off_t(position))
                         : ::pwrite(fd_.get(), part.data() + done, part.size() - done, off_t(position));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) return kBlockStatusIoErr;  // an error, or the file shrank under us
          done += size_t(n);
          position += uint64_t(n);
        }
      }
      return kBlockStatusOk;
    }
    case kBlockRequestFlush:
      if (read_only_) return kBlockStatusOk;
      return ::fdatasync(fd_.get()) == 0 ? kBlockStatusOk : kBlockStatusIoErr;
    case kBlockRequestGetId: {
      uint8_t id[kBlockIdBytes] = {};
      std::memcpy(id, serial_.data(), serial_.size());
      writer.write(std::span(id, std::min<uint64_t>(kBlockIdBytes, writer.remaining())));
      return kBlockStatusOk;
    }
    default:
      return kBlockStatusUnsupported;
  }
}

}  // namespace shelter::vmm::virtio
