#include "images/crypt.h"

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <vector>

#include "common/error.h"
#include "images/block_io.h"
#include "images/parallel.h"

namespace shelter::images {
namespace {

constexpr uint64_t kChunkSize = 1 << 20;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

CipherCtx make_xts_context(std::span<const uint8_t, kXtsKeySize> key) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw Error("OpenSSL: out of memory");
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_xts(), nullptr, key.data(), nullptr) != 1)
    throw Error("OpenSSL refused the AES-256-XTS key");
  return ctx;
}

void encrypt_sector(EVP_CIPHER_CTX* ctx, uint64_t sector, std::span<const uint8_t> in, uint8_t* out) {
  uint8_t iv[16] = {};
  for (int i = 0; i < 8; ++i) iv[i] = static_cast<uint8_t>(sector >> (8 * i));
  int written = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) != 1 ||
      EVP_EncryptUpdate(ctx, out, &written, in.data(), static_cast<int>(in.size())) != 1 ||
      written != static_cast<int>(in.size()))
    throw Error("AES-256-XTS encryption failed");
}

}  // namespace

void encrypt_xts_plain64(int in_fd, uint64_t in_offset, uint64_t size, int out_fd, uint64_t out_offset,
                         std::span<const uint8_t, kXtsKeySize> key, ProgressSink* progress,
                         const std::atomic<bool>* cancel) {
  if (size % kCryptSectorSize != 0) throw Error("the encrypted area is not a whole number of sectors");
  const unsigned workers = worker_count();
  std::vector<CipherCtx> contexts(workers);
  std::vector<std::vector<uint8_t>> plain(workers), cipher(workers);
  if (progress != nullptr) progress->begin("encrypting", size);
  parallel_for(
      (size + kChunkSize - 1) / kChunkSize,
      [&](unsigned worker, uint64_t chunk) {
        if (!contexts[worker]) {
          contexts[worker] = make_xts_context(key);
          plain[worker].resize(kChunkSize);
          cipher[worker].resize(kChunkSize);
        }
        uint64_t start = chunk * kChunkSize;
        uint64_t length = std::min(kChunkSize, size - start);
        std::span<uint8_t> in(plain[worker].data(), length);
        read_exact_at(in_fd, in, in_offset + start, "the filesystem");
        for (uint64_t done = 0; done < length; done += kCryptSectorSize)
          encrypt_sector(contexts[worker].get(), (start + done) / kCryptSectorSize,
                         in.subspan(done, kCryptSectorSize), cipher[worker].data() + done);
        write_all_at(out_fd, {cipher[worker].data(), length}, out_offset + start, "the image");
        if (progress != nullptr) progress->advance(length);
      },
      cancel);
  if (progress != nullptr) progress->end();
}

}  // namespace shelter::images
