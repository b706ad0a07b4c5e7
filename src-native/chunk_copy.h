// Copies of a selection that spans many chunks (Zarr): every chunk's part goes
// straight to its place in one destination, in one call. Plain C++ (no
// Node-API); binding.cc's copyChunks() reads the arguments and pins the sources.
#pragma once

#include <cstdint>

#include "dtypes.h"
#include "kernels.h"
#include "mapping.h"

namespace memmap {

// One chunk's part of the selection: elements of `region` at byte `src`
// (strides `src_strides`, bytes, may be 0 for a broadcast fill value), going to
// byte `dst` of the destination (strides `dst_strides`, bytes, shared by every
// part), both over `shape`. `swap`: the source bytes are not in this machine's
// order. `mapped`: a file mapping, whose bytes are asked for (MADV_WILLNEED) a
// window ahead of the copy.
struct ChunkPart {
  const Region* region = nullptr;
  bool swap = false;
  bool mapped = false;
  uint64_t src = 0;
  uint64_t dst = 0;
  const uint64_t* shape = nullptr;
  const int64_t* src_strides = nullptr;
};

// Checks every part (source inside its region, destination inside
// [dst, dst + dst_length)) before anything is copied, then copies them under
// the SIGBUS guard (8 MiB or more: slices of parts on default_threads()). 0, -ERANGE (a part outside), -EINVAL (bad
// ndim or type), kBusError.
int copy_chunk_parts(const ChunkPart* parts, uint64_t count, int ndim, ElemType type, const int64_t* dst_strides,
                     uint8_t* dst, uint64_t dst_length);

}  // namespace memmap
