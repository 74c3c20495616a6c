#include "attest/kbs/client.h"

namespace shelter::attest::kbs {
namespace {

std::string session_cookie(const std::string& set_cookie) {
  auto end = set_cookie.find(';');
  std::string pair = set_cookie.substr(0, end);
  return pair.starts_with("kbs-session-id=") ? pair : std::string();
}

}  // namespace

KbsRefused::KbsRefused(Problem problem)
    : Error("key broker refused (" + problem.type + ", HTTP " + std::to_string(problem.status) + "): " + problem.detail),
      problem_(std::move(problem)) {}

RcarClient::RcarClient(Transport& transport, EvidenceProvider& provider) : transport_(transport), provider_(provider) {}

HttpResponse RcarClient::exchange(const std::string& method, const std::string& path, const std::string& body) {
  HttpResponse response = transport_.send({method, path, body, cookie_});
  if (response.body.size() > kMaxMessageSize) {
    throw KbsRefused(Problem{response.status, "ResponseTooLarge", "the broker's answer exceeds the size limit"});
  }
  if (response.status != 200) throw KbsRefused(parse_problem(response.status, response.body));
  return response;
}

std::string RcarClient::attest() {
  cookie_.clear();
  Request request;
  request.tee = provider_.tee();
  HttpResponse auth = exchange("POST", "/kbs/v0/auth", serialize(request));
  cookie_ = session_cookie(auth.set_cookie);
  if (cookie_.empty()) throw KbsRefused(Problem{auth.status, "InvalidCookie", "the broker set no kbs-session-id cookie"});
  Challenge challenge = parse_challenge(auth.body);

  key_ = std::make_unique<TeeKeyPair>(TeeKeyPair::generate());
  TeePubKey public_key = key_->public_key();
  auto report_data = expected_report_data(challenge.nonce, public_key, challenge.hash_algorithm);
  Attestation attestation{public_key, provider_.evidence(report_data)};
  HttpResponse attested = exchange("POST", "/kbs/v0/attest", serialize(attestation));
  auto body = nlohmann::json::parse(attested.body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    throw KbsRefused(Problem{attested.status, "InvalidResponse", "the attest answer holds no token"});
  }
  std::string token = body["token"].get<std::string>();
  if (token_check_) token_check_(token);
  token_ = std::move(token);
  return token_;
}

// The transport resends a request whose answer it lost; when that was an
// /attest the broker had already served, the resend meets a spent nonce
// (seen with 200 sessions at once on a loaded machine). One more handshake,
// with a fresh nonce, answers that; the broker still refuses any replay.
void RcarClient::attest_with_fresh_nonce_after_lost_answer() {
  try {
    attest();
  } catch (const KbsRefused& refused) {
    if (refused.problem().type != "NonceReused") throw;
    attest();
  }
}

std::vector<uint8_t> RcarClient::get_resource(const ResourceId& id) {
  if (!key_) attest_with_fresh_nonce_after_lost_answer();
  const std::string path = "/kbs/v0/resource/" + id.path();
  HttpResponse response = transport_.send({"GET", path, "", cookie_});
  if (response.status == 401) {
    // The session expired or the broker restarted: attest once more.
    attest();
    response = transport_.send({"GET", path, "", cookie_});
  }
  if (response.status != 200) throw KbsRefused(parse_problem(response.status, response.body));
  return key_->decrypt(response.body);
}

}  // namespace shelter::attest::kbs
