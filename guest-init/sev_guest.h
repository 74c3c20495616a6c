#pragma once
// SEV-SNP evidence through the sev-guest driver (include/uapi/linux/
// sev-guest.h, Documentation/virt/coco/sev-guest.rst), for kernels without
// configfs-tsm: the SNP_GET_EXT_REPORT ioctl returns the firmware's
// MSG_REPORT_RSP and fills a caller buffer with the host's certificate
// table. The ioctl sits behind SevGuestDevice so that tests replace the
// kernel with a fake.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "attest/kbs/client.h"

namespace shelter::guest {

// The uapi structures restated, so that the build needs no kernel headers.
// The kernel declares them without `packed`: the layout below is the natural
// one, pinned by the asserts.
namespace sev_guest_uapi {

struct SnpReportReq {
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
static_assert(sizeof(SnpReportReq) == 96);
static_assert(offsetof(SnpReportReq, vmpl) == 64);
static_assert(offsetof(SnpReportReq, rsvd) == 68);

struct SnpReportResp {
  uint8_t data[4000];
};
static_assert(sizeof(SnpReportResp) == 4000);

struct SnpExtReportReq {
  SnpReportReq data;
  uint64_t certs_address;
  uint32_t certs_len;
};
static_assert(sizeof(SnpExtReportReq) == 112);
static_assert(offsetof(SnpExtReportReq, certs_address) == 96);
static_assert(offsetof(SnpExtReportReq, certs_len) == 104);

struct SnpGuestRequestIoctl {
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  // bits 31:0 the firmware's error code, bits 63:32 the VMM's.
  uint64_t exitinfo2;
};
static_assert(sizeof(SnpGuestRequestIoctl) == 32);
static_assert(offsetof(SnpGuestRequestIoctl, req_data) == 8);
static_assert(offsetof(SnpGuestRequestIoctl, resp_data) == 16);
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) == 24);

// _IOWR('S', nr, struct snp_guest_request_ioctl)
constexpr unsigned long iowr_s(unsigned nr) {
  return (3ul << 30) | (sizeof(SnpGuestRequestIoctl) << 16) | (static_cast<unsigned long>('S') << 8) | nr;
}
inline constexpr unsigned long kSnpGetExtReport = iowr_s(0x2);
static_assert(kSnpGetExtReport == 0xC0205302);

inline constexpr uint32_t kVmmErrInvalidLen = 1;
inline constexpr uint32_t kVmmErrBusy = 2;

// MSG_REPORT_RSP (SEV-SNP firmware ABI): status, report size, 24 reserved
// bytes, then the report.
struct [[gnu::packed]] MsgReportRspHeader {
  uint32_t status;
  uint32_t report_size;
  uint8_t reserved[24];
};
static_assert(sizeof(MsgReportRspHeader) == 0x20);
static_assert(offsetof(MsgReportRspHeader, report_size) == 4);

}  // namespace sev_guest_uapi

class SevGuestDevice {
 public:
  virtual ~SevGuestDevice() = default;
  // Issues a guest-request ioctl; returns 0 or the errno. Like the kernel,
  // reads and writes through the addresses in arg and sets arg.exitinfo2.
  virtual int ioctl(unsigned long request, sev_guest_uapi::SnpGuestRequestIoctl& arg) = 0;
};

class KernelSevGuestDevice : public SevGuestDevice {
 public:
  explicit KernelSevGuestDevice(std::string path) : path_(std::move(path)) {}
  int ioctl(unsigned long request, sev_guest_uapi::SnpGuestRequestIoctl& arg) override;

 private:
  std::string path_;
};

// The 0x4A0-byte report out of a MSG_REPORT_RSP; throws Error when the
// firmware's status is not success or the report size is not 0x4A0 or does
// not fit the response.
std::vector<uint8_t> parse_msg_report_rsp(std::span<const uint8_t> response);

class SevGuestEvidenceProvider : public attest::kbs::EvidenceProvider {
 public:
  explicit SevGuestEvidenceProvider(SevGuestDevice& device) : device_(device) {}
  attest::kbs::Tee tee() const override { return attest::kbs::Tee::kSnp; }
  // The same JSON as TsmSnpEvidenceProvider's.
  nlohmann::json evidence(std::span<const uint8_t> report_data) override;

 private:
  SevGuestDevice& device_;
};

}  // namespace shelter::guest
