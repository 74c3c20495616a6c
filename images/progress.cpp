#include "images/progress.h"

#include <cstdio>

namespace shelter::images {

void TerminalProgress::begin(std::string_view step, uint64_t total_bytes) {
  std::lock_guard lock(mutex_);
  step_ = step;
  total_ = total_bytes;
  done_ = 0;
  last_draw_ = {};
}

void TerminalProgress::advance(uint64_t bytes) {
  uint64_t done = done_.fetch_add(bytes) + bytes;
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done);
}

void TerminalProgress::end() {
  std::lock_guard lock(mutex_);
  draw(total_);
  std::fputc('\n', stderr);
}

void TerminalProgress::draw(uint64_t done) {
  constexpr int kWidth = 30;
  unsigned percent = total_ == 0 ? 100 : static_cast<unsigned>(std::min<uint64_t>(done, total_) * 100 / total_);
  int filled = static_cast<int>(percent) * kWidth / 100;
  std::fprintf(stderr, "\r%-12s [%.*s%*s] %3u%%", step_.c_str(), filled,
               "##############################", kWidth - filled, "", percent);
  std::fflush(stderr);
}

}  // namespace shelter::images
