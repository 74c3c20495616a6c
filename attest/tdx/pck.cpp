#include "attest/tdx/pck.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <cstring>
#include <memory>
#include <string>

#include "attest/crypto.h"
#include "attest/error.h"

namespace shelter::attest::tdx {
namespace {

constexpr const char* kSgxExtensionsOid = "1.2.840.113741.1.13.1";

struct SequenceFree {
  void operator()(ASN1_SEQUENCE_ANY* sequence) const { sk_ASN1_TYPE_pop_free(sequence, ASN1_TYPE_free); }
};
using Sequence = std::unique_ptr<ASN1_SEQUENCE_ANY, SequenceFree>;

Sequence decode_sequence(const uint8_t* der, size_t size) {
  const unsigned char* p = der;
  Sequence sequence(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, static_cast<long>(size)));
  if (!sequence) throw EvidenceError("PCK certificate SGX extension is not valid DER");
  return sequence;
}

Sequence decode_sequence(const ASN1_TYPE* item) {
  if (ASN1_TYPE_get(item) != V_ASN1_SEQUENCE) throw EvidenceError("PCK certificate SGX extension: expected a SEQUENCE");
  const ASN1_STRING* der = item->value.sequence;
  return decode_sequence(ASN1_STRING_get0_data(der), static_cast<size_t>(ASN1_STRING_length(der)));
}

std::string oid_text(const ASN1_TYPE* item) {
  if (ASN1_TYPE_get(item) != V_ASN1_OBJECT) throw EvidenceError("PCK certificate SGX extension: expected an OID");
  char text[128];
  OBJ_obj2txt(text, sizeof(text), item->value.object, 1);
  return text;
}

uint64_t integer_value(const ASN1_TYPE* item) {
  uint64_t value = 0;
  if (ASN1_TYPE_get(item) != V_ASN1_INTEGER || ASN1_INTEGER_get_uint64(&value, item->value.integer) != 1) {
    throw EvidenceError("PCK certificate SGX extension: expected an INTEGER");
  }
  return value;
}

template <size_t N>
void octets(const ASN1_TYPE* item, std::array<uint8_t, N>& out, const char* what) {
  if (ASN1_TYPE_get(item) != V_ASN1_OCTET_STRING || ASN1_STRING_length(item->value.octet_string) != N) {
    throw EvidenceError(std::string("PCK certificate SGX extension: malformed ") + what);
  }
  std::memcpy(out.data(), ASN1_STRING_get0_data(item->value.octet_string), N);
}

}  // namespace

PckExtensions parse_pck_extensions(X509* pck) {
  auto value = extension_value(pck, kSgxExtensionsOid);
  if (!value) throw EvidenceError("PCK certificate lacks the SGX extensions");
  Sequence entries = decode_sequence(value->data(), value->size());
  PckExtensions out;
  bool have_tcb = false, have_fmspc = false, have_pce_id = false;
  const std::string prefix = std::string(kSgxExtensionsOid) + ".";
  for (int i = 0; i < sk_ASN1_TYPE_num(entries.get()); ++i) {
    Sequence pair = decode_sequence(sk_ASN1_TYPE_value(entries.get(), i));
    if (sk_ASN1_TYPE_num(pair.get()) != 2) throw EvidenceError("PCK certificate SGX extension: malformed entry");
    std::string oid = oid_text(sk_ASN1_TYPE_value(pair.get(), 0));
    const ASN1_TYPE* item = sk_ASN1_TYPE_value(pair.get(), 1);
    if (oid == prefix + "2") {
      Sequence components = decode_sequence(item);
      int tcb_fields = 0;
      for (int j = 0; j < sk_ASN1_TYPE_num(components.get()); ++j) {
        Sequence component = decode_sequence(sk_ASN1_TYPE_value(components.get(), j));
        if (sk_ASN1_TYPE_num(component.get()) != 2) throw EvidenceError("PCK certificate TCB: malformed entry");
        std::string component_oid = oid_text(sk_ASN1_TYPE_value(component.get(), 0));
        const ASN1_TYPE* component_value = sk_ASN1_TYPE_value(component.get(), 1);
        const std::string tcb_prefix = prefix + "2.";
        if (component_oid.rfind(tcb_prefix, 0) != 0) continue;
        int index = std::stoi(component_oid.substr(tcb_prefix.size()));
        if (index >= 1 && index <= 16) {
          uint64_t svn = integer_value(component_value);
          if (svn > 255) throw EvidenceError("PCK certificate TCB component out of range");
          out.sgx_tcb_components[static_cast<size_t>(index - 1)] = static_cast<uint8_t>(svn);
          ++tcb_fields;
        } else if (index == 17) {
          uint64_t svn = integer_value(component_value);
          if (svn > 0xffff) throw EvidenceError("PCK certificate PCE SVN out of range");
          out.pce_svn = static_cast<uint16_t>(svn);
          ++tcb_fields;
        } else if (index == 18) {
          octets(component_value, out.cpu_svn, "CPUSVN");
        }
      }
      have_tcb = tcb_fields == 17;
    } else if (oid == prefix + "3") {
      octets(item, out.pce_id, "PCE-ID");
      have_pce_id = true;
    } else if (oid == prefix + "4") {
      octets(item, out.fmspc, "FMSPC");
      have_fmspc = true;
    }
  }
  if (!have_tcb || !have_fmspc || !have_pce_id) {
    throw EvidenceError("PCK certificate SGX extension lacks the TCB, FMSPC or PCE-ID");
  }
  return out;
}

}  // namespace shelter::attest::tdx
