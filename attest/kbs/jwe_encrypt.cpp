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
  CfgPtr cfg(jose_cfg());
  JanssonPtr jwe(json_pack("{s:{s:s,s:s}}", "protected", "alg", key.jwk.at("alg").get<std::string>().c_str(), "enc",
                           std::string(kContentEncryption).c_str()));
  JanssonPtr jwk = to_jansson(key.jwk);
  if (!cfg || !jwe || !jose_jwe_enc(cfg.get(), jwe.get(), nullptr, jwk.get(), plaintext.data(), plaintext.size())) {
    throw KbsProtocolError("encryption to the TEE key failed (is tee-pubkey a valid public key?)");
  }
  return from_jansson(jwe.get()).dump();
}

}  // namespace shelter::attest::kbs
