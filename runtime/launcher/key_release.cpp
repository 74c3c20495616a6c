#include "runtime/launcher/key_release.h"

#include <nlohmann/json.hpp>

#include "attest/kbs/jose.h"
#include "attest/kbs/sim_evidence.h"
#include "attest/sim/launch.h"
#include "attest/sim/simulated_tee.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hex.h"
#include "runtime/kbs/broker.h"
#include "runtime/kbs/config.h"
#include "runtime/kbs/server.h"
#include "runtime/keystore.h"

namespace shelter::launcher {

namespace ak = attest::kbs;
namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxKernelSize = 1ull << 30;
}  // namespace

struct KeyRelease::State {
  explicit State(attest::sim::SimulatedTee simulated) : tee(std::move(simulated)) {}
  attest::sim::SimulatedTee tee;
  ak::ResourceId resource;
  attest::Sha256Digest broker_pin{};
  std::vector<uint8_t> key;  // embedded broker only
  std::unique_ptr<runtime::kbs::Broker> broker;
  std::unique_ptr<runtime::kbs::HttpServer> server;
  std::unique_ptr<ak::Transport> transport;
  std::unique_ptr<ak::SimulatedEvidenceProvider> evidence;
  std::unique_ptr<AttestationRelay> relay;

  ~State() {
    if (server) server->stop();
    explicit_bzero(key.data(), key.size());
  }
};

attest::Sha384Digest simulated_launch_digest(const VmConfig& config) {
  std::vector<uint8_t> kernel = read_file(config.kernel, kMaxKernelSize);
  std::vector<uint8_t> initramfs = read_file(config.initramfs, kMaxKernelSize);
  return attest::sim::direct_launch_digest({kernel, initramfs, config.cmdline, config.cpus});
}

KeyRelease::KeyRelease(const KeyReleaseOptions& options, const fs::path& work_dir)
    : state_(std::make_unique<State>(attest::sim::SimulatedTee::open(options.shelter_home / "sim-tee"))) {
  try {
    state_->resource = ak::parse_resource_id(options.resource.empty() ? "default/key/" + options.key_id : options.resource);
  } catch (const ak::KbsProtocolError& e) {
    throw Error(std::string("--kbs-resource: ") + e.what());
  }
  std::string url;
  if (options.kbs_url) {
    if (!options.kbs_key) throw Error("--kbs needs --kbs-key, the broker's token public key that the guest pins");
    attest::EvpPkeyPtr key = runtime::kbs::read_pem_key(*options.kbs_key, false);
    state_->broker_pin = ak::public_key_fingerprint(key.get());
    url = *options.kbs_url;
  } else {
    state_->key = runtime::Keystore(options.shelter_home).load(options.key_id);
    runtime::kbs::BrokerConfig config;
    config.state_dir = work_dir;
    config.simulated_roots = {state_->tee.root()};
    state_->broker = std::make_unique<runtime::kbs::Broker>(std::move(config));
    state_->broker_pin = ak::public_key_fingerprint(state_->broker->store().token_key().get());
    state_->server = std::make_unique<runtime::kbs::HttpServer>(*state_->broker, 2);
    int port = state_->server->bind("127.0.0.1", 0);
    state_->server->start();
    url = "http://127.0.0.1:" + std::to_string(port);
  }
  state_->transport = ak::make_http_transport(url);
}

KeyRelease::~KeyRelease() = default;

images::KeyReleaseParams KeyRelease::guest_params() const {
  return {"aes-xts-plain64", "sim", state_->resource.path(),
          std::vector<uint8_t>(state_->broker_pin.begin(), state_->broker_pin.end())};
}

void KeyRelease::expect_launch(const attest::Sha384Digest& reference) {
  if (!state_->broker) return;
  nlohmann::json policy{{"tees", {"snp"}}, {"allow_simulated", true}, {"snp", {{"measurements", {to_hex(reference)}}}}};
  state_->broker->store().put_resource(state_->resource, state_->key);
  state_->broker->store().put_policy(state_->resource, policy.dump());
}

AttestationRelay& KeyRelease::relay_for(const attest::Sha384Digest& launched) {
  state_->evidence = std::make_unique<ak::SimulatedEvidenceProvider>(state_->tee, launched);
  state_->relay = std::make_unique<AttestationRelay>(
      *state_->transport, [evidence = state_->evidence.get()](std::span<const uint8_t> report_data) {
        return evidence->evidence(report_data);
      });
  return *state_->relay;
}

}  // namespace shelter::launcher
