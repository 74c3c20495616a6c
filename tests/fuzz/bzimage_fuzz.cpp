// libFuzzer target: the bzImage setup-header parser and loader on arbitrary
// bytes. Every input must either load or be rejected with VmmError.
#include <cstddef>
#include <cstdint>
#include <span>

#include "vmm/arch/x86_64/kernel_image.h"
#include "vmm/arch/x86_64/loader.h"

using namespace shelter::vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One guest memory for all runs: 32 MiB keeps the loader's bounds in play.
  static memory::GuestMemory guest(memory::MemoryLayout(32 * memory::kMiB));
  std::span<const uint8_t> file(data, size);
  try {
    x86_64::parse_bzimage(file);
  } catch (const x86_64::KernelFormatError&) {
  }
  try {
    x86_64::BootFiles files{"fuzz", file, "initrd", file.first(std::min<size_t>(size, 64)), "console=ttyS0"};
    x86_64::load_kernel(guest, files);
  } catch (const VmmError&) {
  }
  return 0;
}
