#include "attest/kbs/protocol.h"

#include <gtest/gtest.h>

#include "attest/kbs/base64.h"
#include "attest/kbs/jose.h"

namespace shelter::attest::kbs {
namespace {

TEST(KbsBase64, RoundTripsAndRejectsNonCanonicalInput) {
  std::vector<uint8_t> bytes = {0xfb, 0xff, 0x00, 0x10, 0x7e};
  EXPECT_EQ(base64_encode(bytes), "+/8AEH4=");
  EXPECT_EQ(base64url_encode(bytes), "-_8AEH4");
  EXPECT_EQ(base64url_decode("-_8AEH4"), bytes);
  EXPECT_EQ(base64_decode("+/8AEH4="), bytes);
  EXPECT_FALSE(base64url_decode("-_8AEH5"));  // non-zero trailing bits
  EXPECT_FALSE(base64url_decode("-_8AEH4="));  // padding in base64url
  EXPECT_FALSE(base64_decode("+/8AEH4"));     // missing padding
  EXPECT_FALSE(base64url_decode("a"));
  EXPECT_FALSE(base64url_decode("ab*c"));
}

TEST(KbsProtocol, RequestFollowsKbsTypes) {
  Request request = parse_request(R"({"version":"0.1.0","tee":"snp","extra-params":""})");
  EXPECT_EQ(request.tee, Tee::kSnp);
  EXPECT_EQ(request.version, "0.1.0");
  Request again = parse_request(serialize(request));
  EXPECT_EQ(again.tee, Tee::kSnp);
  EXPECT_EQ(parse_request(R"({"version":"0.4.0","tee":"tdx"})").tee, Tee::kTdx);
}

TEST(KbsProtocol, MalformedRequestsNameTheProblem) {
  auto message = [](std::string_view text) {
    try {
      parse_request(text);
    } catch (const KbsProtocolError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"tee":"snp"})").find("missing 'version'"), std::string::npos);
  EXPECT_NE(message(R"({"version":"0.1.0","tee":"sgx"})").find("unsupported tee"), std::string::npos);
  EXPECT_NE(message(R"({"version":"1.0.0","tee":"snp"})").find("not supported"), std::string::npos);
  EXPECT_NE(message(R"({"version":"0.1","tee":"snp"})").find("not supported"), std::string::npos);
  EXPECT_NE(message(R"({"version":"0.1.0","tee":"snp","x":1})").find("unknown key 'x'"), std::string::npos);
  EXPECT_NE(message(R"({"version":0,"tee":"snp"})").find("must be a string"), std::string::npos);
  std::string huge = R"({"version":"0.1.0","tee":"snp","extra-params":")" + std::string(kMaxMessageSize, 'a') + "\"}";
  EXPECT_NE(message(huge).find("larger than"), std::string::npos);
}

TEST(KbsProtocol, ChallengeCarriesTheHashAlgorithm) {
  Challenge challenge{"bm9uY2U=", HashAlgorithm::kSha256};
  Challenge parsed = parse_challenge(serialize(challenge));
  EXPECT_EQ(parsed.nonce, "bm9uY2U=");
  EXPECT_EQ(parsed.hash_algorithm, HashAlgorithm::kSha256);
  EXPECT_EQ(parse_challenge(R"({"nonce":"abc","extra-params":""})").hash_algorithm, HashAlgorithm::kSha384);
  EXPECT_THROW(parse_challenge(R"({"nonce":""})"), KbsProtocolError);
  EXPECT_THROW(parse_challenge(R"({"nonce":"a","extra-params":{"selected-hash-algorithm":"md5"}})"),
               KbsProtocolError);
}

TEST(KbsProtocol, TeePubKeyAcceptsOnlyPublicRsaOrEcKeys) {
  TeeKeyPair pair = TeeKeyPair::generate();
  nlohmann::json jwk = pair.public_key().jwk;
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["alg"], "ECDH-ES+A256KW");
  EXPECT_FALSE(jwk.contains("d"));

  nlohmann::json with_private = pair.private_jwk();
  EXPECT_THROW(parse_tee_pubkey(with_private), KbsProtocolError);  // "d" is an unknown key here
  nlohmann::json bad = jwk;
  bad["x"] = "not base64!";
  EXPECT_THROW(parse_tee_pubkey(bad), KbsProtocolError);
  bad = jwk;
  bad["alg"] = "dir";
  EXPECT_THROW(parse_tee_pubkey(bad), KbsProtocolError);
  bad = jwk;
  bad["kty"] = "oct";
  EXPECT_THROW(parse_tee_pubkey(bad), KbsProtocolError);
  EXPECT_NO_THROW(parse_tee_pubkey(nlohmann::json{{"kty", "RSA"}, {"alg", "RSA-OAEP"}, {"n", "AQAB"}, {"e", "AQAB"}}));
}

TEST(KbsProtocol, RuntimeDataIsSortedCompactJsonAsGuestComponentsWritesIt) {
  TeePubKey key{nlohmann::json{{"kty", "EC"}, {"crv", "P-256"}, {"alg", "ECDH-ES+A256KW"}, {"x", "eA"}, {"y", "eQ"}}};
  EXPECT_EQ(runtime_data_json("n0", key),
            R"({"nonce":"n0","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"eA","y":"eQ"}})");
  auto report_data = expected_report_data("n0", key, HashAlgorithm::kSha384);
  ASSERT_EQ(report_data.size(), 64u);
  auto digest = runtime_data_digest("n0", key, HashAlgorithm::kSha384);
  ASSERT_EQ(digest.size(), 48u);
  EXPECT_TRUE(std::equal(digest.begin(), digest.end(), report_data.begin()));
  EXPECT_TRUE(std::all_of(report_data.begin() + 48, report_data.end(), [](uint8_t b) { return b == 0; }));
  EXPECT_NE(runtime_data_digest("n1", key, HashAlgorithm::kSha384), digest);
  EXPECT_EQ(runtime_data_digest("n0", key, HashAlgorithm::kSha256).size(), 32u);
  EXPECT_EQ(runtime_data_digest("n0", key, HashAlgorithm::kSha512).size(), 64u);
}

TEST(KbsProtocol, AttestationNeedsKeyAndEvidence) {
  TeeKeyPair pair = TeeKeyPair::generate();
  Attestation attestation{pair.public_key(), nlohmann::json{{"attestation_report", "x"}}};
  Attestation parsed = parse_attestation(serialize(attestation));
  EXPECT_EQ(parsed.tee_pubkey.jwk, attestation.tee_pubkey.jwk);
  EXPECT_EQ(parsed.tee_evidence, attestation.tee_evidence);
  EXPECT_THROW(parse_attestation(R"({"tee-evidence":{}})"), KbsProtocolError);
  EXPECT_THROW(parse_attestation(R"({"tee-pubkey":7,"tee-evidence":{}})"), KbsProtocolError);
}

TEST(KbsProtocol, SnpEvidenceIsBoundedAndStrict) {
  EXPECT_THROW(parse_snp_evidence(nlohmann::json::array()), KbsProtocolError);
  EXPECT_THROW(parse_snp_evidence(nlohmann::json{{"attestation_report", "AAAA"}, {"cert_chain", {"AAAA"}}}),
               KbsProtocolError);
  std::string report = base64_encode(std::vector<uint8_t>(0x4A0, 0));
  EXPECT_THROW(parse_snp_evidence(nlohmann::json{{"attestation_report", report}, {"cert_chain", nlohmann::json::array()}}),
               KbsProtocolError);
  EXPECT_THROW(parse_snp_evidence(nlohmann::json{{"attestation_report", report}, {"cert_chain", {"AAAA"}}}),
               EvidenceError);
}

TEST(KbsProtocol, ResourceIdsCannotEscapeTheirFolder) {
  ResourceId id = parse_resource_id("default/key/model-1");
  EXPECT_EQ(id.repository, "default");
  EXPECT_EQ(id.type, "key");
  EXPECT_EQ(id.tag, "model-1");
  EXPECT_EQ(id.path(), "default/key/model-1");
  for (const char* bad : {"", "a/b", "a/b/c/d", "../b/c", "a/./c", "a//c", "a/b/c d", "a/b/", "/a/b"}) {
    EXPECT_THROW(parse_resource_id(bad), KbsProtocolError) << bad;
  }
  EXPECT_THROW(parse_resource_id("a/b/" + std::string(129, 'c')), KbsProtocolError);
}

TEST(KbsProtocol, ProblemsAreRfc7807) {
  Problem problem{401, "AttestationFailed", "measurement mismatch"};
  auto json = nlohmann::json::parse(serialize(problem));
  EXPECT_EQ(json["type"], std::string(kProblemTypePrefix) + "AttestationFailed");
  EXPECT_EQ(json["status"], 401);
  EXPECT_EQ(json["detail"], "measurement mismatch");
  Problem parsed = parse_problem(401, serialize(problem));
  EXPECT_EQ(parsed.type, "AttestationFailed");
  EXPECT_EQ(parsed.detail, "measurement mismatch");
  Problem garbage = parse_problem(502, "<html>bad gateway</html>");
  EXPECT_EQ(garbage.type, "Unknown");
  EXPECT_NE(garbage.detail.find("502"), std::string::npos);
}

}  // namespace
}  // namespace shelter::attest::kbs
