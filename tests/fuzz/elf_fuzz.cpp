// libFuzzer target: the ELF64 and PVH-note parser and the ELF loader on
// arbitrary bytes. Every input must either load or be rejected with VmmError.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/arch/x86_64/kernel_image.h"
#include "vmm/arch/x86_64/loader.h"

using namespace shelter::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static memory::GuestMemory guest(memory::MemoryLayout(32 * memory::kMiB));
  std::span<const uint8_t> file(data, size);
  try {
    x86_64::parse_elf(file);
  } catch (const x86_64::KernelFormatError&) {
  }
  if (!x86_64::has_elf_magic(file)) return 0;
  try {
    x86_64::BootFiles files{"fuzz", file, "", std::nullopt, "console=ttyS0"};
    x86_64::load_kernel(guest, files);
  } catch (const VmmError&) {
  }
  return 0;
}
