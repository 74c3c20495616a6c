#include "images/kernel_cmdline.h"

#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>

#include "common/hex.h"
#include "images/error.h"

namespace shelter::images {
namespace {

// The kernel's own options: console on the first serial port, quiet so that
// the console carries little but errors, and an immediate reboot on panic,
// which the launcher's -no-reboot turns into a VM exit.
constexpr std::string_view kKernelOptions = "console=ttyS0 quiet panic=-1";

constexpr std::string_view kPrefix = "shelter.";
constexpr size_t kMaxCmdline = 4096;
constexpr size_t kRootHashSize = 32;  // sha256
constexpr size_t kMaxSaltSize = 256;  // dm-verity's limit

// Keys in the order format_kernel_cmdline writes them.
constexpr std::array<std::string_view, 8> kKeys = {
    "verity.alg",         "verity.data_block", "verity.hash_block", "verity.data_offset",
    "verity.data_size",   "verity.hash_offset", "verity.root",      "verity.salt"};

constexpr std::array<std::string_view, 4> kKeyReleaseKeys = {"crypt", "tee", "kbs.resource", "kbs.pin"};
constexpr size_t kMaxResource = 3 * 128 + 2;

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Rejects anything guest-init could not hand to dm-verity as is.
void check(const VerityParams& v) {
  if (v.algorithm != "sha256") throw FormatError("kernel cmdline: verity algorithm must be sha256");
  for (uint32_t size : {v.data_block_size, v.hash_block_size})
    if (size < 512 || size > 4096 || !is_power_of_two(size))
      throw FormatError("kernel cmdline: verity block size must be a power of two in 512..4096");
  if (v.data_size == 0 || v.data_size % v.data_block_size != 0)
    throw FormatError("kernel cmdline: verity data size must be a non-zero multiple of the block size");
  if (v.data_offset % 512 != 0)
    throw FormatError("kernel cmdline: verity data offset must be a multiple of 512");
  if (v.hash_offset % v.hash_block_size != 0)
    throw FormatError("kernel cmdline: verity hash offset must be a multiple of the hash block size");
  if (v.data_offset > UINT64_MAX - v.data_size)
    throw FormatError("kernel cmdline: verity data area overflows");
  if (v.hash_offset < v.data_offset + v.data_size && v.hash_offset + v.hash_block_size > v.data_offset)
    throw FormatError("kernel cmdline: verity hash area overlaps the data area");
  if (v.root_hash.size() != kRootHashSize)
    throw FormatError("kernel cmdline: verity root hash must be 32 bytes");
  if (v.salt.empty() || v.salt.size() > kMaxSaltSize)
    throw FormatError("kernel cmdline: verity salt must be 1..256 bytes");
}

void check(const KeyReleaseParams& k) {
  if (k.cipher != "aes-xts-plain64") throw FormatError("kernel cmdline: shelter.crypt must be aes-xts-plain64");
  if (k.tee != "sim" && k.tee != "snp" && k.tee != "tdx") throw FormatError("kernel cmdline: shelter.tee must be sim, snp or tdx");
  size_t slashes = 0;
  for (char c : k.resource) {
    if (c == '/') ++slashes;
    else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      throw FormatError("kernel cmdline: shelter.kbs.resource holds a character outside [A-Za-z0-9._/-]");
  }
  if (slashes != 2 || k.resource.size() > kMaxResource)
    throw FormatError("kernel cmdline: shelter.kbs.resource must be <repository>/<type>/<tag>");
  if (k.broker_key_sha256.size() != 32) throw FormatError("kernel cmdline: shelter.kbs.pin must be 32 bytes");
}

uint64_t parse_decimal(std::string_view key, std::string_view text) {
  uint64_t value = 0;
  bool leading_zero = text.size() > 1 && text.front() == '0';
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || leading_zero || error != std::errc() || end != text.data() + text.size())
    throw FormatError("kernel cmdline: shelter." + std::string(key) + " is not a decimal number");
  return value;
}

uint32_t parse_block_size(std::string_view key, std::string_view text) {
  uint64_t value = parse_decimal(key, text);
  if (value > UINT32_MAX) throw FormatError("kernel cmdline: shelter." + std::string(key) + " is too large");
  return static_cast<uint32_t>(value);
}

std::vector<uint8_t> parse_hex(std::string_view key, std::string_view text) {
  std::optional<std::vector<uint8_t>> bytes = from_hex(text);
  if (!bytes) throw FormatError("kernel cmdline: shelter." + std::string(key) + " is not hex");
  return *bytes;
}

}  // namespace

std::string format_kernel_cmdline(const GuestParams& params) {
  const VerityParams& v = params.verity;
  check(v);
  std::array<std::string, kKeys.size()> values = {
      v.algorithm,
      std::to_string(v.data_block_size),
      std::to_string(v.hash_block_size),
      std::to_string(v.data_offset),
      std::to_string(v.data_size),
      std::to_string(v.hash_offset),
      to_hex(v.root_hash),
      to_hex(v.salt)};
  std::string out(kKernelOptions);
  if (params.key_release) out += " " + std::string(kAttestationUartOption);
  for (size_t i = 0; i < kKeys.size(); ++i)
    out += " " + std::string(kPrefix) + std::string(kKeys[i]) + "=" + values[i];
  if (const std::optional<KeyReleaseParams>& k = params.key_release) {
    check(*k);
    std::array<std::string, kKeyReleaseKeys.size()> release = {k->cipher, k->tee, k->resource, to_hex(k->broker_key_sha256)};
    for (size_t i = 0; i < kKeyReleaseKeys.size(); ++i)
      out += " " + std::string(kPrefix) + std::string(kKeyReleaseKeys[i]) + "=" + release[i];
  }
  return out;
}

GuestParams parse_kernel_cmdline(std::string_view cmdline) {
  if (cmdline.size() > kMaxCmdline) throw FormatError("kernel cmdline: longer than 4096 bytes");
  std::map<std::string_view, std::string_view> found;
  size_t pos = 0;
  while (pos < cmdline.size()) {
    size_t end = cmdline.find_first_of(" \t\n", pos);
    if (end == std::string_view::npos) end = cmdline.size();
    std::string_view token = cmdline.substr(pos, end - pos);
    pos = end + 1;
    if (!token.starts_with(kPrefix)) continue;
    token.remove_prefix(kPrefix.size());
    size_t equals = token.find('=');
    if (equals == std::string_view::npos)
      throw FormatError("kernel cmdline: shelter." + std::string(token) + " has no value");
    std::string_view key = token.substr(0, equals);
    bool known = false;
    for (std::string_view k : kKeys) known = known || k == key;
    for (std::string_view k : kKeyReleaseKeys) known = known || k == key;
    if (!known) throw FormatError("kernel cmdline: unknown key shelter." + std::string(key));
    if (!found.emplace(key, token.substr(equals + 1)).second)
      throw FormatError("kernel cmdline: shelter." + std::string(key) + " given twice");
  }
  for (std::string_view key : kKeys)
    if (!found.contains(key)) throw FormatError("kernel cmdline: shelter." + std::string(key) + " missing");

  GuestParams params;
  VerityParams& v = params.verity;
  v.algorithm = std::string(found["verity.alg"]);
  v.data_block_size = parse_block_size("verity.data_block", found["verity.data_block"]);
  v.hash_block_size = parse_block_size("verity.hash_block", found["verity.hash_block"]);
  v.data_offset = parse_decimal("verity.data_offset", found["verity.data_offset"]);
  v.data_size = parse_decimal("verity.data_size", found["verity.data_size"]);
  v.hash_offset = parse_decimal("verity.hash_offset", found["verity.hash_offset"]);
  v.root_hash = parse_hex("verity.root", found["verity.root"]);
  v.salt = parse_hex("verity.salt", found["verity.salt"]);
  check(v);

  size_t release_keys = 0;
  for (std::string_view key : kKeyReleaseKeys) release_keys += found.contains(key);
  if (release_keys != 0 && release_keys != kKeyReleaseKeys.size())
    throw FormatError("kernel cmdline: shelter.crypt, shelter.tee, shelter.kbs.resource and shelter.kbs.pin go together");
  if (release_keys != 0) {
    KeyReleaseParams k;
    k.cipher = std::string(found["crypt"]);
    k.tee = std::string(found["tee"]);
    k.resource = std::string(found["kbs.resource"]);
    k.broker_key_sha256 = parse_hex("kbs.pin", found["kbs.pin"]);
    check(k);
    params.key_release = std::move(k);
  }
  return params;
}

}  // namespace shelter::images
