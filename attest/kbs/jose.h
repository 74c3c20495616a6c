#pragma once
// JOSE pieces of the protocol: the TEE's ephemeral key pair, the resource
// answered as a flattened JWE to that key, and the attestation token.
// Everything the guest needs (key generation, JWE decryption, token checks)
// is OpenSSL only, so that the static guest-init can link it; encrypt_to,
// which only brokers need, is libjose (jwe_encrypt.cpp, shelter_attest_kbs).
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

  TeePubKey public_key() const;
  // Decrypts a flattened JWE (as the broker's resource response) addressed to
  // this key: ECDH-ES+A256KW (Concat KDF, AES key wrap) and A256GCM, the epk
  // taken from the protected, shared or per-recipient header. Throws
  // KbsProtocolError when it is malformed or does not decrypt.
  std::vector<uint8_t> decrypt(std::string_view jwe_json) const;
  // The key as a private JWK (for tools such as `jose jwe dec`).
  nlohmann::json private_jwk() const;

 private:
  explicit TeeKeyPair(EvpPkeyPtr key) : key_(std::move(key)) {}
  EvpPkeyPtr key_;
};

// Encrypts plaintext to the TEE's key: the flattened JWE serialisation.
std::string encrypt_to(const TeePubKey& key, std::span<const uint8_t> plaintext);

// The attestation token: a JWT signed ES256 with the broker's P-256 key, whose
// public half travels in the header's "jwk" (RFC 7515, 4.1.3) so that a guest
// holding only its fingerprint can check it.
std::string sign_token(EVP_PKEY* key, const nlohmann::json& claims);
// The key named by a token's "jwk" header, unchecked; throws KbsProtocolError.
EvpPkeyPtr token_signer_key(std::string_view token);
// SHA-256 of the DER SubjectPublicKeyInfo: what pins a broker.
Sha256Digest public_key_fingerprint(EVP_PKEY* key);
// Checks the signature and the exp claim against now; returns the claims.
// Throws KbsProtocolError with the reason otherwise.
nlohmann::json verify_token(EVP_PKEY* key, std::string_view token, std::time_t now);

}  // namespace shelter::attest::kbs
