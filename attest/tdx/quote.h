#pragma once
// Intel TDX DCAP quotes, versions 4 and 5 (Intel TDX DCAP Quote Library API,
// "Quote Format"): header, TD report body (TDX 1.0 or 1.5), and the ECDSA
// P-256 signature data with certification data type 6 (the QE report, its
// signature and auth data, and an inner type-5 PCK certificate chain).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace shelter::attest::tdx {

static_assert(std::endian::native == std::endian::little, "quotes are read in place on a little-endian host");

#pragma pack(push, 1)
struct QuoteHeader {
  uint16_t version;
  uint16_t attestation_key_type;  // 2: ECDSA-256 with P-256
  uint32_t tee_type;              // 0x81: TDX
  uint16_t reserved0;
  uint16_t reserved1;
  uint8_t qe_vendor_id[16];
  uint8_t user_data[20];
};
static_assert(sizeof(QuoteHeader) == 48);
static_assert(offsetof(QuoteHeader, qe_vendor_id) == 12);

// TDX 1.0 fields first; TDX 1.5 appends TEE_TCB_SVN2 and MRSERVICETD.
struct TdReportBody {
  uint8_t tee_tcb_svn[16];
  uint8_t mr_seam[48];
  uint8_t mr_signer_seam[48];
  uint8_t seam_attributes[8];
  uint8_t td_attributes[8];
  uint8_t xfam[8];
  uint8_t mr_td[48];
  uint8_t mr_config_id[48];
  uint8_t mr_owner[48];
  uint8_t mr_owner_config[48];
  uint8_t rtmr[4][48];
  uint8_t report_data[64];
  uint8_t tee_tcb_svn2[16];
  uint8_t mr_service_td[48];
};
inline constexpr size_t kTdReportBody10Size = 584;
inline constexpr size_t kTdReportBody15Size = 648;
static_assert(offsetof(TdReportBody, td_attributes) == 120);
static_assert(offsetof(TdReportBody, mr_td) == 136);
static_assert(offsetof(TdReportBody, rtmr) == 328);
static_assert(offsetof(TdReportBody, report_data) == 520);
static_assert(offsetof(TdReportBody, tee_tcb_svn2) == kTdReportBody10Size);
static_assert(sizeof(TdReportBody) == kTdReportBody15Size);

// The SGX enclave report of the Quoting Enclave.
struct EnclaveReport {
  uint8_t cpu_svn[16];
  uint32_t misc_select;
  uint8_t reserved0[28];
  uint8_t attributes[16];
  uint8_t mr_enclave[32];
  uint8_t reserved1[32];
  uint8_t mr_signer[32];
  uint8_t reserved2[96];
  uint16_t isv_prod_id;
  uint16_t isv_svn;
  uint8_t reserved3[60];
  uint8_t report_data[64];
};
static_assert(sizeof(EnclaveReport) == 384);
static_assert(offsetof(EnclaveReport, attributes) == 48);
static_assert(offsetof(EnclaveReport, mr_signer) == 128);
static_assert(offsetof(EnclaveReport, isv_prod_id) == 256);
static_assert(offsetof(EnclaveReport, report_data) == 320);
#pragma pack(pop)

inline constexpr uint32_t kTeeTypeTdx = 0x81;
inline constexpr uint16_t kAttestationKeyEcdsaP256 = 2;
inline constexpr uint16_t kCertificationQeReport = 6;
inline constexpr uint16_t kCertificationPckChain = 5;
inline constexpr size_t kMaxQuoteSize = 128 * 1024;
inline constexpr uint64_t kTdAttributeDebug = 1;

struct Quote {
  QuoteHeader header;
  // 2: TDX 1.0 body, 3: TDX 1.5 body (version 4 quotes always carry 2).
  uint16_t body_type;
  TdReportBody body;  // TDX 1.5 fields zero for a 1.0 body
  std::vector<uint8_t> signed_bytes;  // header and body as signed
  uint8_t signature[64];              // r || s, big-endian
  uint8_t attestation_key[64];        // X || Y
  EnclaveReport qe_report;
  std::vector<uint8_t> qe_report_bytes;
  uint8_t qe_report_signature[64];
  std::vector<uint8_t> qe_auth_data;
  uint16_t pck_data_type;
  std::vector<uint8_t> pck_data;  // type 5: PEM chain, leaf first
  size_t trailing_bytes;          // after the signature data, ignored
};

// Throws EvidenceError on truncated, oversized, wrong-version or
// inconsistent quotes.
Quote parse_quote(std::span<const uint8_t> bytes);

uint64_t td_attributes(const Quote& quote);
nlohmann::ordered_json quote_claims(const Quote& quote);

}  // namespace shelter::attest::tdx
