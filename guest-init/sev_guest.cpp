#include "guest-init/sev_guest.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "attest/snp/report.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "guest-init/tsm_report.h"

namespace shelter::guest {
namespace {

namespace uapi = sev_guest_uapi;

constexpr size_t kSnpReportSize = sizeof(attest::snp::AttestationReport);
constexpr size_t kPageSize = 4096;
// The kernel takes at most SEV_FW_BLOB_MAX_SIZE (16 KiB) of certificates in
// one request; a larger length the host asks for is honoured up to a bound.
constexpr size_t kFirstCertsLength = 16 * 1024;
constexpr size_t kMaxCertsLength = 64 * 1024;

std::string hex32(uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%x", value);
  return text;
}

}  // namespace

int KernelSevGuestDevice::ioctl(unsigned long request, uapi::SnpGuestRequestIoctl& arg) {
  UniqueFd fd(static_cast<int>(check_syscall(::open(path_.c_str(), O_RDWR | O_CLOEXEC), "opening " + path_)));
  return ::ioctl(fd.get(), request, &arg) < 0 ? errno : 0;
}

std::vector<uint8_t> parse_msg_report_rsp(std::span<const uint8_t> response) {
  uapi::MsgReportRspHeader header;
  if (response.size() < sizeof header) throw Error("SNP report response: shorter than its header");
  std::memcpy(&header, response.data(), sizeof header);
  if (header.status != 0) throw Error("SNP report response: the firmware returned status " + hex32(header.status));
  if (header.report_size != kSnpReportSize)
    throw Error("SNP report response: report size " + hex32(header.report_size) + " is not 0x4a0");
  if (response.size() - sizeof header < kSnpReportSize) throw Error("SNP report response: the report is cut short");
  auto report = response.subspan(sizeof header, kSnpReportSize);
  return {report.begin(), report.end()};
}

nlohmann::json SevGuestEvidenceProvider::evidence(std::span<const uint8_t> report_data) {
  if (report_data.size() != sizeof(uapi::SnpReportReq::user_data)) throw Error("REPORT_DATA must be 64 bytes");
  uapi::SnpExtReportReq request{};
  std::copy(report_data.begin(), report_data.end(), request.data.user_data);
  uapi::SnpReportResp response{};
  std::vector<uint8_t> certs(kFirstCertsLength);
  for (int attempt = 0;; ++attempt) {
    request.certs_address = reinterpret_cast<uintptr_t>(certs.data());
    request.certs_len = static_cast<uint32_t>(certs.size());
    uapi::SnpGuestRequestIoctl arg{};
    arg.msg_version = 1;
    arg.req_data = reinterpret_cast<uintptr_t>(&request);
    arg.resp_data = reinterpret_cast<uintptr_t>(&response);
    int err = device_.ioctl(uapi::kSnpGetExtReport, arg);
    if (err == 0) break;
    const uint32_t fw_error = static_cast<uint32_t>(arg.exitinfo2), vmm_error = static_cast<uint32_t>(arg.exitinfo2 >> 32);
    // Certificate buffer too small: the kernel wrote the length it needs
    // into certs_len (sev-guest.rst); one more try with that length, which
    // the driver takes only page-aligned.
    if (err == EIO && vmm_error == uapi::kVmmErrInvalidLen && attempt == 0) {
      if (request.certs_len <= certs.size() || request.certs_len > kMaxCertsLength || request.certs_len % kPageSize != 0)
        throw Error("SNP_GET_EXT_REPORT: the host asks for an unacceptable certificate buffer of " +
                    std::to_string(request.certs_len) + " bytes");
      certs.assign(request.certs_len, 0);
      continue;
    }
    throw Error("SNP_GET_EXT_REPORT on /dev/sev-guest failed: " + std::string(std::strerror(err)) +
                " (firmware error " + hex32(fw_error) + ", VMM error " + hex32(vmm_error) + ")");
  }
  std::vector<uint8_t> report = parse_msg_report_rsp(response.data);
  if (!std::equal(report_data.begin(), report_data.end(),
                  report.begin() + offsetof(attest::snp::AttestationReport, report_data)))
    throw Error("SNP report response: the report carries other REPORT_DATA than requested");
  auto chain = parse_snp_cert_table(certs);
  return attest::kbs::snp_evidence_json(report, chain);
}

}  // namespace shelter::guest
