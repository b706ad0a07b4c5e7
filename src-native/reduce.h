// numpy's reductions over a strided view, along any set of axes. Plain C++
// (no Node-API). Same contract as kernels.h: every element touched is checked
// to lie in the region first, the loops run under the SIGBUS guard, and the
// return is 0 or a negative errno (-ERANGE view outside the region, kBusError,
// -ECANCELED when `cancel` was set, -EDOM an all-NaN slice for nanargmin/
// nanargmax, -EINVAL bad arguments or an empty reduction of an op without identity).
#pragma once

#include <cstdint>

#include "dtypes.h"
#include "kernels.h"
#include "mapping.h"
#include "threads.h"

namespace memmap {

// X(enumerator, name lib/ uses). Listed once: the enum and the table the addon
// reports (native.tables.reductions) come from it.
#define MEMMAP_REDUCTIONS(X)        \
  X(kSum, "sum")                    \
  X(kProd, "prod")                  \
  X(kMean, "mean")                  \
  X(kVar, "var")                    \
  X(kMin, "min")                    \
  X(kMax, "max")                    \
  X(kArgmin, "argmin")              \
  X(kArgmax, "argmax")              \
  X(kAny, "any")                    \
  X(kAll, "all")                    \
  X(kCountNonzero, "count_nonzero") \
  X(kNansum, "nansum")              \
  X(kNanmean, "nanmean")            \
  X(kNanvar, "nanvar")              \
  X(kNanmin, "nanmin")              \
  X(kNanmax, "nanmax")              \
  X(kNanargmin, "nanargmin")        \
  X(kNanargmax, "nanargmax")

#define MEMMAP_REDUCTION_ENUMERATOR(e, ...) e,
enum class ReduceOp : int { MEMMAP_REDUCTIONS(MEMMAP_REDUCTION_ENUMERATOR) };
#undef MEMMAP_REDUCTION_ENUMERATOR
#define MEMMAP_REDUCTION_COUNT(...) +1
constexpr int kReduceOpCount = 0 MEMMAP_REDUCTIONS(MEMMAP_REDUCTION_COUNT);
#undef MEMMAP_REDUCTION_COUNT
#define MEMMAP_REDUCTION_NAME(e, name) name,
constexpr const char* kReduceOpNames[] = {MEMMAP_REDUCTIONS(MEMMAP_REDUCTION_NAME)};
#undef MEMMAP_REDUCTION_NAME

struct ReduceArgs {
  ElemType type = ElemType::kFloat64;  // stored element type
  bool swap = false;                   // stored bytes are not in this machine's order
  // Dims [0, nkeep) are kept (the result is C order over them), dims
  // [nkeep, view.ndim) are reduced; arg ops return the flat index in C order
  // over the reduced dims as given.
  StridedView view;
  int nkeep = 0;
  ReduceOp op = ReduceOp::kSum;
  // Type of each result element, in this machine's byte order. Also the
  // accumulator for sum/prod/mean/var and their nan twins: float32 and
  // complex64 accumulate in single precision, other floats and complex in
  // double, integers in 64 bits (wrapping; truncated to the result type, which
  // equals accumulating in it). Fixed for the others: min/max the input type,
  // argmin/argmax int64, any/all bool, count_nonzero int64.
  ElemType out_type = ElemType::kFloat64;
  double ddof = 0;  // var/nanvar: divide by n - ddof
  int threads = 0;  // 0: default_threads(); 1: this thread only
  const CancelFlag* cancel = nullptr;
};

// Writes prod(view.shape[0..nkeep)) results of out_type into `dst`.
int reduce_view(const Region& region, const ReduceArgs& args, uint8_t* dst);

// One block of reduce_blocks(): a view of `region` (args.ndim axes; shape
// and strides point into the caller's arrays), its results at dst + dst_offset.
struct ReduceBlock {
  const Region* region = nullptr;
  bool swap = false;
  bool mapped = false;  // a file mapping: its bytes are asked for ahead (MADV_WILLNEED) before they are read
  uint64_t offset = 0;
  const uint64_t* shape = nullptr;
  const int64_t* strides = nullptr;
  uint64_t dst_offset = 0;
};

// reduce_view() of each block with `args` (its view and swap replaced by the
// block's), the blocks spread over args.threads threads, each block on one:
// a Zarr array's chunks in one call. Mapped blocks' bytes are requested about
// 32 MiB ahead of the blocks being reduced (chunk mappings are advised random). Returns 0, or the error of the first
// block in order that failed (its index in *failed).
int reduce_blocks(const ReduceBlock* blocks, size_t count, int ndim, const ReduceArgs& args, uint8_t* dst,
                  size_t* failed);

}  // namespace memmap
