// virtio-blk against a temporary file, driven through a virtqueue in real
// guest memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/unit/vmm/virtio/test_driver.h"
#include "vmm/kvm/error.h"
#include "vmm/virtio/block.h"

namespace shelter::vmm::virtio {
namespace {

using testing::Buffer;
using testing::RecordingSignals;
using testing::TestDriver;

constexpr uint64_t kSectors = 16;

std::vector<uint8_t> header(uint32_t type, uint64_t sector) {
  BlockRequestHeader h{type, 0, sector};
  const auto* bytes = reinterpret_cast<const uint8_t*>(&h);
  return {bytes, bytes + sizeof h};
}

class BlockTest : public ::testing::Test {
 protected:
  BlockTest() {
    std::string name = (std::filesystem::temp_directory_path() / "shelter-virtio-blk-XXXXXX").string();
    int fd = ::mkstemp(name.data());
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = name;
    contents_.resize(kSectors * kSectorSize);
    for (size_t i = 0; i < contents_.size(); ++i) contents_[i] = static_cast<uint8_t>(i * 7 + i / 512);
    std::ofstream(path_, std::ios::binary).write(reinterpret_cast<const char*>(contents_.data()), contents_.size());
  }
  ~BlockTest() override { ::unlink(path_.c_str()); }

  void activate(BlockDevice& device) {
    device.activate(Activation{&memory_, kCommonDeviceFeatures, {driver_.config()}, &signals_});
  }
  std::vector<uint8_t> file() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // Runs one chain; returns its used length and the status byte (the last
  // byte of its last buffer).
  std::pair<uint32_t, uint8_t> run(BlockDevice& device, const std::vector<Buffer>& chain) {
    driver_.add_chain(chain);
    device.queue_notify(0);
    std::vector<testing::UsedElement> used = driver_.take_used();
    EXPECT_EQ(used.size(), 1u);
    if (used.empty()) return {0, 0xff};
    uint64_t last = driver_.last_addresses().back();
    return {used[0].length, driver_.read(last + chain.back().writable - 1, 1)[0]};
  }

  memory::GuestMemory memory_{memory::MemoryLayout(4 * memory::kMiB)};
  TestDriver driver_{memory_, 16, 0x100000};
  RecordingSignals signals_;
  std::string path_;
  std::vector<uint8_t> contents_;
};

TEST_F(BlockTest, OffersFeaturesAndConfig) {
  BlockDevice rw(path_, false, "disk0");
  BlockDevice ro(path_, true, "disk0");
  EXPECT_EQ(rw.device_id(), kDeviceIdBlock);
  EXPECT_EQ(rw.device_features() & kBlockFeatureRo, 0u);
  EXPECT_NE(ro.device_features() & kBlockFeatureRo, 0u);
  for (uint64_t bit : {kFeatureVersion1, kFeatureAccessPlatform, kBlockFeatureFlush, kBlockFeatureSegMax,
                       kBlockFeatureBlkSize})
    EXPECT_NE(rw.device_features() & bit, 0u) << bit;
  BlockConfig config;
  rw.read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof config));
  EXPECT_EQ(config.capacity, kSectors);
  EXPECT_EQ(config.blk_size, 512u);
  EXPECT_EQ(config.seg_max, kBlockQueueSize - 2u);
  uint8_t beyond[4] = {1, 2, 3, 4};
  rw.read_config(0x100, beyond);
  EXPECT_EQ(beyond[0] | beyond[1] | beyond[2] | beyond[3], 0);
  uint8_t high_byte = 0xff;
  rw.read_config(1, std::span(&high_byte, 1));  // an unaligned piece of capacity
  EXPECT_EQ(high_byte, 0);
}

TEST_F(BlockTest, ReadsSectorsAcrossSegments) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  std::vector<uint8_t> head = header(kBlockRequestIn, 3);
  // The header split over two buffers, the data over two, then the status.
  auto [length, status] =
      run(device, {Buffer::in({head.begin(), head.begin() + 5}), Buffer::in({head.begin() + 5, head.end()}),
                   Buffer::out(700), Buffer::out(324), Buffer::out(1)});
  EXPECT_EQ(status, kBlockStatusOk);
  EXPECT_EQ(length, 1025u);
  std::vector<uint64_t> at = driver_.last_addresses();
  std::vector<uint8_t> data = driver_.read(at[2], 700);
  std::vector<uint8_t> tail = driver_.read(at[3], 324);
  data.insert(data.end(), tail.begin(), tail.end());
  EXPECT_EQ(data, std::vector<uint8_t>(contents_.begin() + 3 * 512, contents_.begin() + 5 * 512));
  EXPECT_EQ(signals_.used_count(0), 1u);
}

TEST_F(BlockTest, StatusMayShareTheLastBufferWithData) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  auto [length, status] = run(device, {Buffer::in(header(kBlockRequestIn, 0)), Buffer::out(513)});
  EXPECT_EQ(status, kBlockStatusOk);
  EXPECT_EQ(length, 513u);
  EXPECT_EQ(driver_.read(driver_.last_addresses()[1], 512), std::vector<uint8_t>(contents_.begin(), contents_.begin() + 512));
}

TEST_F(BlockTest, WritesSectorsAndFlushes) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  std::vector<uint8_t> data(1024, 0xab);
  auto [length, status] = run(device, {Buffer::in(header(kBlockRequestOut, 15 - 1)), Buffer::in(data), Buffer::out(1)});
  EXPECT_EQ(status, kBlockStatusOk);
  EXPECT_EQ(length, 1u);
  std::vector<uint8_t> expected = contents_;
  std::fill(expected.begin() + 14 * 512, expected.end(), 0xab);
  EXPECT_EQ(file(), expected);
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestFlush, 0)), Buffer::out(1)}).second, kBlockStatusOk);
}

TEST_F(BlockTest, GetIdReturnsTheSerial) {
  BlockDevice device(path_, false, "shelter-disk-serial-too-long");
  activate(device);
  auto [length, status] = run(device, {Buffer::in(header(kBlockRequestGetId, 0)), Buffer::out(20), Buffer::out(1)});
  EXPECT_EQ(status, kBlockStatusOk);
  EXPECT_EQ(length, 21u);
  std::vector<uint8_t> id = driver_.read(driver_.last_addresses()[1], 20);
  EXPECT_EQ(std::string(id.begin(), id.end()), std::string("shelter-disk-serial-too-long").substr(0, 20));
}

TEST_F(BlockTest, ReadOnlyDiskRefusesWrites) {
  BlockDevice device(path_, true, "disk0");
  activate(device);
  auto [length, status] = run(device, {Buffer::in(header(kBlockRequestOut, 0)), Buffer::in(std::vector<uint8_t>(512, 1)), Buffer::out(1)});
  EXPECT_EQ(status, kBlockStatusIoErr);
  EXPECT_EQ(length, 1u);
  EXPECT_EQ(file(), contents_);
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, 0)), Buffer::out(513)}).second, kBlockStatusOk);
}

TEST_F(BlockTest, ReadsAndWritesPastTheEndFail) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, kSectors)), Buffer::out(513)}),
            std::make_pair(1u, kBlockStatusIoErr));
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, kSectors - 1)), Buffer::out(1025)}),
            std::make_pair(1u, kBlockStatusIoErr));
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, UINT64_MAX)), Buffer::out(513)}),
            std::make_pair(1u, kBlockStatusIoErr));
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestOut, kSectors)), Buffer::in(std::vector<uint8_t>(512, 1)), Buffer::out(1)}).second,
            kBlockStatusIoErr);
  EXPECT_EQ(file(), contents_);  // not grown, not changed
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, kSectors - 1)), Buffer::out(513)}).second, kBlockStatusOk);
}

TEST_F(BlockTest, PartialSectorsFail) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestIn, 0)), Buffer::out(101)}).second, kBlockStatusIoErr);
}

TEST_F(BlockTest, UnknownRequestTypeIsUnsupported) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  EXPECT_EQ(run(device, {Buffer::in(header(11, 0)), Buffer::out(1)}), std::make_pair(1u, kBlockStatusUnsupported));
}

TEST_F(BlockTest, AShortHeaderIsAnIoError) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  std::vector<uint8_t> head = header(kBlockRequestIn, 0);
  head.resize(10);
  EXPECT_EQ(run(device, {Buffer::in(head), Buffer::out(513)}), std::make_pair(1u, kBlockStatusIoErr));
  EXPECT_EQ(signals_.resets_requested, 0);
}

TEST_F(BlockTest, AMissingStatusByteNeedsAReset) {
  BlockDevice device(path_, false, "disk0");
  activate(device);
  driver_.add_chain({Buffer::in(header(kBlockRequestFlush, 0))});
  device.queue_notify(0);
  EXPECT_EQ(signals_.resets_requested, 1);
  EXPECT_TRUE(driver_.take_used().empty());
  // After the driver resets the device, it serves again.
  device.reset();
  driver_ = TestDriver(memory_, 16, 0x100000);
  activate(device);
  EXPECT_EQ(run(device, {Buffer::in(header(kBlockRequestFlush, 0)), Buffer::out(1)}).second, kBlockStatusOk);
}

TEST_F(BlockTest, AMissingFileIsAClearError) {
  try {
    BlockDevice device("/nonexistent/disk.img", true, "");
    FAIL() << "no error";
  } catch (const VmmError& error) {
    EXPECT_STREQ(error.what(), "disk /nonexistent/disk.img: No such file or directory");
  }
}

}  // namespace
}  // namespace shelter::vmm::virtio
