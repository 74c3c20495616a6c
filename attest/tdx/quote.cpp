#include "attest/tdx/quote.h"

#include <cstring>

#include "attest/bytes.h"
#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest::tdx {
namespace {

template <typename T>
void copy_out(T& out, std::span<const uint8_t> bytes) {
  std::memcpy(&out, bytes.data(), sizeof(T));
}

}  // namespace

Quote parse_quote(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxQuoteSize) {
    throw EvidenceError("TDX quote is oversized: " + std::to_string(bytes.size()) + " bytes (at most " +
                        std::to_string(kMaxQuoteSize) + ")");
  }
  ByteReader reader(bytes, "TDX quote");
  Quote quote{};
  copy_out(quote.header, reader.bytes(sizeof(QuoteHeader)));
  if (quote.header.version != 4 && quote.header.version != 5) {
    throw EvidenceError("unsupported TDX quote version " + std::to_string(quote.header.version) +
                        " (versions 4 and 5 are understood)");
  }
  if (quote.header.tee_type != kTeeTypeTdx) {
    throw EvidenceError("quote TEE type " + std::to_string(quote.header.tee_type) + " is not TDX (0x81)");
  }
  if (quote.header.attestation_key_type != kAttestationKeyEcdsaP256) {
    throw EvidenceError("unsupported attestation key type " + std::to_string(quote.header.attestation_key_type));
  }
  size_t body_size = kTdReportBody10Size;
  quote.body_type = 2;
  if (quote.header.version == 5) {
    quote.body_type = reader.le<uint16_t>();
    uint32_t declared = reader.le<uint32_t>();
    if (quote.body_type == 2) {
      body_size = kTdReportBody10Size;
    } else if (quote.body_type == 3) {
      body_size = kTdReportBody15Size;
    } else {
      throw EvidenceError("unsupported TDX quote v5 body type " + std::to_string(quote.body_type));
    }
    if (declared != body_size) throw EvidenceError("TDX quote v5 body size does not match its type");
  }
  std::memcpy(&quote.body, reader.bytes(body_size).data(), body_size);
  quote.signed_bytes.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(reader.offset()));

  uint32_t signature_length = reader.le<uint32_t>();
  if (signature_length > reader.remaining()) {
    throw EvidenceError("TDX quote is truncated: signature data of " + std::to_string(signature_length) +
                        " bytes, " + std::to_string(reader.remaining()) + " present");
  }
  ByteReader signature(reader.bytes(signature_length), "TDX quote signature data");
  quote.trailing_bytes = reader.remaining();
  copy_out(quote.signature, signature.bytes(64));
  copy_out(quote.attestation_key, signature.bytes(64));
  uint16_t certification_type = signature.le<uint16_t>();
  uint32_t certification_size = signature.le<uint32_t>();
  if (certification_type != kCertificationQeReport) {
    throw EvidenceError("unsupported certification data type " + std::to_string(certification_type) +
                        " (type 6, QE report, is understood)");
  }
  if (certification_size != signature.remaining()) {
    throw EvidenceError("TDX certification data size does not match the signature data");
  }
  ByteReader certification(signature.bytes(certification_size), "TDX certification data");
  auto qe_report = certification.bytes(sizeof(EnclaveReport));
  quote.qe_report_bytes.assign(qe_report.begin(), qe_report.end());
  copy_out(quote.qe_report, qe_report);
  copy_out(quote.qe_report_signature, certification.bytes(64));
  uint16_t auth_length = certification.le<uint16_t>();
  auto auth = certification.bytes(auth_length);
  quote.qe_auth_data.assign(auth.begin(), auth.end());
  quote.pck_data_type = certification.le<uint16_t>();
  uint32_t pck_length = certification.le<uint32_t>();
  if (pck_length != certification.remaining()) {
    throw EvidenceError("TDX PCK certification data size does not match what remains of the quote");
  }
  auto pck = certification.bytes(pck_length);
  quote.pck_data.assign(pck.begin(), pck.end());
  return quote;
}

uint64_t td_attributes(const Quote& quote) { return load_le64(quote.body.td_attributes); }

nlohmann::ordered_json quote_claims(const Quote& quote) {
  auto hex = [](const auto& field) { return to_hex(std::span<const uint8_t>(field, sizeof(field))); };
  const TdReportBody& b = quote.body;
  nlohmann::ordered_json claims;
  claims["version"] = quote.header.version;
  claims["body"] = quote.body_type == 3 ? "TDX 1.5" : "TDX 1.0";
  claims["mrtd"] = hex(b.mr_td);
  for (int i = 0; i < 4; ++i) claims["rtmr" + std::to_string(i)] = hex(b.rtmr[i]);
  claims["report_data"] = hex(b.report_data);
  claims["td_attributes"] = hex(b.td_attributes);
  claims["debug"] = (td_attributes(quote) & kTdAttributeDebug) != 0;
  claims["xfam"] = hex(b.xfam);
  claims["mrconfigid"] = hex(b.mr_config_id);
  claims["mrowner"] = hex(b.mr_owner);
  claims["mrownerconfig"] = hex(b.mr_owner_config);
  claims["tee_tcb_svn"] = hex(b.tee_tcb_svn);
  claims["mrseam"] = hex(b.mr_seam);
  claims["mrsignerseam"] = hex(b.mr_signer_seam);
  claims["seam_attributes"] = hex(b.seam_attributes);
  if (quote.body_type == 3) {
    claims["tee_tcb_svn2"] = hex(b.tee_tcb_svn2);
    claims["mrservicetd"] = hex(b.mr_service_td);
  }
  claims["qe_vendor_id"] = hex(quote.header.qe_vendor_id);
  return claims;
}

}  // namespace shelter::attest::tdx
