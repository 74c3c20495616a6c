#pragma once
// JOSE pieces of the protocol, on libjose (JWE) and OpenSSL (JWT ES256):
// the TEE's ephemeral key pair, the resource answered as a flattened JWE to
// that key, and the attestation token.
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attest/crypto.h"
#include "attest/kbs/protocol.h"

namespace shelter::attest::kbs {

// Content encryption of every response; the key wrap is the tee-pubkey's alg
// (ECDH-ES+A256KW for EC keys, RSA-OAEP* or RSA1_5 for RSA keys).
inline constexpr std::string_view kContentEncryption = "A256GCM";

// An ephemeral key pair made inside the TEE: EC P-256 for ECDH-ES+A256KW.
class TeeKeyPair {
 public:
  static TeeKeyPair generate();
  // A private JWK as libjose holds it (used by tests that pin a key).
  explicit TeeKeyPair(nlohmann::json private_jwk);

  TeePubKey public_key() const;
  // Decrypts a flattened JWE (as the broker's resource response) addressed to
  // this key; throws KbsProtocolError when it is malformed or does not decrypt.
  std::vector<uint8_t> decrypt(std::string_view jwe_json) const;
  const nlohmann::json& private_jwk() const { return private_jwk_; }

 private:
  nlohmann::json private_jwk_;
};

// Encrypts plaintext to the TEE's key: the flattened JWE serialisation.
std::string encrypt_to(const TeePubKey& key, std::span<const uint8_t> plaintext);

// The attestation token: a JWT signed ES256 with the broker's P-256 key.
std::string sign_token(EVP_PKEY* key, const nlohmann::json& claims);
// Checks the signature and the exp claim against now; returns the claims.
// Throws KbsProtocolError with the reason otherwise.
nlohmann::json verify_token(EVP_PKEY* key, std::string_view token, std::time_t now);

}  // namespace shelter::attest::kbs
