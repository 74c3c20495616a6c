#include "guest-init/tsm_report.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "attest/snp/report.h"
#include "common/error.h"
#include "common/unique_fd.h"

namespace shelter::guest {
namespace {

constexpr size_t kGuidSize = 16;
constexpr size_t kEntrySize = kGuidSize + 8;
constexpr size_t kMaxCertTable = 64 * 1024;
constexpr size_t kMaxSmallFile = 64;
constexpr size_t kSnpReportSize = sizeof(attest::snp::AttestationReport);

using Guid = std::array<uint8_t, kGuidSize>;

// GUIDs in their byte order on the wire (the first three fields little-endian).
constexpr Guid guid(uint32_t a, uint16_t b, uint16_t c, std::array<uint8_t, 8> d) {
  Guid g{};
  for (int i = 0; i < 4; ++i) g[i] = static_cast<uint8_t>(a >> (8 * i));
  for (int i = 0; i < 2; ++i) g[4 + i] = static_cast<uint8_t>(b >> (8 * i));
  for (int i = 0; i < 2; ++i) g[6 + i] = static_cast<uint8_t>(c >> (8 * i));
  for (int i = 0; i < 8; ++i) g[8 + i] = d[i];
  return g;
}
constexpr Guid kVcekGuid = guid(0x63da758d, 0xe664, 0x4564, {0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd});
constexpr Guid kAskGuid = guid(0x4ab7b379, 0xbbac, 0x4fe4, {0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82});
constexpr Guid kArkGuid = guid(0xc0b406a4, 0xa803, 0x4952, {0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae});

uint32_t le32(std::span<const uint8_t> b) {
  return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 | static_cast<uint32_t>(b[2]) << 16 |
         static_cast<uint32_t>(b[3]) << 24;
}

std::string text_of(const std::vector<uint8_t>& bytes) {
  std::string text(bytes.begin(), bytes.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

}  // namespace

void KernelTsmFs::make_dir(const std::string& path) {
  check_syscall(::mkdir(path.c_str(), 0700), "creating the configfs-tsm report " + path);
}

void KernelTsmFs::remove_dir(const std::string& path) { ::rmdir(path.c_str()); }

void KernelTsmFs::write(const std::string& path, std::span<const uint8_t> bytes) {
  UniqueFd fd(static_cast<int>(check_syscall(::open(path.c_str(), O_WRONLY | O_CLOEXEC), "opening " + path)));
  ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
  if (n != static_cast<ssize_t>(bytes.size())) throw SystemError("writing " + path, n < 0 ? errno : EIO);
}

std::vector<uint8_t> KernelTsmFs::read(const std::string& path, size_t max_size) {
  // configfs binary attributes report size 0: read to the end.
  UniqueFd fd(static_cast<int>(check_syscall(::open(path.c_str(), O_RDONLY | O_CLOEXEC), "opening " + path)));
  std::vector<uint8_t> out;
  uint8_t buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buffer, sizeof buffer)) > 0) {
    out.insert(out.end(), buffer, buffer + n);
    if (out.size() > max_size) throw Error(path + " is larger than expected");
  }
  if (n < 0) throw SystemError("reading " + path, errno);
  return out;
}

std::vector<std::vector<uint8_t>> parse_snp_cert_table(std::span<const uint8_t> table) {
  std::vector<uint8_t> vcek, ask, ark;
  for (size_t at = 0;; at += kEntrySize) {
    if (at + kEntrySize > table.size()) throw Error("SNP certificate table: no terminating entry");
    auto entry = table.subspan(at, kEntrySize);
    Guid id;
    std::copy_n(entry.begin(), kGuidSize, id.begin());
    uint32_t offset = le32(entry.subspan(16, 4)), length = le32(entry.subspan(20, 4));
    if (id == Guid{} && offset == 0 && length == 0) break;
    if (offset > table.size() || length > table.size() - offset || length == 0)
      throw Error("SNP certificate table: an entry points outside the table");
    std::vector<uint8_t> der(table.begin() + offset, table.begin() + offset + length);
    if (id == kVcekGuid) vcek = std::move(der);
    else if (id == kAskGuid) ask = std::move(der);
    else if (id == kArkGuid) ark = std::move(der);
  }
  if (vcek.empty() || ask.empty() || ark.empty())
    throw Error("SNP certificate table: the VCEK, ASK or ARK certificate is missing");
  return {std::move(vcek), std::move(ask), std::move(ark)};
}

nlohmann::json TsmSnpEvidenceProvider::evidence(std::span<const uint8_t> report_data) {
  if (report_data.size() != 64) throw Error("REPORT_DATA must be 64 bytes");
  const std::string entry = root_ + "/shelter-" + std::to_string(::getpid());
  fs_.make_dir(entry);
  struct Remove {
    TsmFs& fs;
    const std::string& entry;
    ~Remove() { fs.remove_dir(entry); }
  } remove{fs_, entry};
  std::string provider = text_of(fs_.read(entry + "/provider", kMaxSmallFile));
  if (provider != "sev_guest") throw Error("configfs-tsm provider is '" + provider + "', not sev_guest (SNP)");
  fs_.write(entry + "/inblob", report_data);
  std::string generation = text_of(fs_.read(entry + "/generation", kMaxSmallFile));
  std::vector<uint8_t> report = fs_.read(entry + "/outblob", kSnpReportSize);
  std::vector<uint8_t> certs = fs_.read(entry + "/auxblob", kMaxCertTable);
  if (text_of(fs_.read(entry + "/generation", kMaxSmallFile)) != generation)
    throw Error("configfs-tsm: another writer changed the report request meanwhile");
  if (report.size() != kSnpReportSize) throw Error("configfs-tsm: outblob is not a 0x4A0-byte SNP report");
  auto chain = parse_snp_cert_table(certs);
  return attest::kbs::snp_evidence_json(report, chain);
}

}  // namespace shelter::guest
