// virtio-rng and virtio-console through virtqueues in real guest memory.
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/vmm/virtio/test_driver.h"
#include "vmm/virtio/console.h"
#include "vmm/virtio/rng.h"

namespace shelter::vmm::virtio {
namespace {

using testing::Buffer;
using testing::RecordingSignals;
using testing::TestDriver;

std::span<const uint8_t> bytes_of(const std::string& text) {
  return std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

TEST(Rng, FillsWritableBuffers) {
  memory::GuestMemory memory(memory::MemoryLayout(4 * memory::kMiB));
  TestDriver driver(memory, 8, 0x100000);
  RecordingSignals signals;
  RngDevice rng;
  EXPECT_EQ(rng.device_id(), kDeviceIdRng);
  rng.activate(Activation{&memory, kCommonDeviceFeatures, {driver.config()}, &signals});
  driver.add_chain({Buffer::out(32), Buffer::out(4096)});
  rng.queue_notify(0);
  std::vector<testing::UsedElement> used = driver.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].length, 32u + 4096u);
  // 4096 random bytes are not all zero, and do not repeat the first 32.
  std::vector<uint8_t> first = driver.read(driver.last_addresses()[0], 32);
  std::vector<uint8_t> second = driver.read(driver.last_addresses()[1], 4096);
  EXPECT_NE(first, std::vector<uint8_t>(32, 0));
  EXPECT_NE(std::vector<uint8_t>(second.begin(), second.begin() + 32), first);
  EXPECT_EQ(signals.used_count(0), 1u);
}

TEST(Rng, CapsOneRequest) {
  memory::GuestMemory memory(memory::MemoryLayout(4 * memory::kMiB));
  TestDriver driver(memory, 8, 0x100000, 1024 * 1024);
  RecordingSignals signals;
  RngDevice rng;
  rng.activate(Activation{&memory, kCommonDeviceFeatures, {driver.config()}, &signals});
  driver.add_chain({Buffer::out(kRngMaxBytesPerRequest + 4096)});
  rng.queue_notify(0);
  std::vector<testing::UsedElement> used = driver.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].length, kRngMaxBytesPerRequest);
}

struct StringSink final : devices::ByteSink {
  std::string text;
  void write(uint8_t byte) override { text.push_back(static_cast<char>(byte)); }
};

class ConsoleTest : public ::testing::Test {
 protected:
  void activate() {
    console_.activate(
        Activation{&memory_, kCommonDeviceFeatures, {receive_.config(), transmit_.config()}, &signals_});
  }
  memory::GuestMemory memory_{memory::MemoryLayout(4 * memory::kMiB)};
  TestDriver receive_{memory_, 8, 0x100000};
  TestDriver transmit_{memory_, 8, 0x200000};
  RecordingSignals signals_;
  StringSink output_;
  ConsoleDevice console_{output_};
};

TEST_F(ConsoleTest, TransmitGoesToTheSink) {
  activate();
  transmit_.add_chain({Buffer::in("hello, "), Buffer::in("hvc0\n")});
  transmit_.add_chain({Buffer::in("again\n")}, /*indirect=*/true);
  console_.queue_notify(kConsoleTransmitQueue);
  EXPECT_EQ(output_.text, "hello, hvc0\nagain\n");
  EXPECT_EQ(transmit_.take_used().size(), 2u);
  EXPECT_EQ(signals_.used_count(kConsoleTransmitQueue), 1u);
}

TEST_F(ConsoleTest, InputWaitsForReceiveBuffers) {
  EXPECT_EQ(console_.enqueue_input(bytes_of("typed before boot ")), 18u);
  activate();
  EXPECT_EQ(console_.enqueue_input(bytes_of("and after")), 9u);
  EXPECT_TRUE(receive_.take_used().empty());  // no buffer yet
  receive_.add_chain({Buffer::out(10)});
  uint64_t first = receive_.last_addresses()[0];
  receive_.add_chain({Buffer::out(64)});
  uint64_t second = receive_.last_addresses()[0];
  receive_.add_chain({Buffer::out(64)});
  console_.queue_notify(kConsoleReceiveQueue);
  std::vector<testing::UsedElement> used = receive_.take_used();
  ASSERT_EQ(used.size(), 2u);  // the third buffer stays with the device
  EXPECT_EQ(used[0].length, 10u);
  EXPECT_EQ(used[1].length, 17u);
  EXPECT_EQ(signals_.used_count(kConsoleReceiveQueue), 1u);
  std::vector<uint8_t> text = receive_.read(first, 10);
  std::vector<uint8_t> rest = receive_.read(second, 17);
  text.insert(text.end(), rest.begin(), rest.end());
  EXPECT_EQ(std::string(text.begin(), text.end()), "typed before boot and after");
  // The third chain is still available: the next input lands in it at once.
  EXPECT_EQ(console_.enqueue_input(bytes_of("!")), 1u);
  used = receive_.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(receive_.read(receive_.last_addresses()[0], 1)[0], '!');
}

TEST_F(ConsoleTest, InputBufferIsBounded) {
  std::string flood(kConsoleInputBufferSize + 100, 'x');
  EXPECT_EQ(console_.enqueue_input(bytes_of(flood)), kConsoleInputBufferSize);
  EXPECT_EQ(console_.enqueue_input(bytes_of("y")), 0u);
}

TEST_F(ConsoleTest, EmergencyWriteReachesTheSink) {
  EXPECT_NE(console_.device_features() & kConsoleFeatureEmergWrite, 0u);
  const uint8_t value[4] = {'!', 0, 0, 0};
  console_.write_config(offsetof(ConsoleConfig, emerg_wr), value);
  console_.write_config(0, value);  // cols: read-only, ignored
  EXPECT_EQ(output_.text, "!");
  ConsoleConfig config;
  console_.read_config(0, std::span(reinterpret_cast<uint8_t*>(&config), sizeof config));
  EXPECT_EQ(config.max_nr_ports, 0u);
}

}  // namespace
}  // namespace shelter::vmm::virtio
