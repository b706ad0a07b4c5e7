// Pieces of numpy's float sum shared by the kernels over one view (kernels.cc)
// and over a grid of chunks (chunked.cc). Plain C++, no Node-API.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "mapping.h"
#include "threads.h"

namespace memmap {
namespace sumdetail {

// Byte order.
template <typename T>
inline T byteswapped(T v) {
  if constexpr (sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8) {
    using U = std::conditional_t<sizeof(T) == 2, uint16_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
    U u;
    std::memcpy(&u, &v, sizeof(T));
    if constexpr (sizeof(T) == 2)
      u = __builtin_bswap16(u);
    else if constexpr (sizeof(T) == 4)
      u = __builtin_bswap32(u);
    else
      u = __builtin_bswap64(u);
    std::memcpy(&v, &u, sizeof(T));
  } else {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    std::reverse(b, b + sizeof(T));
    std::memcpy(&v, b, sizeof(T));
  }
  return v;
}

template <typename T, bool Swap>
inline T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (Swap) v = byteswapped(v);
  return v;
}

// numpy's float sum: see kernels.cc for how its order is reproduced.
constexpr uint64_t kBufSize = 8192;  // NPY_BUFSIZE
constexpr uint64_t kBlock = 128;     // PW_BLOCKSIZE
// Longest pairwise subtree (in scalars) one task sums; longer runs are split
// where numpy's recursion splits them.
constexpr uint64_t kLeaf = uint64_t{1} << 20;
// (Runs that long are never buffered: kLeaf is above any chunk's size.)

struct BlockLoops {
  void (*f32)(const float*, uint64_t, double*);
  void (*f64)(const double*, uint64_t, double*);
};
// The block loops for this CPU (AVX2 when it has it).
const BlockLoops& block_loops();

// Where pairwise() reads scalar i of a run (complex: re, im interleaved).
template <typename T>
struct Packed {  // T = float or double, this machine's order, aligned
  const T* a;
  void (*loop)(const T*, uint64_t, double*);
  double at(uint64_t i) const { return static_cast<double>(a[i]); }
  void block(uint64_t i, uint64_t m, double* r) const { loop(a + i, m, r); }
};

struct Pair {
  double re = 0;
  double im = 0;
};

// numpy's pairwise_sum over n scalars from scalar i: DOUBLE_pairwise_sum, or
// CDOUBLE_pairwise_sum (n = 2 × elements) when Complex.
template <bool Complex, typename Src>
Pair pairwise(const Src& s, uint64_t i, uint64_t n) {
  Pair res;
  if (n < 8) {
    res.re = -0.0;  // a sum of -0.0 stays -0.0
    res.im = -0.0;
    for (uint64_t k = 0; k < n; k += Complex ? 2 : 1) {
      res.re += s.at(i + k);
      if (Complex) res.im += s.at(i + k + 1);
    }
    return res;
  }
  if (n <= kBlock) {
    double r[8];
    const uint64_t m = n - n % 8;
    s.block(i, m, r);
    if (Complex) {
      res.re = (r[0] + r[2]) + (r[4] + r[6]);
      res.im = (r[1] + r[3]) + (r[5] + r[7]);
    } else {
      res.re = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    }
    for (uint64_t k = m; k < n; k += Complex ? 2 : 1) {
      res.re += s.at(i + k);
      if (Complex) res.im += s.at(i + k + 1);
    }
    return res;
  }
  uint64_t n2 = n / 2;
  n2 -= n2 % 8;
  const Pair a = pairwise<Complex>(s, i, n2);
  const Pair b = pairwise<Complex>(s, i + n2, n - n2);
  res.re = a.re + b.re;
  res.im = a.im + b.im;
  return res;
}

// numpy's split of a run of n scalars longer than `leaf` into subtrees of at most `leaf` (kLeaf by default).
inline void split_leaves(uint64_t off, uint64_t n, std::vector<std::pair<uint64_t, uint64_t>>* out,
                         uint64_t leaf = kLeaf) {
  if (n <= leaf) {
    out->emplace_back(off, n);
    return;
  }
  uint64_t n2 = n / 2;
  n2 -= n2 % 8;
  split_leaves(off, n2, out, leaf);
  split_leaves(off + n2, n - n2, out, leaf);
}

// Adds the leaf sums of a run of n scalars back up the same tree.
inline Pair combine_leaves(uint64_t n, const Pair* leaves, uint64_t* next) {
  if (n <= kLeaf) return leaves[(*next)++];
  uint64_t n2 = n / 2;
  n2 -= n2 % 8;
  const Pair a = combine_leaves(n2, leaves, next);
  const Pair b = combine_leaves(n - n2, leaves, next);
  return Pair{a.re + b.re, a.im + b.im};
}

// Runs fn(t) for t in [0, count) on up to `threads` threads, each call inside
// guarded() on its thread after pre(t) (0 or an error) outside it. Stops early
// on an error, a fault or `cancel`; returns the first error.
template <typename Pre, typename Fn>
int run_guarded(uint64_t count, int threads, const CancelFlag* cancel, Pre& pre, Fn& fn) {
  struct Call {
    Fn* fn;
    uint64_t t;
  };
  std::atomic<int> err{0};
  auto task = [&](uint64_t t) {
    if (err.load(std::memory_order_relaxed) != 0) return;
    int rc = 0;
    if (cancelled(cancel)) rc = -ECANCELED;
    if (rc == 0) rc = pre(t);
    if (rc == 0) {
      Call call{&fn, t};
      rc = guarded(
          [](void* ctx) {
            auto* c = static_cast<Call*>(ctx);
            (*c->fn)(c->t);
          },
          &call);
    }
    int none = 0;
    if (rc != 0) err.compare_exchange_strong(none, rc);
  };
  parallel_for(count, threads, task);
  return err.load();
}

}  // namespace sumdetail
}  // namespace memmap
