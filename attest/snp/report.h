#pragma once
// The SEV-SNP ATTESTATION_REPORT (SNP ABI spec, table "ATTESTATION_REPORT
// Structure"): 0x4A0 bytes, little-endian, signed over [0, 0x2A0) with ECDSA
// P-384/SHA-384, r and s stored little-endian in 72-byte fields.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace shelter::attest::snp {

static_assert(std::endian::native == std::endian::little, "the report is read in place on a little-endian host");

#pragma pack(push, 1)
struct AttestationReport {
  uint32_t version;
  uint32_t guest_svn;
  uint64_t policy;
  uint8_t family_id[16];
  uint8_t image_id[16];
  uint32_t vmpl;
  uint32_t signature_algo;
  uint64_t current_tcb;
  uint64_t platform_info;
  uint32_t flags;  // bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY
  uint32_t reserved0;
  uint8_t report_data[64];
  uint8_t measurement[48];
  uint8_t host_data[32];
  uint8_t id_key_digest[48];
  uint8_t author_key_digest[48];
  uint8_t report_id[32];
  uint8_t report_id_ma[32];
  uint64_t reported_tcb;
  uint8_t cpuid_fam_id;  // version 3 and later
  uint8_t cpuid_mod_id;
  uint8_t cpuid_step;
  uint8_t reserved1[21];
  uint8_t chip_id[64];
  uint64_t committed_tcb;
  uint8_t current_build;
  uint8_t current_minor;
  uint8_t current_major;
  uint8_t reserved2;
  uint8_t committed_build;
  uint8_t committed_minor;
  uint8_t committed_major;
  uint8_t reserved3;
  uint64_t launch_tcb;
  uint8_t reserved4[168];
  uint8_t signature_r[72];
  uint8_t signature_s[72];
  uint8_t reserved5[368];
};
#pragma pack(pop)

static_assert(sizeof(AttestationReport) == 0x4A0);
static_assert(offsetof(AttestationReport, policy) == 0x08);
static_assert(offsetof(AttestationReport, vmpl) == 0x30);
static_assert(offsetof(AttestationReport, signature_algo) == 0x34);
static_assert(offsetof(AttestationReport, current_tcb) == 0x38);
static_assert(offsetof(AttestationReport, flags) == 0x48);
static_assert(offsetof(AttestationReport, report_data) == 0x50);
static_assert(offsetof(AttestationReport, measurement) == 0x90);
static_assert(offsetof(AttestationReport, host_data) == 0xC0);
static_assert(offsetof(AttestationReport, id_key_digest) == 0xE0);
static_assert(offsetof(AttestationReport, author_key_digest) == 0x110);
static_assert(offsetof(AttestationReport, report_id) == 0x140);
static_assert(offsetof(AttestationReport, reported_tcb) == 0x180);
static_assert(offsetof(AttestationReport, cpuid_fam_id) == 0x188);
static_assert(offsetof(AttestationReport, chip_id) == 0x1A0);
static_assert(offsetof(AttestationReport, committed_tcb) == 0x1E0);
static_assert(offsetof(AttestationReport, launch_tcb) == 0x1F0);
static_assert(offsetof(AttestationReport, signature_r) == 0x2A0);
static_assert(offsetof(AttestationReport, signature_s) == 0x2E8);

inline constexpr size_t kSignedSize = 0x2A0;
inline constexpr uint32_t kSignatureAlgoEcdsaP384Sha384 = 1;

// Guest policy bits (SNP ABI spec, GUEST_POLICY).
inline constexpr uint64_t kPolicySmt = 1ull << 16;
inline constexpr uint64_t kPolicyReservedMustBeOne = 1ull << 17;
inline constexpr uint64_t kPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kPolicyDebug = 1ull << 19;
inline constexpr uint64_t kPolicySingleSocket = 1ull << 20;

enum class SigningKey { kVcek, kVlek, kNone };
enum class Product { kMilan, kGenoa, kTurin };

std::string product_name(Product product);

// TCB_VERSION: Milan and Genoa keep bootloader, TEE, SNP and microcode in
// bytes 0, 1, 6, 7; Turin adds FMC and packs them into bytes 0..3 and 7.
struct TcbVersion {
  uint8_t fmc = 0;  // Turin only
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
};
TcbVersion decode_tcb(uint64_t raw, Product product);
uint64_t encode_tcb(const TcbVersion& tcb, Product product);
nlohmann::ordered_json tcb_json(const TcbVersion& tcb, Product product);

// Copies bytes into a report after checking size (exactly 0x4A0), version
// (2 or 3) and signature algorithm; throws EvidenceError otherwise.
AttestationReport parse_report(std::span<const uint8_t> bytes);

SigningKey signing_key(const AttestationReport& report);
std::span<const uint8_t> signed_bytes(const AttestationReport& report);

// Signs the report in place (ECDSA P-384/SHA-384, r and s little-endian), as
// the security processor does; used by the simulated TEE and by tests.
void sign_report(AttestationReport& report, EVP_PKEY* key);

// Claims that need no product knowledge (TCBs are added by the verifier).
nlohmann::ordered_json report_claims(const AttestationReport& report);

}  // namespace shelter::attest::snp
