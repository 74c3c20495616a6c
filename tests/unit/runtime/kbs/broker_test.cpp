// The RCAR exchange against the broker, in-process and over loopback HTTP,
// with simulated evidence; each refusal the broker must make.
#include "runtime/kbs/broker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <latch>
#include <thread>

#include "attest/kbs/client.h"
#include "attest/kbs/jose.h"
#include "attest/kbs/sim_evidence.h"
#include "attest/sim/simulated_tee.h"
#include "common/hex.h"
#include "runtime/kbs/server.h"
#include "tests/support/loopback_port.h"
#include "tests/support/test_scratch_dir.h"

namespace shelter::runtime::kbs {
namespace {

namespace fs = std::filesystem;
namespace ak = attest::kbs;

class InProcessTransport : public ak::Transport {
 public:
  explicit InProcessTransport(Broker& broker) : broker_(broker) {}
  ak::HttpResponse send(const ak::HttpRequest& request) override { return broker_.handle(request); }

 private:
  Broker& broker_;
};

std::vector<uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = shelter::testing::fresh_test_dir("kbs-broker");
    tee_.emplace(attest::sim::SimulatedTee::open(dir_ / "sim"));
    measurement_.fill(0x42);
    admin_key_.reset(EVP_EC_gen("P-256"));
    broker_ = make_broker();
    broker_->store().put_resource(model_, bytes_of(kSecret));
    broker_->store().put_policy(model_, policy_json(measurement_, true));
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Broker> make_broker() {
    BrokerConfig config;
    config.state_dir = dir_ / "state";
    config.simulated_roots = {tee_->root()};
    config.clock = [this] { return now_.load(); };
    // The broker only needs the public half.
    config.admin_key.reset(EVP_PKEY_dup(admin_key_.get()));
    return std::make_unique<Broker>(std::move(config));
  }

  static std::string policy_json(const std::array<uint8_t, 48>& measurement, bool allow_simulated) {
    return nlohmann::json{{"allow_simulated", allow_simulated}, {"snp", {{"measurements", {to_hex(measurement)}}}}}.dump();
  }

  std::string admin_token() {
    return "Bearer " + ak::sign_token(admin_key_.get(), nlohmann::json{{"exp", now_.load() + 60}});
  }

  static constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
  fs::path dir_;
  std::optional<attest::sim::SimulatedTee> tee_;
  std::array<uint8_t, 48> measurement_{};
  attest::EvpPkeyPtr admin_key_;
  std::atomic<std::time_t> now_{std::time(nullptr)};
  std::unique_ptr<Broker> broker_;
  ak::ResourceId model_{"default", "key", "model"};
};

TEST_F(BrokerTest, FullExchangeInProcessReleasesTheResource) {
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  EXPECT_EQ(client.get_resource(model_), bytes_of(kSecret));
}

TEST_F(BrokerTest, TokenCarriesTheVerifiedClaims) {
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  std::string token = client.attest();
  auto claims = ak::verify_token(broker_->store().token_key().get(), token, now_);
  EXPECT_EQ(claims["tee"], "snp");
  EXPECT_EQ(claims["evidence-claims"]["simulated"], true);
  EXPECT_EQ(claims["evidence-claims"]["measurement"], to_hex(measurement_));
}

TEST_F(BrokerTest, FullExchangeOverLoopbackHttp) {
  HttpServer server(*broker_);
  int port = server.bind("127.0.0.1", 0);
  server.start();
  auto transport = ak::make_http_transport("http://127.0.0.1:" + std::to_string(port));
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(*transport, evidence);
  EXPECT_EQ(client.get_resource(model_), bytes_of(kSecret));
  server.stop();
}

ak::Problem refusal_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const ak::KbsRefused& e) {
    return e.problem();
  }
  return ak::Problem{0, "none", "accepted"};
}

TEST_F(BrokerTest, MeasurementMismatchIsDenied) {
  InProcessTransport transport(*broker_);
  std::array<uint8_t, 48> changed = measurement_;
  changed[0] ^= 1;
  ak::SimulatedEvidenceProvider evidence(*tee_, changed);
  ak::RcarClient client(transport, evidence);
  ak::Problem problem = refusal_of([&] { client.get_resource(model_); });
  EXPECT_EQ(problem.status, 403);
  EXPECT_EQ(problem.type, "PolicyDeny");
  EXPECT_NE(problem.detail.find("measurement"), std::string::npos) << problem.detail;
}

TEST_F(BrokerTest, SimulatedEvidenceIsDeniedUnderTheDefaultPolicy) {
  ak::ResourceId plain{"default", "key", "plain"};
  broker_->store().put_resource(plain, bytes_of("x"));
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  ak::Problem problem = refusal_of([&] { client.get_resource(plain); });
  EXPECT_EQ(problem.status, 403);
  EXPECT_NE(problem.detail.find("allow_simulated"), std::string::npos) << problem.detail;
}

TEST_F(BrokerTest, EvidenceSignedByAnotherKeyFailsAttestation) {
  auto impostor = attest::sim::SimulatedTee::open(dir_ / "impostor");
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(impostor, measurement_);
  ak::RcarClient client(transport, evidence);
  ak::Problem problem = refusal_of([&] { client.get_resource(model_); });
  EXPECT_EQ(problem.status, 401);
  EXPECT_EQ(problem.type, "AttestationFailed");
}

TEST_F(BrokerTest, UnknownResourceIsNotFound) {
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  ak::Problem problem = refusal_of([&] { client.get_resource({"default", "key", "missing"}); });
  EXPECT_EQ(problem.status, 404);
  EXPECT_EQ(problem.type, "ResourceNotFound");
}

// Drives auth by hand so that the test can replay messages.
struct ManualSession {
  std::string cookie;
  ak::Challenge challenge;
};

ManualSession start_session(Broker& broker) {
  auto response = broker.handle({"POST", "/kbs/v0/auth", R"({"version":"0.1.0","tee":"snp","extra-params":""})", ""});
  EXPECT_EQ(response.status, 200) << response.body;
  return {response.set_cookie.substr(0, response.set_cookie.find(';')), ak::parse_challenge(response.body)};
}

TEST_F(BrokerTest, ReplayedNonceAndReplayedEvidenceAreRefused) {
  ak::TeeKeyPair key = ak::TeeKeyPair::generate();
  ak::SimulatedEvidenceProvider provider(*tee_, measurement_);
  ManualSession first = start_session(*broker_);
  ak::Attestation attestation{key.public_key(), provider.evidence(ak::expected_report_data(
                                                    first.challenge.nonce, key.public_key(), ak::HashAlgorithm::kSha384))};
  std::string body = ak::serialize(attestation);
  EXPECT_EQ(broker_->handle({"POST", "/kbs/v0/attest", body, first.cookie}).status, 200);

  auto again = broker_->handle({"POST", "/kbs/v0/attest", body, first.cookie});
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(ak::parse_problem(again.status, again.body).type, "NonceReused");

  ManualSession second = start_session(*broker_);
  auto replayed = broker_->handle({"POST", "/kbs/v0/attest", body, second.cookie});
  EXPECT_EQ(replayed.status, 401);
  ak::Problem problem = ak::parse_problem(replayed.status, replayed.body);
  EXPECT_EQ(problem.type, "AttestationFailed");
  EXPECT_NE(problem.detail.find("nonce"), std::string::npos) << problem.detail;
}

// A transport that loses the broker's first answer to /attest and sends the
// request again, as the HTTP transport's retry does after a timeout: the
// broker has spent the nonce, and the client starts a new handshake.
class LosesFirstAttestAnswer : public ak::Transport {
 public:
  explicit LosesFirstAttestAnswer(Broker& broker) : broker_(broker) {}
  ak::HttpResponse send(const ak::HttpRequest& request) override {
    if (request.path == "/kbs/v0/attest" && !lost_) {
      lost_ = true;
      broker_.handle(request);
    }
    return broker_.handle(request);
  }

 private:
  Broker& broker_;
  bool lost_ = false;
};

TEST_F(BrokerTest, LostAttestAnswerIsRecoveredWithAFreshNonce) {
  LosesFirstAttestAnswer transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  EXPECT_EQ(client.get_resource(model_), bytes_of(kSecret));
}

TEST_F(BrokerTest, ExpiredSessionIsRefused) {
  ak::TeeKeyPair key = ak::TeeKeyPair::generate();
  ak::SimulatedEvidenceProvider provider(*tee_, measurement_);
  ManualSession session = start_session(*broker_);
  ak::Attestation attestation{key.public_key(), provider.evidence(ak::expected_report_data(
                                                    session.challenge.nonce, key.public_key(), ak::HashAlgorithm::kSha384))};
  ASSERT_EQ(broker_->handle({"POST", "/kbs/v0/attest", ak::serialize(attestation), session.cookie}).status, 200);
  EXPECT_EQ(broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", session.cookie}).status, 200);
  now_ += 301;
  auto expired = broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", session.cookie});
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(ak::parse_problem(expired.status, expired.body).type, "ExpiredCookie");
  EXPECT_EQ(broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", session.cookie}).status, 401);
}

TEST_F(BrokerTest, ResourceNeedsAnAttestedSession) {
  EXPECT_EQ(broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", ""}).status, 401);
  ManualSession session = start_session(*broker_);
  auto unattested = broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", session.cookie});
  EXPECT_EQ(unattested.status, 401);
  EXPECT_EQ(broker_->handle({"GET", "/kbs/v0/resource/default/key/model", "", "kbs-session-id=forged"}).status, 401);
}

TEST_F(BrokerTest, MalformedAndOversizedRequestsAreProblems) {
  auto check = [&](const ak::HttpRequest& request, int status) {
    auto response = broker_->handle(request);
    EXPECT_EQ(response.status, status) << request.path << " " << response.body;
    auto problem = nlohmann::json::parse(response.body, nullptr, false);
    EXPECT_TRUE(problem.is_object() && problem.contains("type") && problem.contains("detail")) << response.body;
  };
  check({"POST", "/kbs/v0/auth", "{", ""}, 400);
  check({"POST", "/kbs/v0/auth", R"({"version":"0.1.0","tee":"sgx"})", ""}, 400);
  check({"POST", "/kbs/v0/auth", std::string(ak::kMaxMessageSize + 1, ' '), ""}, 413);
  ManualSession session = start_session(*broker_);
  check({"POST", "/kbs/v0/attest", R"({"tee-pubkey":{},"tee-evidence":{}})", session.cookie}, 400);
  check({"GET", "/kbs/v0/resource/../../etc", "", session.cookie}, 401);
  check({"GET", "/kbs/v1/other", "", ""}, 404);
}

TEST_F(BrokerTest, OversizedBodyOverHttpIsRefused) {
  HttpServer server(*broker_);
  int port = server.bind("127.0.0.1", 0);
  server.start();
  auto transport = ak::make_http_transport("http://127.0.0.1:" + std::to_string(port));
  auto response = transport->send({"POST", "/kbs/v0/auth", std::string(200 * 1024, 'x'), ""});
  EXPECT_EQ(response.status, 413);
  server.stop();
}

TEST_F(BrokerTest, BrokerDownGivesAClearErrorAfterBoundedRetries) {
  int port = shelter::testing::unused_loopback_port();
  ak::RetryPolicy retry{3, std::chrono::milliseconds(1), std::chrono::seconds(2)};
  auto transport = ak::make_http_transport("http://127.0.0.1:" + std::to_string(port), retry);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(*transport, evidence);
  try {
    client.get_resource(model_);
    FAIL() << "a broker that is down answered";
  } catch (const ak::KbsUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("unreachable after 3 attempts"), std::string::npos) << e.what();
  }
}

TEST_F(BrokerTest, AdminRequestsNeedTheAdminKey) {
  ak::ResourceId id{"default", "key", "added"};
  auto put = [&](const std::string& authorization) {
    return broker_->handle({"POST", "/kbs/v0/resource/default/key/added", "new secret", "", authorization}).status;
  };
  EXPECT_EQ(put(""), 401);
  attest::EvpPkeyPtr other(EVP_EC_gen("P-256"));
  EXPECT_EQ(put("Bearer " + ak::sign_token(other.get(), nlohmann::json{{"exp", now_.load() + 60}})), 401);
  EXPECT_EQ(put("Bearer " + ak::sign_token(admin_key_.get(), nlohmann::json{{"exp", now_.load() - 1}})), 401);
  EXPECT_FALSE(broker_->store().resource(id));
  EXPECT_EQ(put(admin_token()), 200);
  EXPECT_EQ(broker_->store().resource(id), bytes_of("new secret"));
  auto bad_policy = broker_->handle({"POST", "/kbs/v0/resource-policy/default/key/added", R"({"tees":"snp"})", "",
                                     admin_token()});
  EXPECT_EQ(bad_policy.status, 400);
}

TEST_F(BrokerTest, ResourcesAndPoliciesSurviveARestart) {
  ak::ResourceId id{"repo", "key", "persisted"};
  ASSERT_EQ(broker_->handle({"POST", "/kbs/v0/resource/repo/key/persisted", "kept", "", admin_token()}).status, 200);
  ASSERT_EQ(broker_->handle({"POST", "/kbs/v0/resource-policy/repo/key/persisted", policy_json(measurement_, true), "",
                             admin_token()})
                .status,
            200);
  broker_.reset();
  for (const char* file : {"resources/repo/key/persisted", "policies/repo/key/persisted.json", "token-key.pem"}) {
    EXPECT_EQ(fs::status(dir_ / "state" / file).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << file;
  }
  broker_ = make_broker();
  InProcessTransport transport(*broker_);
  ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
  ak::RcarClient client(transport, evidence);
  EXPECT_EQ(client.get_resource(id), bytes_of("kept"));
}

// 200 attestation sessions at once over loopback: every one gets the key.
TEST_F(BrokerTest, TwoHundredConcurrentSessionsAllSucceed) {
  HttpServer server(*broker_);
  int port = server.bind("127.0.0.1", 0);
  server.start();
  constexpr int kSessions = 200;
  std::atomic<int> succeeded{0};
  std::vector<std::string> failures(kSessions);
  std::latch ready(kSessions);
  std::vector<std::thread> clients;
  for (int i = 0; i < kSessions; ++i) {
    clients.emplace_back([&, i] {
      // cpp-httplib listens with a backlog of 5: a burst of 200 connections
      // overflows it, and the client's bounded retries are what absorb that.
      ak::RetryPolicy retry{8, std::chrono::milliseconds(50), std::chrono::seconds(10)};
      auto transport = ak::make_http_transport("http://127.0.0.1:" + std::to_string(port), retry);
      ak::SimulatedEvidenceProvider evidence(*tee_, measurement_);
      ak::RcarClient client(*transport, evidence);
      ready.arrive_and_wait();
      try {
        if (client.get_resource(model_) == bytes_of(kSecret)) ++succeeded;
      } catch (const std::exception& e) {
        failures[i] = e.what();
      }
    });
  }
  for (auto& thread : clients) thread.join();
  server.stop();
  for (const auto& failure : failures) EXPECT_TRUE(failure.empty()) << failure;
  EXPECT_EQ(succeeded.load(), kSessions);
}

}  // namespace
}  // namespace shelter::runtime::kbs
