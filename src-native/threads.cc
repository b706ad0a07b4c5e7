// Per-call native threads (see threads.h).
#include "threads.h"

#include <cstdlib>
#include <thread>
#include <vector>

namespace memmap {

int default_threads() {
  const char* env = std::getenv("MEMMAP_THREADS");
  if (env != nullptr) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0) return n > 256 ? 256 : static_cast<int>(n);
  }
  unsigned hw = std::thread::hardware_concurrency();
  if (hw == 0) hw = 1;
  return hw > 16 ? 16 : static_cast<int>(hw);
}

void parallel_for(uint64_t count, int threads, void (*task)(void* ctx, uint64_t i), void* ctx) {
  if (threads <= 0) threads = default_threads();
  uint64_t n = static_cast<uint64_t>(threads);
  if (n > count) n = count;
  if (n <= 1) {
    for (uint64_t i = 0; i < count; i++) task(ctx, i);
    return;
  }
  std::atomic<uint64_t> next{0};
  auto work = [&] {
    for (uint64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) task(ctx, i);
  };
  std::vector<std::thread> pool;
  pool.reserve(n - 1);
  for (uint64_t t = 1; t < n; t++) {
    try {
      pool.emplace_back(work);
    } catch (...) {
      break;  // no more threads: the ones we have (and this one) do the rest
    }
  }
  work();
  for (auto& t : pool) t.join();
}

}  // namespace memmap
