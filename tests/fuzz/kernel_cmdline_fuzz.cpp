#include <cstddef>
#include <cstdint>
#include <string_view>

#include "images/error.h"
#include "images/kernel_cmdline.h"

// Whatever parses must format back to a command line that parses the same.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shelter::images;
  try {
    GuestParams params = parse_kernel_cmdline(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!(parse_kernel_cmdline(format_kernel_cmdline(params)) == params)) __builtin_trap();
  } catch (const FormatError&) {
  }
  return 0;
}
