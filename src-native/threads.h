// Native threads for large kernels. Plain C++ (no Node-API). Threads are
// started per call (a few tens of microseconds, next to milliseconds of
// work) so concurrent calls from the libuv pool never wait on each other.
// Results must not depend on the thread count: callers split work into
// pieces whose boundaries do not depend on it and combine them in order.
#pragma once

#include <atomic>
#include <cstdint>

namespace memmap {

// The thread count used when a call passes 0: MEMMAP_THREADS if set to a
// positive integer, else the machine's hardware threads, at most 16.
int default_threads();

// Runs task(i) for i in [0, count) on up to `threads` threads (the caller's
// included; threads <= 0 means default_threads()). Each thread takes the
// next index in turn. Returns once every task has run.
void parallel_for(uint64_t count, int threads, void (*task)(void* ctx, uint64_t i), void* ctx);

template <typename Fn>
void parallel_for(uint64_t count, int threads, Fn& fn) {
  parallel_for(
      count, threads, [](void* ctx, uint64_t i) { (*static_cast<Fn*>(ctx))(i); }, &fn);
}

// A cancellation flag an async call shares with its kernel (nullptr: none).
// Kernels check it between slices and return -ECANCELED.
using CancelFlag = std::atomic<bool>;
inline bool cancelled(const CancelFlag* flag) { return flag != nullptr && flag->load(std::memory_order_relaxed); }

}  // namespace memmap
