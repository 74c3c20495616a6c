#include "attest/kbs/jose.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "attest/kbs/base64.h"
#include "tests/support/run_command.h"

namespace shelter::attest::kbs {
namespace {

std::vector<uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

TEST(KbsJwe, ResourceDecryptsOnlyWithTheTeeKey) {
  TeeKeyPair tee = TeeKeyPair::generate();
  std::string jwe = encrypt_to(tee.public_key(), bytes_of("the model key"));
  auto object = nlohmann::json::parse(jwe);
  for (const char* member : {"protected", "encrypted_key", "iv", "ciphertext", "tag"}) {
    EXPECT_TRUE(object.contains(member)) << member;
  }
  auto header = base64url_decode(object["protected"].get<std::string>());
  ASSERT_TRUE(header);
  auto protected_header = nlohmann::json::parse(header->begin(), header->end());
  EXPECT_EQ(protected_header["alg"], "ECDH-ES+A256KW");
  EXPECT_EQ(protected_header["enc"], "A256GCM");
  EXPECT_EQ(tee.decrypt(jwe), bytes_of("the model key"));

  TeeKeyPair other = TeeKeyPair::generate();
  EXPECT_THROW(other.decrypt(jwe), KbsProtocolError);
  auto tampered = object;
  std::string ciphertext = tampered["ciphertext"];
  ciphertext[0] = ciphertext[0] == 'A' ? 'B' : 'A';
  tampered["ciphertext"] = ciphertext;
  EXPECT_THROW(tee.decrypt(tampered.dump()), KbsProtocolError);
  EXPECT_THROW(tee.decrypt("not json"), KbsProtocolError);
}

// guest-components (kbs_protocol) reads alg, enc and the epk from the
// protected header only, ignores any other header member, and takes as AAD
// base64url of the protected header serialised again (serde_json: compact,
// alg and enc first, the other members sorted): the broker's bytes must be
// exactly that.
TEST(KbsJwe, EpkIsInTheProtectedHeaderAsTrusteeClientsExpect) {
  TeeKeyPair tee = TeeKeyPair::generate();
  auto object = nlohmann::json::parse(encrypt_to(tee.public_key(), bytes_of("the model key")));
  EXPECT_FALSE(object.contains("header"));
  EXPECT_FALSE(object.contains("unprotected"));
  EXPECT_FALSE(object.contains("aad"));
  std::string protected_text = object["protected"];
  auto decoded = base64url_decode(protected_text);
  ASSERT_TRUE(decoded);
  auto header = nlohmann::json::parse(decoded->begin(), decoded->end());
  ASSERT_TRUE(header.contains("epk"));
  EXPECT_EQ(header["epk"]["kty"], "EC");
  EXPECT_EQ(header["epk"]["crv"], "P-256");
  EXPECT_EQ(header["epk"].count("d"), 0u);
  // Sorted keys put alg and enc first here, as serde's struct order does.
  EXPECT_EQ(protected_text, base64url_encode(header.dump()));
  EXPECT_TRUE(header.dump().starts_with(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{)")) << header.dump();
}

// The jose command-line tool decrypts what the broker sends: an independent
// implementation agrees on the JWE.
TEST(KbsJwe, JoseToolDecryptsTheResponse) {
  if (::access("/usr/bin/jose", X_OK) != 0) GTEST_SKIP() << "the jose tool is not installed";
  TeeKeyPair tee = TeeKeyPair::generate();
  std::string jwe = encrypt_to(tee.public_key(), bytes_of("secret for jose"));
  auto dir = std::filesystem::temp_directory_path() / ("kbs-jose-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "key.jwk") << tee.private_jwk().dump();
  std::ofstream(dir / "msg.jwe") << jwe;
  auto result = shelter::testing::run_command("jose jwe dec -i " + (dir / "msg.jwe").string() + " -k " +
                                              (dir / "key.jwk").string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "secret for jose");
}

TEST(KbsJwt, TokenVerifiesOnlyUnchangedAndUnexpired) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  ASSERT_TRUE(key);
  nlohmann::json claims{{"exp", 2000}, {"tee", "snp"}};
  std::string token = sign_token(key.get(), claims);
  EXPECT_EQ(verify_token(key.get(), token, 1000), claims);
  EXPECT_THROW(verify_token(key.get(), token, 2000), KbsProtocolError);
  EvpPkeyPtr other(EVP_EC_gen("P-256"));
  EXPECT_THROW(verify_token(other.get(), token, 1000), KbsProtocolError);
  std::string forged = token;
  size_t dot = forged.find('.');
  forged.replace(dot + 1, forged.find('.', dot + 1) - dot - 1, base64url_encode(R"({"exp":9999,"tee":"snp"})"));
  EXPECT_THROW(verify_token(key.get(), forged, 1000), KbsProtocolError);
  EXPECT_THROW(verify_token(key.get(), "a.b", 1000), KbsProtocolError);
}

// Header members of the wrong JSON type are refusals, not nlohmann
// type_errors escaping the parser (a fuzzer's find: {"alg":1}).
TEST(KbsJwt, HeaderMembersOfTheWrongTypeAreRefused) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  ASSERT_TRUE(key);
  for (const char* header : {R"({"alg":1})", R"({"alg":null})", R"({"alg":["ES256"]})", R"([1])"}) {
    std::string token = base64url_encode(header) + ".AAAA.AAAA";
    EXPECT_THROW(verify_token(key.get(), token, 0), KbsProtocolError) << header;
    EXPECT_THROW(token_signer_key(token), KbsProtocolError) << header;
  }
  std::string jwk_of_numbers = base64url_encode(R"({"alg":"ES256","jwk":{"kty":1,"crv":2}})") + ".AAAA.AAAA";
  EXPECT_THROW(token_signer_key(jwk_of_numbers), KbsProtocolError);
}

TEST(KbsJwe, HeaderMembersOfTheWrongTypeAreRefused) {
  TeeKeyPair tee = TeeKeyPair::generate();
  auto object = nlohmann::json::parse(encrypt_to(tee.public_key(), bytes_of("the model key")));
  for (const char* header : {R"({"alg":1,"enc":"A256GCM"})", R"({"alg":"ECDH-ES+A256KW","enc":7})",
                             R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"kty":false,"crv":"P-256"}})"}) {
    auto tampered = object;
    tampered["protected"] = base64url_encode(header);
    EXPECT_THROW(tee.decrypt(tampered.dump()), KbsProtocolError) << header;
  }
}

}  // namespace
}  // namespace shelter::attest::kbs
