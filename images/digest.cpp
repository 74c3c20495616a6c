#include "images/digest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"

namespace shelter::images {
namespace {

const EVP_MD* sha256_md() {
  // Fetched once: implicit fetches on every EVP_DigestInit cost more than hashing a block.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw Error("OpenSSL has no SHA-256");
  return md;
}

void check_openssl(int ok, const char* what) {
  if (ok != 1) throw Error(std::string("OpenSSL ") + what + " failed");
}

}  // namespace

Sha256Digest sha256(std::span<const uint8_t> bytes) {
  Sha256Digest out{};
  unsigned int size = 0;
  check_openssl(EVP_Digest(bytes.data(), bytes.size(), out.data(), &size, sha256_md(), nullptr),
                "SHA-256");
  return out;
}

Sha256Digest sha256_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw SystemError("cannot open " + path.string(), errno);
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw Error("OpenSSL: out of memory");
  check_openssl(EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr), "SHA-256");
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw SystemError("cannot read " + path.string(), errno);
    if (n == 0) break;
    check_openssl(EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(n)), "SHA-256");
  }
  Sha256Digest out{};
  check_openssl(EVP_DigestFinal_ex(ctx.get(), out.data(), nullptr), "SHA-256");
  return out;
}

SaltedBlockHasher::SaltedBlockHasher(std::span<const uint8_t> salt)
    : salted_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new()) {
  if (!salted_ || !work_) throw Error("OpenSSL: out of memory");
  check_openssl(EVP_DigestInit_ex(salted_.get(), sha256_md(), nullptr), "SHA-256");
  check_openssl(EVP_DigestUpdate(salted_.get(), salt.data(), salt.size()), "SHA-256");
}

Sha256Digest SaltedBlockHasher::hash(std::span<const uint8_t> block) {
  check_openssl(EVP_MD_CTX_copy_ex(work_.get(), salted_.get()), "SHA-256");
  check_openssl(EVP_DigestUpdate(work_.get(), block.data(), block.size()), "SHA-256");
  Sha256Digest out{};
  check_openssl(EVP_DigestFinal_ex(work_.get(), out.data(), nullptr), "SHA-256");
  return out;
}

}  // namespace shelter::images
