#include "guest-init/sev_guest.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cerrno>
#include <cstring>

#include "attest/crypto.h"
#include "attest/kbs/base64.h"
#include "attest/snp/report.h"
#include "common/error.h"
#include "guest-init/key_release.h"
#include "tests/unit/guest-init/snp_cert_table.h"

namespace shelter::guest {
namespace {

namespace uapi = sev_guest_uapi;

using testing::kArkGuid;
using testing::kAskGuid;
using testing::kVcekGuid;
using testing::put_cert_table_entry;

// A certificate table whose certificates are cert_size bytes of 'V', 'A', 'R'.
std::vector<uint8_t> cert_table(size_t cert_size) {
  std::vector<uint8_t> table;
  const auto base = static_cast<uint32_t>(4 * 24), size = static_cast<uint32_t>(cert_size);
  put_cert_table_entry(table, kVcekGuid, base, size);
  put_cert_table_entry(table, kAskGuid, base + size, size);
  put_cert_table_entry(table, kArkGuid, base + 2 * size, size);
  put_cert_table_entry(table, {}, 0, 0);
  for (uint8_t c : {'V', 'A', 'R'}) table.insert(table.end(), cert_size, c);
  return table;
}

// The sev-guest driver and the security processor behind it: the report is
// laid out and signed as the simulated TEE's, over the requested
// REPORT_DATA; the host's certificate table goes to the caller's buffer, or,
// when that is too small, EIO with SNP_GUEST_VMM_ERR_INVALID_LEN and the
// length needed in certs_len.
class FakeSevGuest : public SevGuestDevice {
 public:
  std::vector<uint8_t> certs = cert_table(1);
  uint32_t status = 0;
  uint32_t report_size = 0x4A0;
  int fail_errno = 0;
  uint64_t fail_exitinfo2 = 0;
  uint32_t asks_for = 0;         // the length the host claims to need, 0: the table's size rounded to pages
  bool always_too_small = false;
  bool tamper_report_data = false;
  int calls = 0;
  std::vector<uint32_t> certs_lengths_seen;
  attest::EvpPkeyPtr vcek{EVP_EC_gen("P-384")};

  int ioctl(unsigned long request, uapi::SnpGuestRequestIoctl& arg) override {
    ++calls;
    if (request != uapi::kSnpGetExtReport || arg.msg_version != 1) return EINVAL;
    auto& req = *reinterpret_cast<uapi::SnpExtReportReq*>(arg.req_data);
    auto& resp = *reinterpret_cast<uapi::SnpReportResp*>(arg.resp_data);
    certs_lengths_seen.push_back(req.certs_len);
    if (fail_errno != 0) {
      arg.exitinfo2 = fail_exitinfo2;
      return fail_errno;
    }
    if (req.certs_len < certs.size() || always_too_small) {
      req.certs_len = asks_for != 0 ? asks_for : static_cast<uint32_t>((certs.size() + 4095) / 4096 * 4096);
      arg.exitinfo2 = uint64_t{uapi::kVmmErrInvalidLen} << 32;
      return EIO;
    }
    std::memcpy(reinterpret_cast<void*>(req.certs_address), certs.data(), certs.size());
    attest::snp::AttestationReport report{};
    report.version = 2;
    report.signature_algo = 1;
    report.vmpl = req.data.vmpl;
    std::memcpy(report.report_data, req.data.user_data, sizeof report.report_data);
    if (tamper_report_data) report.report_data[0] ^= 1;
    std::memset(report.measurement, 0x4d, sizeof report.measurement);
    attest::snp::sign_report(report, vcek.get());
    uapi::MsgReportRspHeader header{};
    header.status = status;
    header.report_size = report_size;
    std::memcpy(resp.data, &header, sizeof header);
    std::memcpy(resp.data + sizeof header, &report, sizeof report);
    return 0;
  }
};

const std::vector<uint8_t> kReportData(64, 0x5c);

std::vector<uint8_t> decoded(const nlohmann::json& value) {
  return attest::kbs::base64_decode(value.get<std::string>()).value();
}

TEST(SevGuest, EvidenceIsTheReportAndChainAsConfigfsTsmGivesIt) {
  FakeSevGuest device;
  nlohmann::json evidence = SevGuestEvidenceProvider(device).evidence(kReportData);
  ASSERT_EQ(evidence.size(), 2u);
  auto report = attest::snp::parse_report(decoded(evidence["attestation_report"]));
  EXPECT_TRUE(std::equal(kReportData.begin(), kReportData.end(), report.report_data));
  EXPECT_EQ(report.vmpl, 0u);
  ASSERT_EQ(evidence["cert_chain"].size(), 3u);
  EXPECT_EQ(decoded(evidence["cert_chain"][0]), std::vector<uint8_t>{'V'});
  EXPECT_EQ(decoded(evidence["cert_chain"][1]), std::vector<uint8_t>{'A'});
  EXPECT_EQ(decoded(evidence["cert_chain"][2]), std::vector<uint8_t>{'R'});
  EXPECT_EQ(device.calls, 1);
}

TEST(SevGuest, RetriesOnceWithTheCertificateLengthTheHostAsksFor) {
  FakeSevGuest device;
  device.certs = cert_table(7000);  // about 21 KiB: more than the first buffer
  nlohmann::json evidence = SevGuestEvidenceProvider(device).evidence(kReportData);
  EXPECT_EQ(decoded(evidence["cert_chain"][2]), std::vector<uint8_t>(7000, 'R'));
  ASSERT_EQ(device.certs_lengths_seen.size(), 2u);
  EXPECT_LT(device.certs_lengths_seen[0], device.certs.size());
  EXPECT_EQ(device.certs_lengths_seen[1], 24u * 1024);
}

TEST(SevGuest, RefusesUnboundedOrRepeatedCertificateRetries) {
  FakeSevGuest huge;
  huge.certs = cert_table(30000);  // an 88 KiB buffer is more than the bound
  EXPECT_THROW(SevGuestEvidenceProvider(huge).evidence(kReportData), Error);
  EXPECT_EQ(huge.calls, 1);
  FakeSevGuest unaligned;
  unaligned.certs = cert_table(7000);
  unaligned.asks_for = 24 * 1024 + 1;
  EXPECT_THROW(SevGuestEvidenceProvider(unaligned).evidence(kReportData), Error);
  FakeSevGuest shrinking;
  shrinking.certs = cert_table(7000);
  shrinking.asks_for = 4096;
  EXPECT_THROW(SevGuestEvidenceProvider(shrinking).evidence(kReportData), Error);
  FakeSevGuest never_enough;
  never_enough.always_too_small = true;
  never_enough.asks_for = 20 * 1024;
  EXPECT_THROW(SevGuestEvidenceProvider(never_enough).evidence(kReportData), Error);
  EXPECT_EQ(never_enough.calls, 2);
}

TEST(SevGuest, FirmwareAndVmmErrorsAreNamed) {
  FakeSevGuest device;
  device.fail_errno = EIO;
  device.fail_exitinfo2 = (uint64_t{uapi::kVmmErrBusy} << 32) | 0x16;
  try {
    SevGuestEvidenceProvider(device).evidence(kReportData);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("firmware error 0x16"), std::string::npos) << message;
    EXPECT_NE(message.find("VMM error 0x2"), std::string::npos) << message;
  }
  FakeSevGuest missing;
  missing.fail_errno = ENOTTY;
  EXPECT_THROW(SevGuestEvidenceProvider(missing).evidence(kReportData), Error);
}

TEST(SevGuest, RejectsBadResponses) {
  FakeSevGuest failed;
  failed.status = 0x16;
  EXPECT_THROW(SevGuestEvidenceProvider(failed).evidence(kReportData), Error);
  FakeSevGuest short_report;
  short_report.report_size = 0x49F;
  EXPECT_THROW(SevGuestEvidenceProvider(short_report).evidence(kReportData), Error);
  FakeSevGuest oversized;
  oversized.report_size = 4000;
  EXPECT_THROW(SevGuestEvidenceProvider(oversized).evidence(kReportData), Error);
  FakeSevGuest tampered;
  tampered.tamper_report_data = true;
  EXPECT_THROW(SevGuestEvidenceProvider(tampered).evidence(kReportData), Error);
  FakeSevGuest no_certs;
  no_certs.certs.assign(24, 0);
  EXPECT_THROW(SevGuestEvidenceProvider(no_certs).evidence(kReportData), Error);
  EXPECT_THROW(SevGuestEvidenceProvider(failed).evidence(std::vector<uint8_t>(32)), Error);
}

TEST(SevGuest, ResponseParserChecksHeaderAndBounds) {
  std::vector<uint8_t> response(0x20 + 0x4A0, 0xab);
  uapi::MsgReportRspHeader header{};
  header.report_size = 0x4A0;
  std::memcpy(response.data(), &header, sizeof header);
  EXPECT_EQ(parse_msg_report_rsp(response), std::vector<uint8_t>(0x4A0, 0xab));
  EXPECT_THROW(parse_msg_report_rsp(std::span(response).first(0x20 + 0x49F)), Error);
  EXPECT_THROW(parse_msg_report_rsp(std::span(response).first(0x1F)), Error);
  EXPECT_THROW(parse_msg_report_rsp({}), Error);
  response[0] = 1;  // status
  EXPECT_THROW(parse_msg_report_rsp(response), Error);
}

TEST(SevGuest, SnpGuestsUseSevGuestWithoutConfigfsTsm) {
  FakeSevGuest device;
  KernelTsmFs tsm;
  FrameStream unused(-1);
  images::KeyReleaseParams params{"aes-xts-plain64", "snp", "default/key/k", std::vector<uint8_t>(32)};
  auto only = [](const char* path) { return [path](const char* p) { return std::string(p) == path; }; };
  auto provider = make_evidence_provider(params, unused, only(kSevGuestDevice), tsm, device);
  EXPECT_NE(dynamic_cast<SevGuestEvidenceProvider*>(provider.get()), nullptr);
  auto both = [](const char* p) { return std::string(p) == kSevGuestDevice || std::string(p) == kConfigfsTsmReport; };
  EXPECT_NE(dynamic_cast<TsmSnpEvidenceProvider*>(make_evidence_provider(params, unused, both, tsm, device).get()),
            nullptr);
  params.tee = "tdx";
  EXPECT_THROW(make_evidence_provider(params, unused, only(kTdxGuestDevice), tsm, device), Error);
}

}  // namespace
}  // namespace shelter::guest
