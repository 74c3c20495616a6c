#include "tests/unit/attest/test_pki.h"

#include <openssl/ec.h>

#include <stdexcept>

#include "common/file.h"

namespace shelter::attest::testing {

EvpPkeyPtr generate_ec_key(const char* curve) {
  EvpPkeyPtr key(EVP_EC_gen(curve));
  if (!key) throw std::runtime_error("EC key generation failed");
  return key;
}

std::vector<uint8_t> read_vector(const std::filesystem::path& path) { return read_file(vectors_dir() / path, 16 << 20); }

std::filesystem::path vectors_dir() { return SHELTER_VECTORS_DIR; }

}  // namespace shelter::attest::testing
