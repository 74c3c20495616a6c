#pragma once
// The key broker's protocol logic, independent of HTTP: sessions with
// single-use, expiring nonces; appraisal of evidence; per-resource policy;
// resources answered as JWEs; admin requests authenticated by a JWT signed
// with the admin key the broker was configured with. The HTTP server and
// in-process tests both drive it through handle().
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attest/crypto.h"
#include "attest/kbs/appraisal.h"
#include "attest/kbs/client.h"
#include "attest/kbs/protocol.h"
#include "runtime/kbs/store.h"

namespace shelter::runtime::kbs {

struct BrokerConfig {
  std::filesystem::path state_dir;
  // ES256 (P-256) public key of the administrator; without it admin requests are refused.
  attest::EvpPkeyPtr admin_key;
  // ARKs of simulated TEEs whose reports may be accepted where a resource's
  // policy sets allow_simulated.
  std::vector<attest::snp::PinnedRoot> simulated_roots;
  std::time_t session_ttl = 300;  // from /auth to the last resource request
  std::time_t token_ttl = 300;
  size_t max_sessions = 10000;
  std::function<std::time_t()> clock = [] { return std::time(nullptr); };
};

class Broker {
 public:
  explicit Broker(BrokerConfig config);

  // One request (path "/kbs/v0/...", with its Cookie and Authorization
  // headers). Never throws for bad input: refusals are RFC 7807 problems
  // with their HTTP status.
  attest::kbs::HttpResponse handle(const attest::kbs::HttpRequest& request);

  const ResourceStore& store() const { return store_; }

 private:
  struct Session {
    attest::kbs::Tee tee;
    std::string nonce;
    std::time_t expires;
    bool nonce_used = false;
    bool attested = false;
    nlohmann::json evidence{};
    std::optional<attest::kbs::TeePubKey> key{};
    std::vector<uint8_t> report_data{};
  };

  attest::kbs::HttpResponse auth(const std::string& body);
  attest::kbs::HttpResponse attest(const std::string& cookie, const std::string& body);
  attest::kbs::HttpResponse resource(const std::string& cookie, const std::string& id);
  attest::kbs::HttpResponse admin(const std::string& authorization, const std::string& kind, const std::string& id,
                                  const std::string& body);
  // The session named by the cookie, unexpired, copied out under the lock.
  std::optional<Session> find_session(const std::string& cookie, attest::kbs::HttpResponse& refusal);

  BrokerConfig config_;
  ResourceStore store_;
  attest::EvpPkeyPtr token_key_;
  attest::kbs::Appraiser appraiser_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

// Problem answer helpers shared with the HTTP layer.
attest::kbs::HttpResponse problem_response(int status, const std::string& type, const std::string& detail);

}  // namespace shelter::runtime::kbs
