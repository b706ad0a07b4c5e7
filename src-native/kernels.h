// Loops over mapped memory: strided sum, strided copy-out and gather. Plain
// C++ (no Node-API). Each call checks that every element it will touch lies
// inside the region, then runs under a SIGBUS guard (guarded() in
// mapping.h), so a page lost to truncation or an I/O error becomes an error
// return instead of killing the process. Returns 0 or a negative errno:
// -ERANGE for a view outside the region, kBusError for SIGBUS.
#pragma once

#include <cstdint>

#include "dtypes.h"
#include "mapping.h"
#include "threads.h"

namespace memmap {

constexpr int kMaxDims = 64;

// An n-d view of the region's bytes: element [i0, i1, …] is at
// region.data + offset + Σ i_k * strides[k] (strides in bytes, may be negative).
struct StridedView {
  uint64_t offset = 0;
  int ndim = 0;
  uint64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

// Sum of every element, tagged with what it holds. Floats and float16
// accumulate in double in numpy's order (bit for bit its sum(dtype=float64);
// complex: complex128): kFloat in `re`, kComplex in `re`/`im`. Integers and
// bool accumulate in 64 bits, wrapping like numpy's int64/uint64 sum:
// kSmallInt in `i` (bool and types of at most 32 bits, whose sums lib/
// returns as a number), kInt64 in `i`, kUint64 in `u`.
struct SumResult {
  enum class Kind { kFloat, kComplex, kSmallInt, kInt64, kUint64 };
  Kind kind = Kind::kFloat;
  double re = 0;
  double im = 0;
  int64_t i = 0;
  uint64_t u = 0;
};

// `swap`: the bytes are not in this machine's order.
// `threads`: 0 = default_threads(), 1 = this thread only; the result does not
// depend on it. `cancel` (optional) is checked between slices (-ECANCELED).
int sum_view(const Region& region, ElemType type, bool swap, const StridedView& view, SumResult* out, int threads = 0,
             const CancelFlag* cancel = nullptr);

// Copies the view's elements in C order of the view into `dst` (size × itemsize
// bytes), converting to this machine's byte order when `swap`. `cancel` as
// sum_view's.
int copy_view(const Region& region, ElemType type, bool swap, const StridedView& view, uint8_t* dst,
              const CancelFlag* cancel = nullptr);

// Byte offsets of the elements at coordinates coords[d][k] (d < ndim, k <
// count) of an array with `shape` and byte `strides`, numpy style: negative
// coordinates count from the end. Returns -EINVAL for a coordinate that is not
// an integer, -ERANGE for one out of bounds; *bad gets its position k and
// *bad_axis its axis.
int coords_to_offsets(const double* const* coords, int ndim, const uint64_t* shape, const int64_t* strides,
                      uint64_t count, uint64_t* offsets, uint64_t* bad, int* bad_axis);

// Copies the elements at byte offsets `offsets[0..count)` into `dst`.
int gather(const Region& region, ElemType type, bool swap, const uint64_t* offsets, uint64_t count, uint8_t* dst,
           const CancelFlag* cancel = nullptr);

// Makes the pages the view's elements (of `itemsize` bytes) occupy resident:
// asks the kernel to read them ahead (madvise WILLNEED), then reads one byte
// of each, so it returns once they are in memory.
int touch_view(const Region& region, const StridedView& view, unsigned itemsize, const CancelFlag* cancel = nullptr);

// Whether this x86-64 CPU and OS run AVX2 code (false elsewhere; cached).
bool cpu_has_avx2();

}  // namespace memmap
