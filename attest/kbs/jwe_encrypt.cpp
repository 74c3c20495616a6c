// encrypt_to on libjose: brokers only (it supports RSA TEE keys as well);
// the guest side of jose.h is OpenSSL only.
#include <jansson.h>
// libjose's headers declare C functions without extern "C".
extern "C" {
#include <jose/jose.h>
}

#include <cstdlib>
#include <memory>

#include "attest/kbs/jose.h"

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

std::string encrypt_to(const TeePubKey& key, std::span<const uint8_t> plaintext) {
  const std::string failed = "encryption to the TEE key failed (is tee-pubkey a valid public key?)";
  CfgPtr cfg(jose_cfg());
  Json protected_header{{"alg", key.jwk.at("alg")}, {"enc", std::string(kContentEncryption)}};
  JanssonPtr jwe(json_object());
  JanssonPtr cek(json_object());
  JanssonPtr jwk = to_jansson(key.jwk);
  if (!cfg || !jwe || !cek ||
      json_object_set_new(jwe.get(), "protected", to_jansson(protected_header).release()) != 0 ||
      !jose_jwe_enc_jwk(cfg.get(), jwe.get(), nullptr, jwk.get(), cek.get())) {
    throw KbsProtocolError(failed);
  }
  // Wrapping the CEK left what the recipient needs (for ECDH-ES, the epk) in
  // the per-recipient header. Trustee's guest-components read it from the
  // protected header only, and take as AAD the protected header serialised
  // again as compact JSON with sorted keys; so it goes there before the
  // content is encrypted, and libjose serialises it that way (tested).
  if (json_t* header = json_object_get(jwe.get(), "header")) {
    Json recipient_header = from_jansson(header);
    for (const auto& [name, value] : recipient_header.items()) protected_header[name] = value;
    json_object_del(jwe.get(), "header");
  }
  if (json_object_set_new(jwe.get(), "protected", to_jansson(protected_header).release()) != 0 ||
      !jose_jwe_enc_cek(cfg.get(), jwe.get(), cek.get(), plaintext.data(), plaintext.size())) {
    throw KbsProtocolError(failed);
  }
  return from_jansson(jwe.get()).dump();
}

}  // namespace shelter::attest::kbs
