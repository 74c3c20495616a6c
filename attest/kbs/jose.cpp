#include "attest/kbs/jose.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <memory>

#include "attest/kbs/base64.h"
#include "common/json_member.h"

namespace shelter::attest::kbs {
namespace {

using Json = nlohmann::json;

constexpr size_t kCoordinateSize = 32;  // P-256
constexpr size_t kCekSize = 32;         // A256GCM
constexpr size_t kGcmIvSize = 12;
constexpr size_t kGcmTagSize = 16;
constexpr std::string_view kKeyWrapAlg = "ECDH-ES+A256KW";

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// Key material that is wiped when it goes out of scope.
class SecretBytes {
 public:
  explicit SecretBytes(size_t size) : bytes_(size) {}
  ~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  uint8_t* data() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  void resize(size_t size) { bytes_.resize(size); }

 private:
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> bn_param(EVP_PKEY* key, const char* name, size_t size) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw KbsProtocolError("cannot read the TEE key");
  std::vector<uint8_t> out(size);
  int written = BN_bn2binpad(bn, out.data(), static_cast<int>(size));
  BN_clear_free(bn);
  if (written != static_cast<int>(size)) throw KbsProtocolError("cannot read the TEE key");
  return out;
}

std::vector<uint8_t> b64_member(const Json& object, const char* name, bool required) {
  if (!object.contains(name)) {
    if (required) throw KbsProtocolError(std::string("JWE: no ") + name);
    return {};
  }
  if (!object[name].is_string()) throw KbsProtocolError(std::string("JWE: ") + name + " is not a string");
  auto bytes = base64url_decode(object[name].get<std::string>());
  if (!bytes) throw KbsProtocolError(std::string("JWE: ") + name + " is not base64url");
  return *bytes;
}

// The JOSE header: protected, shared unprotected and per-recipient members,
// which must not repeat a name (RFC 7516, 7.2.1).
Json joint_header(const Json& jwe, const std::string& protected_text) {
  Json header = Json::object();
  if (!protected_text.empty()) {
    auto decoded = base64url_decode(protected_text);
    if (!decoded) throw KbsProtocolError("JWE: protected header is not base64url");
    header = Json::parse(decoded->begin(), decoded->end(), nullptr, false);
    if (!header.is_object()) throw KbsProtocolError("JWE: protected header is not a JSON object");
  }
  for (const char* part : {"unprotected", "header"}) {
    if (!jwe.contains(part)) continue;
    if (!jwe[part].is_object()) throw KbsProtocolError(std::string("JWE: ") + part + " is not an object");
    for (const auto& [name, value] : jwe[part].items()) {
      if (header.contains(name)) throw KbsProtocolError("JWE: header member " + name + " given twice");
      header[name] = value;
    }
  }
  return header;
}

void put_be32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void put_length_prefixed(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  put_be32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// The Concat KDF of RFC 7518 4.6.2 for a 256-bit key: one SHA-256 round.
void concat_kdf(SecretBytes& z, std::span<const uint8_t> apu, std::span<const uint8_t> apv, SecretBytes& out) {
  std::vector<uint8_t> input;
  put_be32(input, 1);
  input.insert(input.end(), z.data(), z.data() + z.size());
  put_length_prefixed(input, std::span(reinterpret_cast<const uint8_t*>(kKeyWrapAlg.data()), kKeyWrapAlg.size()));
  put_length_prefixed(input, apu);
  put_length_prefixed(input, apv);
  put_be32(input, kCekSize * 8);
  Sha256Digest digest = sha256(input);
  OPENSSL_cleanse(input.data(), input.size());
  std::copy(digest.begin(), digest.end(), out.data());
  OPENSSL_cleanse(digest.data(), digest.size());
}

void ecdh(EVP_PKEY* own, EVP_PKEY* peer, SecretBytes& z) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  size_t size = z.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), z.data(), &size) != 1 || size != z.size())
    throw KbsProtocolError("JWE: key agreement with epk failed");
}

void aes_key_unwrap(SecretBytes& kek, std::span<const uint8_t> wrapped, SecretBytes& cek) {
  if (wrapped.size() != cek.size() + 8) throw KbsProtocolError("JWE: encrypted_key has the wrong size");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int length = 0, final_length = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_wrap(), nullptr, kek.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), cek.data(), &length, wrapped.data(), static_cast<int>(wrapped.size())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), cek.data() + length, &final_length) != 1 ||
      static_cast<size_t>(length + final_length) != cek.size())
    throw KbsProtocolError("JWE: the content key does not unwrap with the TEE key");
}

std::vector<uint8_t> aes_gcm_decrypt(SecretBytes& cek, std::span<const uint8_t> iv, std::string_view aad,
                                     std::span<const uint8_t> ciphertext, std::span<const uint8_t> tag) {
  if (iv.size() != kGcmIvSize || tag.size() != kGcmTagSize) throw KbsProtocolError("JWE: bad iv or tag size");
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::vector<uint8_t> plaintext(ciphertext.size());
  int length = 0, final_length = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), iv.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &length, reinterpret_cast<const uint8_t*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plaintext.data(), &length, ciphertext.data(), static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                          const_cast<uint8_t*>(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + length, &final_length) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    throw KbsProtocolError("JWE: the content does not decrypt (wrong key or tampered)");
  }
  return plaintext;
}

EvpPkeyPtr p256_from_jwk(const Json& jwk, const char* what) {
  if (!jwk.is_object() || json_string_member(jwk, "kty") != "EC" || json_string_member(jwk, "crv") != "P-256")
    throw KbsProtocolError(std::string(what) + " is not an EC P-256 JWK");
  std::vector<uint8_t> xy = b64_member(jwk, "x", true);
  std::vector<uint8_t> y = b64_member(jwk, "y", true);
  if (xy.size() != kCoordinateSize || y.size() != kCoordinateSize)
    throw KbsProtocolError(std::string(what) + " has bad coordinates");
  xy.insert(xy.end(), y.begin(), y.end());
  EvpPkeyPtr key = ec_public_key_from_xy("P-256", xy);
  if (!key) throw KbsProtocolError(std::string(what) + " is not a point on P-256");
  return key;
}

Json public_jwk(EVP_PKEY* key) {
  return Json{{"kty", "EC"},
              {"crv", "P-256"},
              {"x", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, kCoordinateSize))},
              {"y", base64url_encode(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, kCoordinateSize))}};
}

}  // namespace

TeeKeyPair TeeKeyPair::generate() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw KbsProtocolError("TEE key generation failed");
  return TeeKeyPair(std::move(key));
}

TeePubKey TeeKeyPair::public_key() const {
  Json jwk = public_jwk(key_.get());
  jwk["alg"] = kKeyWrapAlg;
  return parse_tee_pubkey(jwk);
}

Json TeeKeyPair::private_jwk() const {
  Json jwk = public_key().jwk;
  std::vector<uint8_t> d = bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, kCoordinateSize);
  jwk["d"] = base64url_encode(d);
  OPENSSL_cleanse(d.data(), d.size());
  return jwk;
}

std::vector<uint8_t> TeeKeyPair::decrypt(std::string_view jwe_json) const {
  if (jwe_json.size() > kMaxMessageSize) throw KbsProtocolError("resource response is too large");
  Json jwe = Json::parse(jwe_json, nullptr, false);
  if (!jwe.is_object()) throw KbsProtocolError("resource response is not a JWE JSON object");
  std::string protected_text;
  if (jwe.contains("protected")) {
    if (!jwe["protected"].is_string()) throw KbsProtocolError("JWE: protected is not a string");
    protected_text = jwe["protected"].get<std::string>();
  }
  Json header = joint_header(jwe, protected_text);
  if (json_string_member(header, "alg") != kKeyWrapAlg) throw KbsProtocolError("JWE: alg is not ECDH-ES+A256KW");
  if (json_string_member(header, "enc") != "A256GCM") throw KbsProtocolError("JWE: enc is not A256GCM");
  if (header.contains("zip")) throw KbsProtocolError("JWE: compressed content is not accepted");
  if (!header.contains("epk")) throw KbsProtocolError("JWE: no epk");
  EvpPkeyPtr epk = p256_from_jwk(header["epk"], "JWE epk");
  std::vector<uint8_t> apu = header.contains("apu") ? b64_member(header, "apu", true) : std::vector<uint8_t>{};
  std::vector<uint8_t> apv = header.contains("apv") ? b64_member(header, "apv", true) : std::vector<uint8_t>{};

  SecretBytes z(kCoordinateSize), kek(kCekSize), cek(kCekSize);
  ecdh(key_.get(), epk.get(), z);
  concat_kdf(z, apu, apv, kek);
  aes_key_unwrap(kek, b64_member(jwe, "encrypted_key", true), cek);
  std::string aad = protected_text;
  if (jwe.contains("aad")) {
    if (!jwe["aad"].is_string()) throw KbsProtocolError("JWE: aad is not a string");
    aad += "." + jwe["aad"].get<std::string>();
  }
  return aes_gcm_decrypt(cek, b64_member(jwe, "iv", true), aad, b64_member(jwe, "ciphertext", true),
                         b64_member(jwe, "tag", true));
}

std::string sign_token(EVP_PKEY* key, const Json& claims) {
  Json header{{"alg", "ES256"}, {"typ", "JWT"}, {"jwk", public_jwk(key)}};
  std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  auto signature = sign_ecdsa(key, "SHA256",
                              std::span(reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size()), 32);
  return signing_input + "." + base64url_encode(signature);
}

namespace {

Json token_header(std::string_view token) {
  if (token.size() > kMaxMessageSize) throw KbsProtocolError("token is too large");
  size_t first = token.find('.');
  if (first == std::string_view::npos) throw KbsProtocolError("token is not a JWT");
  auto header = base64url_decode(token.substr(0, first));
  if (!header) throw KbsProtocolError("token is not a JWT");
  Json header_json = Json::parse(header->begin(), header->end(), nullptr, false);
  if (!header_json.is_object() || json_string_member(header_json, "alg") != "ES256") {
    throw KbsProtocolError("token is not signed ES256");
  }
  return header_json;
}

}  // namespace

EvpPkeyPtr token_signer_key(std::string_view token) {
  Json header = token_header(token);
  if (!header.contains("jwk")) throw KbsProtocolError("token names no signing key (jwk)");
  return p256_from_jwk(header["jwk"], "token jwk");
}

Sha256Digest public_key_fingerprint(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(key, &der);
  if (size <= 0) throw KbsProtocolError("cannot encode a public key");
  Sha256Digest digest = sha256(std::span(der, static_cast<size_t>(size)));
  OPENSSL_free(der);
  return digest;
}

Json verify_token(EVP_PKEY* key, std::string_view token, std::time_t now) {
  token_header(token);
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) throw KbsProtocolError("token is not a JWT");
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!payload || !signature || signature->size() != 64) throw KbsProtocolError("token is not a JWT");
  auto signed_part = token.substr(0, second);
  if (!verify_ecdsa(key, "SHA256", std::span(reinterpret_cast<const uint8_t*>(signed_part.data()), signed_part.size()),
                    std::span(signature->data(), 32), std::span(signature->data() + 32, 32))) {
    throw KbsProtocolError("token signature does not verify");
  }
  Json claims = Json::parse(payload->begin(), payload->end(), nullptr, false);
  if (!claims.is_object() || !claims.contains("exp") || !claims["exp"].is_number_integer()) {
    throw KbsProtocolError("token has no exp claim");
  }
  if (claims["exp"].get<std::int64_t>() <= now) throw KbsProtocolError("token has expired");
  return claims;
}

}  // namespace shelter::attest::kbs
