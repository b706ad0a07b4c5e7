// Kernels over a selection whose elements live in many blocks: a Zarr array's
// chunks (windows of mapped shards, decoded chunks in memory, a fill value),
// each a strided view of its own bytes. Plain C++ (no Node-API). Same
// contract as kernels.h: every block is checked to lie in its bytes first,
// the loops run under the SIGBUS guard, and the return is 0 or a negative
// errno (-ERANGE a block outside its bytes, -EINVAL a grid that does not tile
// the selection or a type the kernel does not sum, kBusError, -ECANCELED).
#pragma once

#include <cstdint>
#include <vector>

#include "dtypes.h"
#include "kernels.h"
#include "mapping.h"
#include "threads.h"

namespace memmap {

struct GridBlock {
  const Region* region = nullptr;    // the bytes the block is a view of (a mapping is read ahead of the loop)
  bool swap = false;                 // not in this machine's byte order
  uint64_t offset = 0;               // byte offset of the block's first element in the region
  const int64_t* strides = nullptr;  // byte strides along the selection's axes (ndim of them, in ChunkGrid::strides)
};

// The selection (ndim >= 1) cut into a grid of blocks. Along axis d, block
// g covers positions [starts[d][g], starts[d][g + 1]); starts[d] rises from 0
// to the selection's extent. `blocks` lists the grid in C order.
struct ChunkGrid {
  int ndim = 0;
  std::vector<uint64_t> starts[kMaxDims];
  std::vector<GridBlock> blocks;
  // The blocks' strides, ndim per block: a grid of 2^16 blocks would zero 35 MB with kMaxDims strides in each.
  std::vector<int64_t> strides;
};

enum class GridSum {
  kSum,      // the elements
  kSquares,  // |element - mean|^2 in double (complex: x * conj(x)), var()'s sum
};

// Which part of numpy's sum over the whole selection (as if assembled into
// one C-order array of `total` elements, of which this grid holds elements
// [origin, origin + grid size)) a call computes, over elements [from, to):
// - buffered (numpy casts float16/float32/complex64 through its 8192-element
//   buffer): acc += pairwise(buffer) for each buffer in order, starting from
//   `acc`; `from` is a multiple of 8192, `to` one too or `total`;
// - else (float64/complex128; var's float64 squares): pairwise() over the
//   range, one subtree of numpy's tree (its split points depend on the range
//   only), returned in `acc`.
struct GridRange {
  uint64_t origin = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  uint64_t total = 0;
  bool buffered = false;
  double acc_re = 0;
  double acc_im = 0;
};

// numpy's float sums, bit for bit (see GridRange). Types other than float and
// complex give -EINVAL. Mapped blocks are read ahead one band (run of axis 0)
// in front of the loop. Threads never change the bits.
int sum_grid(const ChunkGrid& grid, ElemType type, GridSum what, double mean_re, double mean_im, GridRange* range,
             int threads = 0, const CancelFlag* cancel = nullptr);

}  // namespace memmap
