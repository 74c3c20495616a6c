// The split virtqueue against rings a test driver builds in real guest
// memory: well-formed chains, interrupt suppression, and each way a hostile
// driver can break the rules.
#include <gtest/gtest.h>

#include "tests/unit/vmm/virtio/test_driver.h"
#include "vmm/virtio/queue.h"

namespace shelter::vmm::virtio {
namespace {

using testing::Buffer;
using testing::RecordingSignals;
using testing::TestDriver;

constexpr uint64_t kRingBase = 0x100000;
constexpr uint64_t kAllFeatures = kFeatureVersion1 | kFeatureRingEventIdx | kFeatureRingIndirectDesc;

class QueueTest : public ::testing::Test {
 protected:
  memory::GuestMemory memory_{memory::MemoryLayout(4 * memory::kMiB)};
  TestDriver driver_{memory_, 8, kRingBase};
  RecordingSignals signals_;

  Queue make_queue(uint64_t features = kAllFeatures) { return Queue(memory_, driver_.config(), features, 0, signals_); }

  // The queue must refuse the chain, ask for a reset once, and stay stopped.
  void expect_broken(Queue& queue) {
    EXPECT_FALSE(queue.pop().has_value());
    EXPECT_TRUE(queue.broken());
    EXPECT_EQ(signals_.resets_requested, 1);
    driver_.add_chain({Buffer::in("fine")});
    EXPECT_FALSE(queue.pop().has_value());
    queue.push_used(0, 0);
    queue.signal_used();
    EXPECT_EQ(signals_.resets_requested, 1);
    EXPECT_EQ(signals_.total_used(), 0u);
  }
};

TEST_F(QueueTest, PopsAChainIntoReadableAndWritableSegments) {
  Queue queue = make_queue();
  EXPECT_FALSE(queue.pop().has_value());
  uint16_t head = driver_.add_chain({Buffer::in("head"), Buffer::in("er"), Buffer::out(10), Buffer::out(3)});
  std::optional<DescriptorChain> chain = queue.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->head, head);
  ASSERT_EQ(chain->readable.size(), 2u);
  ASSERT_EQ(chain->writable.size(), 2u);
  EXPECT_EQ(chain->readable_bytes, 6u);
  EXPECT_EQ(chain->writable_bytes, 13u);
  ChainReader reader(*chain);
  std::string text(6, '\0');
  EXPECT_EQ(reader.read(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size())), 6u);
  EXPECT_EQ(text, "header");
  ChainWriter writer(*chain, 1);
  const std::string reply = "0123456789ab";
  EXPECT_EQ(writer.write(std::span(reinterpret_cast<const uint8_t*>(reply.data()), reply.size())), 12u);
  EXPECT_EQ(writer.remaining(), 0u);
  std::vector<uint64_t> addresses = driver_.last_addresses();
  EXPECT_EQ(driver_.read(addresses[2], 10), std::vector<uint8_t>(reply.begin(), reply.begin() + 10));
  EXPECT_EQ(driver_.read(addresses[3], 2), std::vector<uint8_t>(reply.begin() + 10, reply.end()));
  queue.push_used(chain->head, 12);
  queue.signal_used();
  std::vector<testing::UsedElement> used = driver_.take_used();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].length, 12u);
  EXPECT_EQ(signals_.used_count(0), 1u);
  EXPECT_FALSE(queue.broken());
}

TEST_F(QueueTest, FollowsAnIndirectTable) {
  Queue queue = make_queue();
  driver_.add_chain({Buffer::in("abc"), Buffer::in("de"), Buffer::out(7)}, /*indirect=*/true);
  std::optional<DescriptorChain> chain = queue.pop();
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ(chain->readable.size(), 2u);
  EXPECT_EQ(chain->readable_bytes, 5u);
  EXPECT_EQ(chain->writable_bytes, 7u);
}

TEST_F(QueueTest, WrapsAroundTheRingManyTimes) {
  Queue queue = make_queue();
  for (int round = 0; round < 40; ++round) {
    driver_.add_chain({Buffer::in("x"), Buffer::out(1)});
    std::optional<DescriptorChain> chain = queue.pop();
    ASSERT_TRUE(chain.has_value()) << round;
    queue.push_used(chain->head, 1);
  }
  queue.signal_used();
  EXPECT_EQ(driver_.used_index(), 40);
  EXPECT_FALSE(queue.broken());
}

TEST_F(QueueTest, NoInterruptFlagSuppressesWithoutEventIndex) {
  Queue queue = make_queue(kFeatureVersion1);
  driver_.set_avail_flags(kAvailNoInterrupt);
  driver_.add_chain({Buffer::out(4)});
  queue.push_used(queue.pop()->head, 0);
  queue.signal_used();
  EXPECT_EQ(signals_.total_used(), 0u);
  driver_.set_avail_flags(0);
  driver_.add_chain({Buffer::out(4)});
  queue.push_used(queue.pop()->head, 0);
  queue.signal_used();
  EXPECT_EQ(signals_.used_count(0), 1u);
  queue.signal_used();  // nothing new: no second interrupt
  EXPECT_EQ(signals_.used_count(0), 1u);
}

TEST_F(QueueTest, UsedEventDecidesInterruptsWithEventIndex) {
  Queue queue = make_queue();
  driver_.set_avail_flags(kAvailNoInterrupt);  // ignored once event index is on
  driver_.set_used_event(0);
  auto complete_one = [&] {
    driver_.add_chain({Buffer::out(4)});
    queue.push_used(queue.pop()->head, 0);
    queue.signal_used();
  };
  complete_one();  // used 0 -> 1 crosses used_event 0
  EXPECT_EQ(signals_.used_count(0), 1u);
  complete_one();  // 1 -> 2 does not
  EXPECT_EQ(signals_.used_count(0), 1u);
  driver_.set_used_event(3);
  complete_one();  // 2 -> 3 does not reach used_event 3 + 1
  EXPECT_EQ(signals_.used_count(0), 1u);
  complete_one();  // 3 -> 4 does
  EXPECT_EQ(signals_.used_count(0), 2u);
}

TEST_F(QueueTest, WritesAvailEventBackWithEventIndex) {
  Queue queue = make_queue();
  driver_.add_chain({Buffer::out(4)});
  driver_.add_chain({Buffer::out(4)});
  ASSERT_TRUE(queue.pop().has_value());
  ASSERT_TRUE(queue.pop().has_value());
  EXPECT_FALSE(queue.pop().has_value());
  EXPECT_EQ(driver_.avail_event(), 2);
}

TEST_F(QueueTest, ALoopingChainBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {0x200000, 4, kDescriptorNext, 1});
  driver_.write_descriptor(1, {0x200000, 4, kDescriptorNext, 0});
  driver_.make_available(0);
  expect_broken(queue);
  EXPECT_NE(queue.broken_reason().find("loops"), std::string::npos);
}

TEST_F(QueueTest, ALoopingIndirectTableBreaksTheQueue) {
  Queue queue = make_queue();
  const Descriptor table[2] = {{0x200000, 4, kDescriptorNext, 1}, {0x200000, 4, kDescriptorNext, 0}};
  driver_.write_table(0x300000, table);
  driver_.write_descriptor(0, {0x300000, 32, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, ABufferOutsideRamBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {64 * memory::kMiB, 16, 0, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, ABufferRunningPastTheEndOfRamBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {4 * memory::kMiB - 8, 16, 0, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AnAddressThatWrapsBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {UINT64_MAX - 0xfff, 0x2000, 0, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AHeadOutOfRangeBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.make_available(8);
  expect_broken(queue);
}

TEST_F(QueueTest, ANextIndexOutOfRangeBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {0x200000, 4, kDescriptorNext, 9});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AReadableBufferAfterAWritableOneBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {0x200000, 4, kDescriptorWrite | kDescriptorNext, 1});
  driver_.write_descriptor(1, {0x200100, 4, 0, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, NestedIndirectTablesBreakTheQueue) {
  Queue queue = make_queue();
  const Descriptor inner[1] = {{0x200000, 4, 0, 0}};
  driver_.write_table(0x310000, inner);
  const Descriptor outer[1] = {{0x310000, 16, kDescriptorIndirect, 0}};
  driver_.write_table(0x300000, outer);
  driver_.write_descriptor(0, {0x300000, 16, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
  EXPECT_NE(queue.broken_reason().find("nested"), std::string::npos);
}

TEST_F(QueueTest, IndirectWithNextBreaksTheQueue) {
  Queue queue = make_queue();
  const Descriptor table[1] = {{0x200000, 4, 0, 0}};
  driver_.write_table(0x300000, table);
  driver_.write_descriptor(0, {0x300000, 16, kDescriptorIndirect | kDescriptorNext, 1});
  driver_.write_descriptor(1, {0x200000, 4, 0, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AnIndirectTableOfOddLengthBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {0x300000, 24, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AnEmptyIndirectTableBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {0x300000, 0, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, AnIndirectTableLongerThanTheQueueBreaksTheQueue) {
  Queue queue = make_queue();
  std::vector<Descriptor> table(9, Descriptor{0x200000, 4, kDescriptorNext, 0});
  for (uint16_t i = 0; i < 9; ++i) table[i].next = static_cast<uint16_t>(i + 1);
  table[8].flags = 0;
  driver_.write_table(0x300000, table);
  driver_.write_descriptor(0, {0x300000, 16 * 9, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
  EXPECT_NE(queue.broken_reason().find("longer than the queue"), std::string::npos);
}

TEST_F(QueueTest, AnIndirectTableOutsideRamBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.write_descriptor(0, {4 * memory::kMiB - 16, 32, kDescriptorIndirect, 0});
  driver_.make_available(0);
  expect_broken(queue);
}

TEST_F(QueueTest, IndirectWithoutTheFeatureBreaksTheQueue) {
  Queue queue = make_queue(kFeatureVersion1);
  driver_.add_chain({Buffer::in("abc")}, /*indirect=*/true);
  expect_broken(queue);
}

TEST_F(QueueTest, AnAvailIndexTooFarAheadBreaksTheQueue) {
  Queue queue = make_queue();
  driver_.set_avail_index(9);  // 9 new entries in a ring of 8
  expect_broken(queue);
  EXPECT_NE(queue.broken_reason().find("ahead"), std::string::npos);
}

TEST_F(QueueTest, ASizeThatIsNotAPowerOfTwoBreaksTheQueue) {
  QueueConfig config = driver_.config();
  config.size = 6;
  Queue queue(memory_, config, kAllFeatures, 0, signals_);
  EXPECT_TRUE(queue.broken());
  EXPECT_EQ(signals_.resets_requested, 1);
  driver_.add_chain({Buffer::in("fine")});
  EXPECT_FALSE(queue.pop().has_value());
}

TEST_F(QueueTest, RingsOutsideRamOrMisalignedBreakTheQueue) {
  QueueConfig outside = driver_.config();
  outside.device_area = 4 * memory::kMiB - 8;
  EXPECT_TRUE(Queue(memory_, outside, kAllFeatures, 0, signals_).broken());
  QueueConfig misaligned = driver_.config();
  misaligned.descriptor_table += 8;
  EXPECT_TRUE(Queue(memory_, misaligned, kAllFeatures, 0, signals_).broken());
  EXPECT_EQ(signals_.resets_requested, 2);
}

// RAM on both sides of the PCI hole: buffers that straddle the hole, and a
// chain whose lengths add up to more than 4 GiB, are both real RAM here.
class LargeMemoryQueueTest : public ::testing::Test {
 protected:
  memory::GuestMemory memory_{memory::MemoryLayout(3 * memory::kGiB + 4 * memory::kMiB)};
  TestDriver driver_{memory_, 8, kRingBase};
  RecordingSignals signals_;
};

TEST_F(LargeMemoryQueueTest, ABufferAcrossTheRamHoleBreaksTheQueue) {
  Queue queue(memory_, driver_.config(), kAllFeatures, 0, signals_);
  driver_.write_descriptor(0, {memory::kPciHoleStart - 8, 16, 0, 0});
  driver_.make_available(0);
  EXPECT_FALSE(queue.pop().has_value());
  EXPECT_TRUE(queue.broken());
  EXPECT_EQ(signals_.resets_requested, 1);
}

TEST_F(LargeMemoryQueueTest, ChainLengthsAddingUpPast4GiBBreakTheQueue) {
  Queue queue(memory_, driver_.config(), kAllFeatures, 0, signals_);
  driver_.write_descriptor(0, {0, 0x80000000u, kDescriptorNext, 1});
  driver_.write_descriptor(1, {0x40000000, 0x80000000u, 0, 0});
  driver_.make_available(0);
  EXPECT_FALSE(queue.pop().has_value());
  EXPECT_TRUE(queue.broken());
  EXPECT_NE(queue.broken_reason().find("4 GiB"), std::string::npos);
}

}  // namespace
}  // namespace shelter::vmm::virtio
