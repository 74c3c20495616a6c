#include "vmm/devices/pseudo/boot_timer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace shelter::vmm::devices {

void BootTimer::read(uint64_t, std::span<uint8_t> data) { std::fill(data.begin(), data.end(), 0); }

void BootTimer::write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset != 0 || data[0] != kMagic) return;
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - vmm_start_);
  int64_t unset = -1;
  if (boot_time_us_.compare_exchange_strong(unset, elapsed.count()))
    spdlog::info("guest boot time: {} us since VMM start", elapsed.count());
}

std::optional<std::chrono::microseconds> BootTimer::boot_time() const {
  int64_t us = boot_time_us_.load();
  if (us < 0) return std::nullopt;
  return std::chrono::microseconds(us);
}

}  // namespace shelter::vmm::devices
