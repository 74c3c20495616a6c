#include "guest-init/tsm_report.h"

#include <gtest/gtest.h>

#include <map>

#include "attest/kbs/base64.h"
#include "common/error.h"
#include "guest-init/key_release.h"
#include "tests/unit/guest-init/snp_cert_table.h"

namespace shelter::guest {
namespace {

// configfs-tsm as the kernel presents it: an entry's files, a generation
// counter bumped by every write, outblob and auxblob filled on demand.
class FakeTsmFs : public TsmFs {
 public:
  std::map<std::string, std::vector<uint8_t>> files;
  std::vector<std::string> log;
  std::string provider = "sev_guest";
  std::vector<uint8_t> report = std::vector<uint8_t>(0x4A0, 0x33);
  std::vector<uint8_t> certs;
  bool race = false;  // another writer bumps the generation after outblob is read
  int generation = 0;

  void make_dir(const std::string& path) override { log.push_back("mkdir " + path); }
  void remove_dir(const std::string& path) override { log.push_back("rmdir " + path); }
  void write(const std::string& path, std::span<const uint8_t> bytes) override {
    log.push_back("write " + path);
    files[path].assign(bytes.begin(), bytes.end());
    ++generation;
  }
  std::vector<uint8_t> read(const std::string& path, size_t max_size) override {
    log.push_back("read " + path);
    std::vector<uint8_t> out;
    auto text = [](const std::string& t) { return std::vector<uint8_t>(t.begin(), t.end()); };
    if (path.ends_with("/provider")) out = text(provider + "\n");
    if (path.ends_with("/generation")) out = text(std::to_string(generation) + "\n");
    if (path.ends_with("/outblob")) {
      out = report;
      if (race) ++generation;
    }
    if (path.ends_with("/auxblob")) out = certs;
    if (out.size() > max_size) throw Error(path + " too large");
    return out;
  }
};

using testing::kArkGuid;
using testing::kAskGuid;
using testing::kVcekGuid;
using testing::put_cert_table_entry;

// ARK, VCEK, ASK entries (any order is allowed), then the certificates.
std::vector<uint8_t> cert_table() {
  std::vector<uint8_t> table;
  uint32_t base = 4 * 24;
  put_cert_table_entry(table, kArkGuid, base + 2, 1);
  put_cert_table_entry(table, kVcekGuid, base, 1);
  put_cert_table_entry(table, kAskGuid, base + 1, 1);
  put_cert_table_entry(table, {}, 0, 0);
  table.insert(table.end(), {'V', 'A', 'R'});
  return table;
}

TEST(TsmReport, CertTableGivesVcekAskArk) {
  auto chain = parse_snp_cert_table(cert_table());
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0], std::vector<uint8_t>{'V'});
  EXPECT_EQ(chain[1], std::vector<uint8_t>{'A'});
  EXPECT_EQ(chain[2], std::vector<uint8_t>{'R'});
}

TEST(TsmReport, CertTableRejectsCorruptEntries) {
  std::vector<uint8_t> table = cert_table();
  EXPECT_THROW(parse_snp_cert_table(std::span(table).first(3 * 24)), Error);  // no terminator
  std::vector<uint8_t> bad = table;
  bad[16] = 0xff;  // ARK offset far outside
  EXPECT_THROW(parse_snp_cert_table(bad), Error);
  bad = table;
  bad[20] = 0xff;  // ARK length past the end
  EXPECT_THROW(parse_snp_cert_table(bad), Error);
  bad = table;
  bad[24] ^= 1;  // VCEK GUID unknown: VCEK missing
  EXPECT_THROW(parse_snp_cert_table(bad), Error);
  EXPECT_THROW(parse_snp_cert_table({}), Error);
}

TEST(TsmReport, EvidenceIsTheReportAndChainWithTheEntryRemoved) {
  FakeTsmFs fs;
  fs.certs = cert_table();
  TsmSnpEvidenceProvider provider(fs, "/tsm");
  std::vector<uint8_t> report_data(64, 0x5c);
  nlohmann::json evidence = provider.evidence(report_data);
  EXPECT_EQ(evidence["attestation_report"], attest::kbs::base64_encode(fs.report));
  EXPECT_EQ(evidence["cert_chain"].size(), 3u);
  std::string entry = fs.log.front().substr(6);
  EXPECT_EQ(fs.log.front(), "mkdir " + entry);
  EXPECT_EQ(fs.log.back(), "rmdir " + entry);
  EXPECT_EQ(fs.files[entry + "/inblob"], report_data);
}

TEST(TsmReport, RefusesOtherProvidersRacesAndShortReports) {
  std::vector<uint8_t> report_data(64, 0);
  FakeTsmFs tdx;
  tdx.provider = "tdx_guest";
  tdx.certs = cert_table();
  EXPECT_THROW(TsmSnpEvidenceProvider(tdx, "/tsm").evidence(report_data), Error);
  EXPECT_EQ(tdx.log.back().substr(0, 5), "rmdir");
  FakeTsmFs racing;
  racing.race = true;
  racing.certs = cert_table();
  EXPECT_THROW(TsmSnpEvidenceProvider(racing, "/tsm").evidence(report_data), Error);
  FakeTsmFs short_report;
  short_report.report.resize(100);
  short_report.certs = cert_table();
  EXPECT_THROW(TsmSnpEvidenceProvider(short_report, "/tsm").evidence(report_data), Error);
}

TEST(TsmReport, SnpGuestsUseConfigfsTsmFirst) {
  FakeTsmFs fs;
  KernelSevGuestDevice sev_guest(kSevGuestDevice);
  FrameStream unused(-1);
  images::KeyReleaseParams params{"aes-xts-plain64", "snp", "default/key/k", std::vector<uint8_t>(32)};
  auto provider = make_evidence_provider(params, unused, [](const char* p) { return std::string(p) == kConfigfsTsmReport; },
                                         fs, sev_guest);
  EXPECT_NE(dynamic_cast<TsmSnpEvidenceProvider*>(provider.get()), nullptr);
}

}  // namespace
}  // namespace shelter::guest
