#pragma once
// The guest kernel and its initramfs: guest-init as /init plus the closure of
// kernel modules it loads (images::kGuestModules) with a reduced module
// index. The archive is a newc cpio with fixed owners, times, inode numbers
// and order, so the same inputs give the same bytes (it is measured).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace shelter::images {

struct GuestKernel {
  std::filesystem::path kernel;       // bzImage
  std::string release;                // as `uname -r` reports it in the guest
  std::filesystem::path modules_dir;  // /lib/modules/<release>
};

// `kernel` unset: the newest /boot/vmlinuz-*. The release comes from the
// file name (vmlinuz-<release>) and the modules from /lib/modules/<release>
// unless modules_dir is given (then the release is its last component).
// Throws Error naming what is missing.
GuestKernel find_guest_kernel(const std::optional<std::filesystem::path>& kernel,
                              const std::optional<std::filesystem::path>& modules_dir);

std::vector<uint8_t> build_initramfs(const std::filesystem::path& guest_init, const GuestKernel& kernel);

}  // namespace shelter::images
