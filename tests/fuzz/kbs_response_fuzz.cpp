// The client's decryption of a resource response (a JWE from the broker,
// relayed by an untrusted host) and the token parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attest/kbs/jose.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace kbs = shelter::attest::kbs;
  static const kbs::TeeKeyPair key = kbs::TeeKeyPair::generate();
  static const shelter::attest::EvpPkeyPtr token_key(EVP_EC_gen("P-256"));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)key.decrypt(text);
  } catch (const shelter::attest::EvidenceError&) {
  }
  try {
    (void)kbs::verify_token(token_key.get(), text, 0);
  } catch (const shelter::attest::EvidenceError&) {
  }
  return 0;
}
