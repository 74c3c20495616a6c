#include "attest/kbs/jose.h"

#include <jansson.h>
// libjose's headers declare C functions without extern "C".
extern "C" {
#include <jose/jose.h>
}

#include <cstdlib>
#include <memory>

#include "attest/kbs/base64.h"

namespace shelter::attest::kbs {
namespace {

using Json = nlohmann::json;

struct JsonDecref {
  void operator()(json_t* value) const { json_decref(value); }
};
using JanssonPtr = std::unique_ptr<json_t, JsonDecref>;
struct CfgDecref {
  void operator()(jose_cfg_t* cfg) const { jose_cfg_decref(cfg); }
};
using CfgPtr = std::unique_ptr<jose_cfg_t, CfgDecref>;
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

JanssonPtr to_jansson(const Json& value) {
  std::string text = value.dump();
  json_error_t error;
  JanssonPtr out(json_loadb(text.data(), text.size(), 0, &error));
  if (!out) throw KbsProtocolError(std::string("JSON not accepted by libjose: ") + error.text);
  return out;
}

Json from_jansson(const json_t* value) {
  std::unique_ptr<char, FreeDeleter> text(json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS));
  if (!text) throw KbsProtocolError("libjose produced an unserialisable object");
  return Json::parse(text.get());
}

}  // namespace

TeeKeyPair TeeKeyPair::generate() {
  CfgPtr cfg(jose_cfg());
  // libjose refuses to generate a key whose template names both crv and alg.
  JanssonPtr jwk(json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-256"));
  if (!cfg || !jwk || !jose_jwk_gen(cfg.get(), jwk.get())) throw KbsProtocolError("TEE key generation failed");
  Json private_jwk = from_jansson(jwk.get());
  private_jwk["alg"] = "ECDH-ES+A256KW";
  return TeeKeyPair(std::move(private_jwk));
}

TeeKeyPair::TeeKeyPair(Json private_jwk) : private_jwk_(std::move(private_jwk)) {}

TeePubKey TeeKeyPair::public_key() const {
  Json jwk = Json::object();
  for (const char* member : {"kty", "crv", "alg", "x", "y"}) jwk[member] = private_jwk_.at(member);
  return parse_tee_pubkey(jwk);
}

std::vector<uint8_t> TeeKeyPair::decrypt(std::string_view jwe_json) const {
  if (jwe_json.size() > kMaxMessageSize) throw KbsProtocolError("resource response is too large");
  json_error_t error;
  JanssonPtr jwe(json_loadb(jwe_json.data(), jwe_json.size(), 0, &error));
  if (!jwe || !json_is_object(jwe.get())) throw KbsProtocolError("resource response is not a JWE JSON object");
  CfgPtr cfg(jose_cfg());
  JanssonPtr jwk = to_jansson(private_jwk_);
  size_t size = 0;
  std::unique_ptr<uint8_t, FreeDeleter> plaintext(
      static_cast<uint8_t*>(jose_jwe_dec(cfg.get(), jwe.get(), nullptr, jwk.get(), &size)));
  if (!plaintext) throw KbsProtocolError("resource response does not decrypt with the TEE key");
  return {plaintext.get(), plaintext.get() + size};
}

std::string encrypt_to(const TeePubKey& key, std::span<const uint8_t> plaintext) {
  CfgPtr cfg(jose_cfg());
  JanssonPtr jwe(json_pack("{s:{s:s,s:s}}", "protected", "alg", key.jwk.at("alg").get<std::string>().c_str(), "enc",
                           std::string(kContentEncryption).c_str()));
  JanssonPtr jwk = to_jansson(key.jwk);
  if (!cfg || !jwe || !jose_jwe_enc(cfg.get(), jwe.get(), nullptr, jwk.get(), plaintext.data(), plaintext.size())) {
    throw KbsProtocolError("encryption to the TEE key failed (is tee-pubkey a valid public key?)");
  }
  return from_jansson(jwe.get()).dump();
}

std::string sign_token(EVP_PKEY* key, const Json& claims) {
  std::string signing_input = base64url_encode(Json{{"alg", "ES256"}, {"typ", "JWT"}}.dump()) + "." +
                              base64url_encode(claims.dump());
  auto signature = sign_ecdsa(key, "SHA256",
                              std::span(reinterpret_cast<const uint8_t*>(signing_input.data()), signing_input.size()), 32);
  return signing_input + "." + base64url_encode(signature);
}

Json verify_token(EVP_PKEY* key, std::string_view token, std::time_t now) {
  if (token.size() > kMaxMessageSize) throw KbsProtocolError("token is too large");
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) throw KbsProtocolError("token is not a JWT");
  auto header = base64url_decode(token.substr(0, first));
  auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(token.substr(second + 1));
  if (!header || !payload || !signature || signature->size() != 64) throw KbsProtocolError("token is not a JWT");
  Json header_json = Json::parse(header->begin(), header->end(), nullptr, false);
  if (!header_json.is_object() || header_json.value("alg", "") != "ES256") {
    throw KbsProtocolError("token is not signed ES256");
  }
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
