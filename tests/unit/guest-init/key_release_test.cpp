#include "guest-init/key_release.h"

#include <gtest/gtest.h>

#include <set>

#include "attest/kbs/jose.h"
#include "common/error.h"

namespace shelter::guest {
namespace {

namespace ak = attest::kbs;

std::vector<uint8_t> pin_of(EVP_PKEY* key) {
  attest::Sha256Digest d = ak::public_key_fingerprint(key);
  return {d.begin(), d.end()};
}

TEST(KeyRelease, EvidenceDevicesAreTriedInOrder) {
  auto with = [](std::set<std::string> present) {
    return detect_evidence_device([present](const char* path) { return present.contains(path); });
  };
  EXPECT_EQ(with({kConfigfsTsmReport, kSevGuestDevice, kTdxGuestDevice}), EvidenceDevice::kConfigfsTsm);
  EXPECT_EQ(with({kSevGuestDevice, kTdxGuestDevice}), EvidenceDevice::kSevGuest);
  EXPECT_EQ(with({kTdxGuestDevice}), EvidenceDevice::kTdxGuest);
  EXPECT_EQ(with({}), EvidenceDevice::kNone);
}

TEST(KeyRelease, HardwareTeeWithoutADeviceIsAClearError) {
  FrameStream unused(-1);
  KernelTsmFs tsm;
  KernelSevGuestDevice sev_guest(kSevGuestDevice);
  images::KeyReleaseParams params{"aes-xts-plain64", "snp", "default/key/k", std::vector<uint8_t>(32)};
  try {
    make_evidence_provider(params, unused, [](const char*) { return false; }, tsm, sev_guest);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/sev-guest"), std::string::npos) << e.what();
  }
  params.tee = "sim";
  EXPECT_NE(make_evidence_provider(params, unused, [](const char*) { return false; }, tsm, sev_guest), nullptr);
}

TEST(KeyRelease, TokenMustComeFromThePinnedBroker) {
  attest::EvpPkeyPtr broker(EVP_EC_gen("P-256"));
  attest::EvpPkeyPtr impostor(EVP_EC_gen("P-256"));
  std::string token = ak::sign_token(broker.get(), {{"exp", 2000}});
  EXPECT_NO_THROW(check_broker_token(token, pin_of(broker.get()), 1000));
  EXPECT_THROW(check_broker_token(token, pin_of(impostor.get()), 1000), Error);
  EXPECT_THROW(check_broker_token(token, pin_of(broker.get()), 3000), Error);  // expired
  // An impostor that names the pinned key in its header but signs with its own.
  std::string forged = ak::sign_token(impostor.get(), {{"exp", 2000}});
  std::string header = token.substr(0, token.find('.'));
  forged.replace(0, forged.find('.'), header);
  EXPECT_THROW(check_broker_token(forged, pin_of(broker.get()), 1000), Error);
  EXPECT_THROW(check_broker_token("not a token", pin_of(broker.get()), 1000), Error);
}

}  // namespace
}  // namespace shelter::guest
