// guest-init's key release through the launcher's relay, in-process: the
// guest's channel transport and simulated evidence on one end of a socket
// pair, the relay in front of a broker on the other.
#include "runtime/launcher/attestation_relay.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "attest/kbs/jose.h"
#include "attest/kbs/sim_evidence.h"
#include "attest/sim/simulated_tee.h"
#include "common/hex.h"
#include "common/unique_fd.h"
#include "guest-init/key_release.h"
#include "runtime/kbs/broker.h"
#include "tests/support/test_scratch_dir.h"

namespace shelter::launcher {
namespace {

namespace fs = std::filesystem;
namespace ak = attest::kbs;

class InProcessTransport : public ak::Transport {
 public:
  explicit InProcessTransport(runtime::kbs::Broker& broker) : broker_(broker) {}
  ak::HttpResponse send(const ak::HttpRequest& request) override { return broker_.handle(request); }

 private:
  runtime::kbs::Broker& broker_;
};

class DownTransport : public ak::Transport {
 public:
  ak::HttpResponse send(const ak::HttpRequest&) override { throw ak::KbsUnavailable("key broker is down"); }
};

// The launcher's loop, reduced: bytes from the guest through the relay and back.
void serve(AttestationRelay& relay, int fd) {
  uint8_t buffer[4096];
  ssize_t n;
  try {
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
      std::string answer = relay.feed({buffer, static_cast<size_t>(n)});
      if (::write(fd, answer.data(), answer.size()) != static_cast<ssize_t>(answer.size())) return;
    }
  } catch (const guest::ChannelError&) {
  }
  ::shutdown(fd, SHUT_RDWR);
}

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = shelter::testing::fresh_test_dir("relay");
    tee_.emplace(attest::sim::SimulatedTee::open(dir_ / "sim"));
    runtime::kbs::BrokerConfig config;
    config.state_dir = dir_ / "state";
    config.simulated_roots = {tee_->root()};
    broker_ = std::make_unique<runtime::kbs::Broker>(std::move(config));
    reference_.fill(0x42);
    broker_->store().put_resource(resource_, key_);
    broker_->store().put_policy(resource_, nlohmann::json{{"allow_simulated", true},
                                                          {"snp", {{"measurements", {to_hex(reference_)}}}}}
                                               .dump());
    auto pin = ak::public_key_fingerprint(broker_->store().token_key().get());
    params_ = {"aes-xts-plain64", "sim", resource_.path(), {pin.begin(), pin.end()}};
  }
  void TearDown() override {
    broker_.reset();
    fs::remove_all(dir_);
  }

  // Runs the guest's side against the relay; returns the key or throws what
  // guest-init would report.
  std::vector<uint8_t> release(ak::Transport& broker, const std::array<uint8_t, 48>& launched, bool simulated = true) {
    ak::SimulatedEvidenceProvider evidence(*tee_, launched);
    AttestationRelay relay(broker, simulated ? AttestationRelay::EvidenceSource(
                                                   [&](std::span<const uint8_t> rd) { return evidence.evidence(rd); })
                                             : AttestationRelay::EvidenceSource());
    int pair[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    UniqueFd guest_end(pair[0]), host_end(pair[1]);
    std::thread host([&] { serve(relay, host_end.get()); });
    struct Join {
      std::thread& t;
      UniqueFd& fd;
      ~Join() {
        ::shutdown(fd.get(), SHUT_RDWR);
        t.join();
      }
    } join{host, guest_end};
    guest::FrameStream stream(guest_end.get());
    guest::ChannelTransport transport(stream);
    guest::KernelTsmFs tsm;
    guest::KernelSevGuestDevice sev_guest(guest::kSevGuestDevice);
    auto provider =
        guest::make_evidence_provider(params_, stream, [](const char*) { return false; }, tsm, sev_guest);
    return guest::obtain_image_key(params_, transport, *provider, [] { return std::time(nullptr); });
  }

  fs::path dir_;
  std::optional<attest::sim::SimulatedTee> tee_;
  std::unique_ptr<runtime::kbs::Broker> broker_;
  ak::ResourceId resource_{"default", "key", "image"};
  std::vector<uint8_t> key_ = std::vector<uint8_t>(64, 0x7e);
  std::array<uint8_t, 48> reference_{};
  images::KeyReleaseParams params_;
};

TEST_F(RelayTest, TheLaunchWithTheReferenceDigestGetsTheKey) {
  InProcessTransport broker(*broker_);
  EXPECT_EQ(release(broker, reference_), key_);
}

TEST_F(RelayTest, AnotherLaunchDigestIsRefusedWithTheBrokersReason) {
  InProcessTransport broker(*broker_);
  std::array<uint8_t, 48> changed = reference_;
  changed[0] ^= 1;
  try {
    release(broker, changed);
    ADD_FAILURE() << "released";
  } catch (const ak::KbsRefused& e) {
    EXPECT_EQ(e.problem().type, "PolicyDeny");
    EXPECT_NE(std::string(e.what()).find("measurement"), std::string::npos) << e.what();
  }
}

TEST_F(RelayTest, ABrokerOtherThanThePinnedOneIsRefused) {
  InProcessTransport broker(*broker_);
  params_.broker_key_sha256[0] ^= 1;
  try {
    release(broker, reference_);
    ADD_FAILURE() << "released";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not the pinned one"), std::string::npos) << e.what();
  }
}

TEST_F(RelayTest, ABrokerThatIsDownReachesTheGuestAsUnavailable) {
  DownTransport broker;
  EXPECT_THROW(release(broker, reference_), ak::KbsUnavailable);
}

TEST_F(RelayTest, NoEvidenceFromTheHostUnlessTheTeeIsSimulated) {
  InProcessTransport broker(*broker_);
  EXPECT_THROW(release(broker, reference_, false), guest::ChannelError);
}

TEST(AttestationRelay, GuestMayNotSendHostFrames) {
  DownTransport broker;
  AttestationRelay relay(broker, {});
  std::string frame = guest::encode_frame({guest::FrameType::kHttpResponse, "{}"});
  EXPECT_THROW(relay.feed({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}), guest::ChannelError);
}

}  // namespace
}  // namespace shelter::launcher
