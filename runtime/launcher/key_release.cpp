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

ak::ResourceId resource_of(const KeyReleaseOptions& options) {
  try {
    return ak::parse_resource_id(options.resource.empty() ? "default/key/" + options.key_id : options.resource);
  } catch (const ak::KbsProtocolError& e) {
    throw Error(std::string("--kbs-resource: ") + e.what());
  }
}

attest::Sha256Digest remote_broker_pin(const KeyReleaseOptions& options) {
  if (!options.kbs_key) throw Error("--kbs needs --kbs-key, the broker's token public key that the guest pins");
  attest::EvpPkeyPtr key = runtime::kbs::read_pem_key(*options.kbs_key, false);
  return ak::public_key_fingerprint(key.get());
}

images::KeyReleaseParams simulated_release_params(const ak::ResourceId& resource, const attest::Sha256Digest& pin) {
  return {"aes-xts-plain64", "sim", resource.path(), std::vector<uint8_t>(pin.begin(), pin.end())};
}

}  // namespace

images::KeyReleaseParams remote_key_release_params(const KeyReleaseOptions& options) {
  return simulated_release_params(resource_of(options), remote_broker_pin(options));
}

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
    // A remote broker's run holds no key, and explicit_bzero takes no null pointer.
    if (!key.empty()) explicit_bzero(key.data(), key.size());
  }
};

attest::Sha384Digest simulated_launch_digest(const VmConfig& config) {
  std::vector<uint8_t> kernel = read_file(config.kernel, kMaxKernelSize);
  std::vector<uint8_t> initramfs = read_file(config.initramfs, kMaxKernelSize);
  return attest::sim::direct_launch_digest({kernel, initramfs, config.cmdline, config.cpus});
}

KeyRelease::KeyRelease(const KeyReleaseOptions& options, const fs::path& work_dir)
    : state_(std::make_unique<State>(attest::sim::SimulatedTee::open(options.shelter_home / "sim-tee"))) {
  state_->resource = resource_of(options);
  std::string url;
  ak::TlsTrust trust;
  if (options.kbs_url) {
    state_->broker_pin = remote_broker_pin(options);
    url = *options.kbs_url;
    trust.ca_file = options.kbs_ca;
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
  state_->transport = ak::make_http_transport(url, {}, trust);
}

KeyRelease::~KeyRelease() = default;

images::KeyReleaseParams KeyRelease::guest_params() const {
  return simulated_release_params(state_->resource, state_->broker_pin);
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
