// The --add-binary ELF header parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "images/binary_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    shelter::images::elf_interpreter(std::span<const uint8_t>(data, size), "fuzz");
  } catch (const shelter::Error&) {
  }
  return 0;
}
