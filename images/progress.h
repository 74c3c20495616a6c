#pragma once
// Progress of long build steps. The builder reports to a ProgressSink; the
// CLI shows a bar only when stderr is a terminal.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace shelter::images {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void begin(std::string_view step, uint64_t total_bytes) = 0;
  // Thread-safe: workers report as they finish items.
  virtual void advance(uint64_t bytes) = 0;
  virtual void end() = 0;
};

// A one-line bar redrawn on a terminal's stderr, at most ten times a second.
class TerminalProgress : public ProgressSink {
 public:
  void begin(std::string_view step, uint64_t total_bytes) override;
  void advance(uint64_t bytes) override;
  void end() override;

 private:
  void draw(uint64_t done);

  std::mutex mutex_;
  std::string step_;
  uint64_t total_ = 0;
  std::atomic<uint64_t> done_{0};
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace shelter::images
