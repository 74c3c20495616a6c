// Guest memory layout around the PCI hole, the e820 map, and bounds-checked
// access to the memfd-backed RAM.
#include <gtest/gtest.h>

#include "vmm/kvm/error.h"
#include "vmm/memory/guest_memory.h"

namespace shelter::vmm::memory {
namespace {

TEST(MemoryLayout, SmallGuestHasOneRegionBelowTheHole) {
  MemoryLayout layout(256 * kMiB);
  ASSERT_EQ(layout.ram_regions().size(), 1u);
  EXPECT_EQ(layout.ram_regions()[0].guest_address, 0u);
  EXPECT_EQ(layout.ram_regions()[0].size, 256 * kMiB);
  EXPECT_EQ(layout.low_ram_end(), 256 * kMiB);
  auto e820 = layout.e820();
  ASSERT_EQ(e820.size(), 3u);
  EXPECT_EQ(e820[0], (E820Entry{0, kEbdaStart, E820Type::kRam}));
  EXPECT_EQ(e820[1], (E820Entry{kEbdaStart, kHighMemoryStart - kEbdaStart, E820Type::kReserved}));
  EXPECT_EQ(e820[2], (E820Entry{kHighMemoryStart, 255 * kMiB, E820Type::kRam}));
}

TEST(MemoryLayout, LargeGuestSplitsAroundTheHole) {
  MemoryLayout layout(4 * kGiB);
  ASSERT_EQ(layout.ram_regions().size(), 2u);
  EXPECT_EQ(layout.ram_regions()[0].end(), kPciHoleStart);
  EXPECT_EQ(layout.ram_regions()[1].guest_address, kPciHoleEnd);
  EXPECT_EQ(layout.ram_regions()[1].size, 1 * kGiB);
  auto e820 = layout.e820();
  ASSERT_EQ(e820.size(), 4u);
  EXPECT_EQ(e820[3], (E820Entry{4 * kGiB, 1 * kGiB, E820Type::kRam}));
  uint64_t ram = 0;
  for (const E820Entry& e : e820)
    if (e.type == E820Type::kRam) ram += e.size;
  EXPECT_EQ(ram, 4 * kGiB - (kHighMemoryStart - kEbdaStart));
}

TEST(MemoryLayout, E820EntriesAreSortedAndDisjoint) {
  for (uint64_t mib : {2ull, 64ull, 3072ull, 3073ull, 8192ull}) {
    auto e820 = MemoryLayout(mib * kMiB).e820();
    for (size_t i = 1; i < e820.size(); ++i)
      EXPECT_LE(e820[i - 1].address + e820[i - 1].size, e820[i].address) << mib;
    // Nothing in the map may cover the hole's device space.
    for (const E820Entry& e : e820)
      EXPECT_TRUE(e.address + e.size <= kPciHoleStart || e.address >= kPciHoleEnd) << mib;
  }
}

TEST(MemoryLayout, RejectsTooSmallOrRaggedSizes) {
  EXPECT_THROW(MemoryLayout(1 * kMiB), VmmError);
  EXPECT_THROW(MemoryLayout(0), VmmError);
  EXPECT_THROW(MemoryLayout(64 * kMiB + 1), VmmError);
}

TEST(GuestMemory, ReadsAndWritesInsideRam) {
  GuestMemory memory(MemoryLayout(4 * kMiB));
  memory.write_object<uint32_t>(0x1000, 0xdeadbeef);
  EXPECT_EQ(memory.read_object<uint32_t>(0x1000), 0xdeadbeefu);
  std::vector<uint8_t> bytes{1, 2, 3};
  memory.write(4 * kMiB - 3, bytes);
  EXPECT_EQ(memory.slice(4 * kMiB - 3, 3)[2], 3);
  EXPECT_GE(memory.fd(), 0);
}

TEST(GuestMemory, RejectsAccessOutsideRam) {
  GuestMemory memory(MemoryLayout(4 * kMiB));
  EXPECT_THROW(memory.slice(4 * kMiB - 2, 3), VmmError);
  EXPECT_THROW(memory.slice(8 * kMiB, 1), VmmError);
  EXPECT_THROW(memory.slice(UINT64_MAX, 2), VmmError);
  EXPECT_THROW(memory.slice(1, UINT64_MAX), VmmError);
  EXPECT_EQ(memory.try_slice(4 * kMiB, 1).data(), nullptr);
}

TEST(GuestMemory, HighRegionIsBackedAfterTheLowOne) {
  GuestMemory memory(MemoryLayout(3 * kGiB + 2 * kMiB));
  memory.write_object<uint64_t>(kPciHoleEnd + 8, 42);
  EXPECT_EQ(memory.read_object<uint64_t>(kPciHoleEnd + 8), 42u);
  EXPECT_EQ(memory.read_object<uint64_t>(8), 0u);  // a distinct page
  // The hole itself is not RAM; an access may not span into it either.
  EXPECT_THROW(memory.slice(kPciHoleStart, 1), VmmError);
  EXPECT_THROW(memory.slice(kPciHoleStart - 4, 8), VmmError);
  auto regions = memory.layout().ram_regions();
  EXPECT_EQ(static_cast<uint8_t*>(memory.host_address(regions[1])),
            static_cast<uint8_t*>(memory.host_address(regions[0])) + regions[0].size);
}

}  // namespace
}  // namespace shelter::vmm::memory
