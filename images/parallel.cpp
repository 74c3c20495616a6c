#include "images/parallel.h"

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "common/error.h"

namespace shelter::images {

unsigned worker_count() { return std::max(1u, std::thread::hardware_concurrency()); }

void parallel_for(uint64_t count, const std::function<void(unsigned, uint64_t)>& work,
                  const std::atomic<bool>* cancel) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto run = [&](unsigned worker) {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return;
      uint64_t item = next.fetch_add(1, std::memory_order_relaxed);
      if (item >= count) return;
      try {
        work(worker, item);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
        return;
      }
    }
  };
  unsigned threads = static_cast<unsigned>(std::min<uint64_t>(worker_count(), count));
  std::vector<std::jthread> pool;
  for (unsigned worker = 1; worker < threads; ++worker) pool.emplace_back(run, worker);
  run(0);
  pool.clear();  // joins
  if (first_error) std::rethrow_exception(first_error);
  if (cancel != nullptr && cancel->load()) throw Error("interrupted");
}

}  // namespace shelter::images
