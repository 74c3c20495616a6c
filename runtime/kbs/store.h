#pragma once
// The broker's resources and their policies, persisted in one folder:
//   <dir>/resources/<repository>/<type>/<tag>       the secret bytes
//   <dir>/policies/<repository>/<type>/<tag>.json   its policy (optional)
//   <dir>/token-key.pem                             the token signing key
// Folders are 0700 and files 0600; every write is atomic (temporary file,
// fsync, rename), so a broker that dies mid-write leaves the old value.
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attest/crypto.h"
#include "attest/kbs/appraisal.h"
#include "attest/kbs/protocol.h"

namespace shelter::runtime::kbs {

inline constexpr size_t kMaxResourceSize = 1 << 20;

class ResourceStore {
 public:
  explicit ResourceStore(std::filesystem::path dir);

  void put_resource(const attest::kbs::ResourceId& id, std::span<const uint8_t> bytes) const;
  std::optional<std::vector<uint8_t>> resource(const attest::kbs::ResourceId& id) const;
  // Validates the policy before storing it; throws KbsProtocolError.
  void put_policy(const attest::kbs::ResourceId& id, std::string_view policy_json) const;
  // The resource's policy, or the default one when it has none.
  attest::kbs::ResourcePolicy policy(const attest::kbs::ResourceId& id) const;
  // The token signing key, created on first use.
  attest::EvpPkeyPtr token_key() const;

 private:
  std::filesystem::path file_for(const char* kind, const attest::kbs::ResourceId& id, const char* suffix) const;
  void make_private_dirs(const std::filesystem::path& leaf_dir) const;
  std::filesystem::path dir_;
};

}  // namespace shelter::runtime::kbs
