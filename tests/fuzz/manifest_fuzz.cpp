#include <cstddef>
#include <cstdint>
#include <string_view>

#include "images/error.h"
#include "images/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    shelter::images::parse_manifest(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const shelter::images::FormatError&) {
  }
  return 0;
}
