#pragma once
// AES-256-XTS with dm-crypt's plain64 IVs: the IV of each 512-byte sector is
// its number, counted from the start of the encrypted area, as a 64-bit
// little-endian integer zero-padded to 16 bytes. A guest kernel's dm-crypt
// with "aes-xts-plain64" and this key reads the area back.
#include <atomic>
#include <cstdint>
#include <span>

#include "images/format.h"
#include "images/progress.h"

namespace shelter::images {

// Encrypts size bytes (a whole number of sectors) at in_offset of in_fd into
// out_fd at out_offset, streaming, on every core.
void encrypt_xts_plain64(int in_fd, uint64_t in_offset, uint64_t size, int out_fd, uint64_t out_offset,
                         std::span<const uint8_t, kXtsKeySize> key, ProgressSink* progress = nullptr,
                         const std::atomic<bool>* cancel = nullptr);

}  // namespace shelter::images
