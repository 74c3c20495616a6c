#include "runtime/kbs/broker.h"

#include <openssl/rand.h>

#include "attest/kbs/base64.h"
#include "attest/kbs/jose.h"
#include "common/hex.h"

namespace shelter::runtime::kbs {
namespace {

namespace ak = attest::kbs;
using Json = nlohmann::json;

constexpr std::string_view kCookieName = "kbs-session-id";

std::string random_hex(size_t bytes) {
  std::vector<uint8_t> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) throw Error("no randomness for a session");
  return to_hex(buffer);
}

std::string random_nonce() {
  std::vector<uint8_t> buffer(32);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) throw Error("no randomness for a nonce");
  return ak::base64_encode(buffer);
}

std::string cookie_value(const std::string& header) {
  size_t position = 0;
  while (position < header.size()) {
    size_t end = header.find(';', position);
    std::string pair = header.substr(position, end == std::string::npos ? std::string::npos : end - position);
    size_t first = pair.find_first_not_of(' ');
    if (first != std::string::npos) pair.erase(0, first);
    if (pair.starts_with(std::string(kCookieName) + "=")) return pair.substr(kCookieName.size() + 1);
    if (end == std::string::npos) break;
    position = end + 1;
  }
  return {};
}

ak::HttpResponse json_response(std::string body, std::string set_cookie = {}) {
  return ak::HttpResponse{200, std::move(body), std::move(set_cookie)};
}

}  // namespace

ak::HttpResponse problem_response(int status, const std::string& type, const std::string& detail) {
  return ak::HttpResponse{status, ak::serialize(ak::Problem{status, type, detail}), {}};
}

Broker::Broker(BrokerConfig config)
    : config_(std::move(config)),
      store_(config_.state_dir),
      token_key_(store_.token_key()),
      appraiser_(config_.simulated_roots) {}

ak::HttpResponse Broker::handle(const ak::HttpRequest& request) {
  static constexpr std::string_view kPrefix = "/kbs/v0/";
  try {
    if (request.body.size() > ak::kMaxMessageSize) {
      return problem_response(413, "PayloadTooLarge", "request body exceeds " + std::to_string(ak::kMaxMessageSize) + " bytes");
    }
    if (!request.path.starts_with(kPrefix)) return problem_response(404, "NotFound", "unknown endpoint");
    std::string rest = request.path.substr(kPrefix.size());
    if (request.method == "POST" && rest == "auth") return auth(request.body);
    if (request.method == "POST" && rest == "attest") return attest(request.cookie, request.body);
    if (rest.starts_with("resource/")) {
      std::string id = rest.substr(std::string_view("resource/").size());
      if (request.method == "GET") return resource(request.cookie, id);
      if (request.method == "POST") return admin(request.authorization, "resource", id, request.body);
    }
    if (request.method == "POST" && rest.starts_with("resource-policy/")) {
      return admin(request.authorization, "policy", rest.substr(std::string_view("resource-policy/").size()), request.body);
    }
    return problem_response(404, "NotFound", "unknown endpoint " + request.method + " " + request.path.substr(0, 200));
  } catch (const ak::KbsProtocolError& e) {
    return problem_response(400, "InvalidRequest", e.what());
  } catch (const std::exception& e) {
    return problem_response(500, "InternalError", e.what());
  }
}

ak::HttpResponse Broker::auth(const std::string& body) {
  ak::Request request = ak::parse_request(body);
  std::time_t now = config_.clock();
  Session session{request.tee, random_nonce(), now + config_.session_ttl};
  std::string id = random_hex(32);
  {
    std::lock_guard lock(mutex_);
    if (sessions_.size() >= config_.max_sessions) {
      std::erase_if(sessions_, [&](const auto& entry) { return entry.second.expires <= now; });
      if (sessions_.size() >= config_.max_sessions) {
        return problem_response(503, "TooManySessions", "the broker holds too many sessions; retry later");
      }
    }
    sessions_.emplace(id, session);
  }
  ak::Challenge challenge{session.nonce, ak::HashAlgorithm::kSha384};
  return json_response(ak::serialize(challenge), std::string(kCookieName) + "=" + id + "; Path=/kbs; HttpOnly; Max-Age=" +
                                                     std::to_string(config_.session_ttl));
}

std::optional<Broker::Session> Broker::find_session(const std::string& cookie, ak::HttpResponse& refusal) {
  std::string id = cookie_value(cookie);
  std::lock_guard lock(mutex_);
  auto found = id.empty() ? sessions_.end() : sessions_.find(id);
  if (found == sessions_.end()) {
    refusal = problem_response(401, "InvalidCookie", "no session: start with POST /kbs/v0/auth");
    return std::nullopt;
  }
  if (found->second.expires <= config_.clock()) {
    sessions_.erase(found);
    refusal = problem_response(401, "ExpiredCookie", "the session has expired: start again with POST /kbs/v0/auth");
    return std::nullopt;
  }
  return found->second;
}

ak::HttpResponse Broker::attest(const std::string& cookie, const std::string& body) {
  std::string id = cookie_value(cookie);
  Session session;
  {
    std::lock_guard lock(mutex_);
    auto found = id.empty() ? sessions_.end() : sessions_.find(id);
    if (found == sessions_.end()) return problem_response(401, "InvalidCookie", "no session: start with POST /kbs/v0/auth");
    if (found->second.expires <= config_.clock()) {
      sessions_.erase(found);
      return problem_response(401, "ExpiredCookie", "the session has expired: start again with POST /kbs/v0/auth");
    }
    if (found->second.nonce_used) {
      return problem_response(401, "NonceReused", "this session's nonce was already used: start again with POST /kbs/v0/auth");
    }
    // The nonce is spent by the first attempt, whatever its outcome.
    found->second.nonce_used = true;
    session = found->second;
  }
  ak::Attestation attestation = ak::parse_attestation(body);
  auto report_data = ak::expected_report_data(session.nonce, attestation.tee_pubkey, ak::HashAlgorithm::kSha384);
  std::time_t now = config_.clock();
  attest::Verdict verdict =
      appraiser_.appraise(session.tee, attestation.tee_evidence, report_data, ak::authenticity_only_policy(), now);
  if (!verdict.accepted) return problem_response(401, "AttestationFailed", verdict.reason);

  Json claims{{"iss", "shelter-kbs"},
              {"iat", now},
              {"exp", now + config_.token_ttl},
              {"tee", ak::tee_name(session.tee)},
              {"tee-pubkey", attestation.tee_pubkey.jwk},
              {"evidence-claims", verdict.claims}};
  {
    std::lock_guard lock(mutex_);
    auto found = sessions_.find(id);
    if (found == sessions_.end()) return problem_response(401, "ExpiredCookie", "the session ended during attestation");
    found->second.attested = true;
    found->second.evidence = std::move(attestation.tee_evidence);
    found->second.key = attestation.tee_pubkey;
    found->second.report_data = report_data;
  }
  return json_response(Json{{"token", ak::sign_token(token_key_.get(), claims)}}.dump());
}

ak::HttpResponse Broker::resource(const std::string& cookie, const std::string& id_text) {
  ak::HttpResponse refusal;
  auto session = find_session(cookie, refusal);
  if (!session) return refusal;
  if (!session->attested) return problem_response(401, "UnAuthenticated", "the session has not attested yet");
  ak::ResourceId id = ak::parse_resource_id(id_text);
  auto bytes = store_.resource(id);
  if (!bytes) return problem_response(404, "ResourceNotFound", "no resource " + id.path());
  ak::ResourcePolicy policy = store_.policy(id);
  attest::Verdict verdict = appraiser_.appraise(session->tee, session->evidence, session->report_data, policy, config_.clock());
  if (!verdict.accepted) return problem_response(403, "PolicyDeny", "resource " + id.path() + ": " + verdict.reason);
  return json_response(ak::encrypt_to(*session->key, *bytes));
}

ak::HttpResponse Broker::admin(const std::string& authorization, const std::string& kind, const std::string& id_text,
                               const std::string& body) {
  if (!config_.admin_key) return problem_response(401, "AdminAuthFailed", "this broker has no admin key configured");
  if (!authorization.starts_with("Bearer ")) {
    return problem_response(401, "AdminAuthFailed", "admin requests need an Authorization: Bearer token");
  }
  Json claims;
  try {
    claims = ak::verify_token(config_.admin_key.get(), authorization.substr(7), config_.clock());
  } catch (const ak::KbsProtocolError& e) {
    return problem_response(401, "AdminAuthFailed", std::string("admin token refused: ") + e.what());
  }
  ak::ResourceId id = ak::parse_resource_id(id_text);
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  if (kind == "resource") {
    store_.put_resource(id, bytes);
  } else {
    store_.put_policy(id, body);
  }
  return json_response("{}");
}

}  // namespace shelter::runtime::kbs
