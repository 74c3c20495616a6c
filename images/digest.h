#pragma once
// SHA-256 through OpenSSL EVP, with the algorithm fetched once.
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace shelter::images {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(std::span<const uint8_t> bytes);
// Streams a file through SHA-256; throws Error naming the file.
Sha256Digest sha256_file(const std::filesystem::path& path);

// Hashes many blocks as SHA-256(salt || block), as dm-verity format 1 does;
// the salted state is computed once and copied for each block. One per thread.
class SaltedBlockHasher {
 public:
  explicit SaltedBlockHasher(std::span<const uint8_t> salt);
  Sha256Digest hash(std::span<const uint8_t> block);

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> salted_;
  std::unique_ptr<EVP_MD_CTX, CtxFree> work_;
};

}  // namespace shelter::images
