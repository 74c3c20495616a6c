#pragma once
// Spreads independent work items over the machine's cores.
#include <atomic>
#include <cstdint>
#include <functional>

namespace shelter::images {

// Threads parallel_for uses: one per core.
unsigned worker_count();

// Runs work(worker, item) for every item in [0, count) on worker_count()
// threads; worker in [0, worker_count()) lets callers keep per-thread buffers.
// The first exception stops the remaining items and is rethrown here. When
// cancel becomes true, no new item starts and Error("interrupted") is thrown.
void parallel_for(uint64_t count, const std::function<void(unsigned worker, uint64_t item)>& work,
                  const std::atomic<bool>* cancel = nullptr);

}  // namespace shelter::images
