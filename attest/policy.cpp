#include "attest/policy.h"

#include <nlohmann/json.hpp>
#include <set>

#include "attest/error.h"
#include "common/hex.h"

namespace shelter::attest {
namespace {

using Json = nlohmann::json;

void require_known_keys(const Json& object, const std::string& where, std::set<std::string> known) {
  if (!object.is_object()) throw EvidenceError("policy: " + where + " must be an object");
  for (const auto& [key, value] : object.items()) {
    if (!known.contains(key)) throw EvidenceError("policy: unknown key '" + where + "." + key + "'");
  }
}

Bytes hex_value(const Json& value, const std::string& where, size_t max_size) {
  if (!value.is_string()) throw EvidenceError("policy: " + where + " must be a hex string");
  auto bytes = from_hex(value.get<std::string>());
  if (!bytes || bytes->size() > max_size) {
    throw EvidenceError("policy: " + where + " must be hex of at most " + std::to_string(max_size) + " bytes");
  }
  return *bytes;
}

Bytes exact_hex(const Json& value, const std::string& where, size_t size) {
  Bytes bytes = hex_value(value, where, size);
  if (bytes.size() != size) throw EvidenceError("policy: " + where + " must be " + std::to_string(size) + " bytes");
  return bytes;
}

Bytes padded_hex(const Json& value, const std::string& where, size_t size) {
  Bytes bytes = hex_value(value, where, size);
  bytes.resize(size, 0);
  return bytes;
}

bool boolean(const Json& value, const std::string& where) {
  if (!value.is_boolean()) throw EvidenceError("policy: " + where + " must be true or false");
  return value.get<bool>();
}

uint64_t unsigned_value(const Json& value, const std::string& where, uint64_t max) {
  if (!value.is_number_unsigned() || value.get<uint64_t>() > max) {
    throw EvidenceError("policy: " + where + " must be an integer from 0 to " + std::to_string(max));
  }
  return value.get<uint64_t>();
}

std::vector<Bytes> hex_list(const Json& value, const std::string& where, size_t size) {
  if (!value.is_array()) throw EvidenceError("policy: " + where + " must be an array of hex strings");
  std::vector<Bytes> out;
  for (const auto& item : value) out.push_back(exact_hex(item, where, size));
  return out;
}

SnpPolicy parse_snp(const Json& object) {
  require_known_keys(object, "snp",
                     {"allow_debug", "allow_smt", "allow_migration_agent", "minimum_tcb", "vmpl", "measurements",
                      "report_data", "host_data"});
  SnpPolicy policy;
  if (object.contains("allow_debug")) policy.allow_debug = boolean(object["allow_debug"], "snp.allow_debug");
  if (object.contains("allow_smt")) policy.allow_smt = boolean(object["allow_smt"], "snp.allow_smt");
  if (object.contains("allow_migration_agent")) {
    policy.allow_migration_agent = boolean(object["allow_migration_agent"], "snp.allow_migration_agent");
  }
  if (object.contains("minimum_tcb")) {
    const Json& tcb = object["minimum_tcb"];
    require_known_keys(tcb, "snp.minimum_tcb", {"fmc", "bootloader", "tee", "snp", "microcode"});
    SnpTcbMinimum minimum;
    auto field = [&](const char* name, uint8_t& out) {
      if (tcb.contains(name)) out = static_cast<uint8_t>(unsigned_value(tcb[name], std::string("snp.minimum_tcb.") + name, 255));
    };
    field("fmc", minimum.fmc);
    field("bootloader", minimum.bootloader);
    field("tee", minimum.tee);
    field("snp", minimum.snp);
    field("microcode", minimum.microcode);
    policy.minimum_tcb = minimum;
  }
  if (object.contains("vmpl")) policy.vmpl = static_cast<uint32_t>(unsigned_value(object["vmpl"], "snp.vmpl", 3));
  if (object.contains("measurements")) policy.measurements = hex_list(object["measurements"], "snp.measurements", 48);
  if (object.contains("report_data")) policy.report_data = padded_hex(object["report_data"], "snp.report_data", 64);
  if (object.contains("host_data")) policy.host_data = padded_hex(object["host_data"], "snp.host_data", 32);
  return policy;
}

TdxPolicy parse_tdx(const Json& object) {
  require_known_keys(object, "tdx", {"allow_debug", "mrtds", "rtmrs", "report_data", "accepted_tcb_statuses"});
  TdxPolicy policy;
  if (object.contains("allow_debug")) policy.allow_debug = boolean(object["allow_debug"], "tdx.allow_debug");
  if (object.contains("mrtds")) policy.mrtds = hex_list(object["mrtds"], "tdx.mrtds", 48);
  if (object.contains("rtmrs")) {
    const Json& rtmrs = object["rtmrs"];
    if (!rtmrs.is_array() || rtmrs.size() != 4) {
      throw EvidenceError("policy: tdx.rtmrs must be an array of 4 entries (hex or null)");
    }
    for (size_t i = 0; i < 4; ++i) {
      if (!rtmrs[i].is_null()) policy.rtmrs[i] = exact_hex(rtmrs[i], "tdx.rtmrs[" + std::to_string(i) + "]", 48);
    }
  }
  if (object.contains("report_data")) policy.report_data = padded_hex(object["report_data"], "tdx.report_data", 64);
  if (object.contains("accepted_tcb_statuses")) {
    const Json& statuses = object["accepted_tcb_statuses"];
    if (!statuses.is_array()) throw EvidenceError("policy: tdx.accepted_tcb_statuses must be an array of strings");
    policy.accepted_tcb_statuses.clear();
    for (const auto& status : statuses) {
      if (!status.is_string()) throw EvidenceError("policy: tdx.accepted_tcb_statuses must be an array of strings");
      policy.accepted_tcb_statuses.push_back(status.get<std::string>());
    }
  }
  return policy;
}

NvgpuPolicy parse_nvgpu(const Json& object) {
  require_known_keys(object, "nvgpu", {"measurements"});
  NvgpuPolicy policy;
  if (object.contains("measurements")) {
    const Json& measurements = object["measurements"];
    if (!measurements.is_object()) throw EvidenceError("policy: nvgpu.measurements must be an object");
    for (const auto& [key, value] : measurements.items()) {
      const std::string where = "nvgpu.measurements." + key;
      if (key.empty() || key.size() > 3 || key.find_first_not_of("0123456789") != std::string::npos) {
        throw EvidenceError("policy: " + where + ": keys must be measurement block indices (1..254)");
      }
      unsigned index = static_cast<unsigned>(std::stoul(key));
      if (index < 1 || index > 254) throw EvidenceError("policy: " + where + ": index must be 1..254");
      policy.measurements[index] = hex_value(value, where, 64);
    }
  }
  return policy;
}

}  // namespace

Policy parse_policy(std::string_view json_text) {
  Json document = Json::parse(json_text, nullptr, false);
  if (document.is_discarded()) throw EvidenceError("policy: not valid JSON");
  require_known_keys(document, "policy", {"snp", "tdx", "nvgpu"});
  Policy policy;
  if (document.contains("snp")) policy.snp = parse_snp(document["snp"]);
  if (document.contains("tdx")) policy.tdx = parse_tdx(document["tdx"]);
  if (document.contains("nvgpu")) policy.nvgpu = parse_nvgpu(document["nvgpu"]);
  return policy;
}

}  // namespace shelter::attest
