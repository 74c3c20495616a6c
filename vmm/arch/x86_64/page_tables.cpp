#include "vmm/arch/x86_64/page_tables.h"

namespace shelter::vmm::x86_64 {

uint64_t write_identity_page_tables(const memory::GuestMemory& memory) {
  constexpr uint64_t table_bytes = 0x1000;
  constexpr uint64_t entries = table_bytes / sizeof(uint64_t);
  memory.fill(memory::kPml4Address, (2 + kIdentityMappedGiB) * table_bytes, 0);
  memory.write_object<uint64_t>(memory::kPml4Address, kPdptAddress | kPagePresent | kPageWritable);
  for (uint64_t gib = 0; gib < kIdentityMappedGiB; ++gib) {
    uint64_t directory = kPageDirectoriesAddress + gib * table_bytes;
    memory.write_object<uint64_t>(kPdptAddress + gib * 8, directory | kPagePresent | kPageWritable);
    for (uint64_t i = 0; i < entries; ++i) {
      uint64_t address = (gib * entries + i) << 21;
      memory.write_object<uint64_t>(directory + i * 8, address | kPagePresent | kPageWritable | kPageHuge);
    }
  }
  return memory::kPml4Address;
}

}  // namespace shelter::vmm::x86_64
