// Chunked copies (chunk_copy.h): each part is simplified (axes of length 1
// dropped, axes contiguous on both sides merged), then copied row by row: a
// memcpy where both rows are contiguous and need no byte swap.
#include "chunk_copy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "threads.h"

namespace memmap {
namespace {

// Bytes asked for ahead of the copy: enough to keep a disk busy, little enough
// to stay in the page cache (lib/zarr-prefetch.ts AHEAD_BYTES, for the other walks).
constexpr uint64_t kAheadBytes = uint64_t{32} << 20;
constexpr int64_t kMaxSafe = int64_t{1} << 53;
// Copies of at least this many bytes run on several threads.
constexpr unsigned __int128 kThreadedCopyBytes = uint64_t{8} << 20;

// Byte span [lo, hi] of the first bytes of a box's elements relative to its first
// element; false for an extent or stride past 2^53.
bool span_of(int ndim, const uint64_t* shape, const int64_t* strides, __int128* lo, __int128* hi) {
  *lo = 0;
  *hi = 0;
  for (int k = 0; k < ndim; k++) {
    if (shape[k] > static_cast<uint64_t>(kMaxSafe) || strides[k] > kMaxSafe || strides[k] < -kMaxSafe) return false;
    const __int128 s = static_cast<__int128>(shape[k] - 1) * strides[k];
    if (s < 0)
      *lo += s;
    else
      *hi += s;
  }
  return true;
}

bool empty(int ndim, const uint64_t* shape) {
  for (int k = 0; k < ndim; k++)
    if (shape[k] == 0) return true;
  return false;
}

// One row: n elements from src (stride s) to dst (stride t), bytes.
template <unsigned Size>
void copy_row(uint8_t* dst, int64_t t, const uint8_t* src, int64_t s, uint64_t n) {
  if (s == Size && t == Size) {
    std::memcpy(dst, src, n * Size);
    return;
  }
  for (uint64_t i = 0; i < n; i++)
    std::memcpy(dst + static_cast<int64_t>(i) * t, src + static_cast<int64_t>(i) * s, Size);
}

void copy_row_any(uint8_t* dst, int64_t t, const uint8_t* src, int64_t s, uint64_t n, unsigned size, unsigned unit) {
  if (unit <= 1) {
    switch (size) {
      case 1:
        return copy_row<1>(dst, t, src, s, n);
      case 2:
        return copy_row<2>(dst, t, src, s, n);
      case 4:
        return copy_row<4>(dst, t, src, s, n);
      case 8:
        return copy_row<8>(dst, t, src, s, n);
      case 16:
        return copy_row<16>(dst, t, src, s, n);
      default:
        break;
    }
  }
  for (uint64_t i = 0; i < n; i++)
    copy_elem(dst + static_cast<int64_t>(i) * t, src + static_cast<int64_t>(i) * s, size, unit);
}

struct Job {
  const ChunkPart* parts;
  uint64_t count;
  int ndim;
  unsigned size;
  unsigned unit;  // byte-swap unit of a part whose bytes are swapped (parts differ: a fill value is native)
  const int64_t* dst_strides;
  uint8_t* dst;
};

// The bytes a mapped part touches, [from, from + length).
void extent(const Job& j, const ChunkPart& p, const uint8_t** from, uint64_t* length) {
  __int128 lo, hi;
  span_of(j.ndim, p.shape, p.src_strides, &lo, &hi);  // checked before the job
  *from = p.region->data + static_cast<int64_t>(p.src) + static_cast<int64_t>(lo);
  *length = static_cast<uint64_t>(hi - lo) + j.size;
}

void copy_part(const Job& j, const ChunkPart& p) {
  // Simplified axes: extent, source and destination strides.
  uint64_t shape[kMaxDims];
  int64_t ss[kMaxDims];
  int64_t ds[kMaxDims];
  int n = 0;
  for (int k = 0; k < j.ndim; k++) {
    const uint64_t len = p.shape[k];
    if (len == 1) continue;
    const int64_t s = p.src_strides[k];
    const int64_t t = j.dst_strides[k];
    if (n > 0 && ss[n - 1] == s * static_cast<int64_t>(len) && ds[n - 1] == t * static_cast<int64_t>(len)) {
      shape[n - 1] *= len;
      ss[n - 1] = s;
      ds[n - 1] = t;
    } else {
      shape[n] = len;
      ss[n] = s;
      ds[n] = t;
      n++;
    }
  }
  const uint8_t* src = p.region->data + p.src;
  uint8_t* dst = j.dst + p.dst;
  const unsigned unit = p.swap ? j.unit : 0;
  if (n == 0) {
    copy_elem(dst, src, j.size, unit);
    return;
  }
  const int inner = n - 1;
  uint64_t idx[kMaxDims] = {};
  int64_t so = 0;
  int64_t to = 0;
  for (;;) {
    copy_row_any(dst + to, ds[inner], src + so, ss[inner], shape[inner], j.size, unit);
    int k = inner - 1;
    for (; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        so += ss[k];
        to += ds[k];
        break;
      }
      idx[k] = 0;
      so -= ss[k] * static_cast<int64_t>(shape[k] - 1);
      to -= ds[k] * static_cast<int64_t>(shape[k] - 1);
    }
    if (k < 0) return;
  }
}

// Copies every part, keeping up to kAheadBytes of the mapped parts after the
// current one requested (one madvise per run of parts that share pages).
void run(void* ctx) {
  const Job& j = *static_cast<const Job*>(ctx);
  const uint64_t ps = page_size();
  uint64_t next = 0;   // first part not yet requested
  uint64_t ahead = 0;  // bytes requested and not yet copied
  for (uint64_t i = 0; i < j.count; i++) {
    const ChunkPart& p = j.parts[i];
    if (empty(j.ndim, p.shape)) continue;
    if (next <= i || ahead < kAheadBytes / 2) {
      const Region* region = nullptr;
      const uint8_t* from = nullptr;
      uint64_t length = 0;
      for (; next < j.count && (next <= i || ahead < kAheadBytes); next++) {
        const ChunkPart& q = j.parts[next];
        if (!q.mapped || empty(j.ndim, q.shape)) continue;
        const uint8_t* f;
        uint64_t len;
        extent(j, q, &f, &len);
        ahead += len;
        // Pages that touch the pending range join it.
        const uintptr_t end = reinterpret_cast<uintptr_t>(from) + length;
        const uintptr_t at = reinterpret_cast<uintptr_t>(f);
        if (region == q.region && at / ps <= (end + ps - 1) / ps && at >= reinterpret_cast<uintptr_t>(from)) {
          if (at + len > end) length = at + len - reinterpret_cast<uintptr_t>(from);
          continue;
        }
        if (region != nullptr) prefetch(*region, from, length);
        region = q.region;
        from = f;
        length = len;
      }
      if (region != nullptr) prefetch(*region, from, length);
    }
    copy_part(j, p);
    if (p.mapped) {
      const uint8_t* f;
      uint64_t len;
      extent(j, p, &f, &len);
      ahead = ahead > len ? ahead - len : 0;
    }
  }
}

}  // namespace

int copy_chunk_parts(const ChunkPart* parts, uint64_t count, int ndim, ElemType type, const int64_t* dst_strides,
                     uint8_t* dst, uint64_t dst_length) {
  const unsigned size = elem_size(type);
  if (size == 0 || ndim < 0 || ndim > kMaxDims) return -EINVAL;
  __int128 dlo, dhi;
  for (uint64_t i = 0; i < count; i++) {
    const ChunkPart& p = parts[i];
    if (p.region == nullptr) return -EINVAL;
    if (empty(ndim, p.shape)) continue;
    __int128 lo, hi;
    if (!span_of(ndim, p.shape, p.src_strides, &lo, &hi) || !span_of(ndim, p.shape, dst_strides, &dlo, &dhi))
      return -ERANGE;
    const __int128 src = p.src;
    if (src + lo < 0 || src + hi + size > static_cast<__int128>(p.region->length)) return -ERANGE;
    const __int128 at = p.dst;
    if (at + dlo < 0 || at + dhi + size > static_cast<__int128>(dst_length)) return -ERANGE;
  }
  Job job{parts, count, ndim, size, swap_unit(type, true), dst_strides, dst};
  // Large copies spread their parts over threads, in slices of about equal bytes (parts never share destination
  // bytes); small ones stay on this thread (a block read is tens of microseconds, a thread start about as much).
  std::vector<unsigned __int128> upto(count + 1, 0);  // bytes of parts [0, i)
  for (uint64_t i = 0; i < count; i++) {
    unsigned __int128 n = size;
    for (int k = 0; k < ndim; k++) n *= parts[i].shape[k];
    upto[i + 1] = upto[i] + n;
  }
  const unsigned __int128 total = upto[count];
  const int threads = total >= kThreadedCopyBytes && count > 1 ? default_threads() : 1;
  if (threads <= 1) return guarded(run, &job);
  const uint64_t slices = std::min<uint64_t>(count, static_cast<uint64_t>(threads) * 4);
  std::vector<uint64_t> ends;
  for (uint64_t i = 0; i < count; i++)
    if (upto[i + 1] * slices >= total * (ends.size() + 1) || i + 1 == count) ends.push_back(i + 1);
  std::vector<Job> jobs;
  for (uint64_t s = 0, from = 0; s < ends.size(); from = ends[s++]) {
    Job slice = job;
    slice.parts = parts + from;
    slice.count = ends[s] - from;
    jobs.push_back(slice);
  }
  std::vector<int> rcs(jobs.size(), 0);
  auto task = [&](uint64_t s) { rcs[s] = guarded(run, &jobs[s]); };
  parallel_for(jobs.size(), threads, task);
  for (int rc : rcs)
    if (rc != 0) return rc;
  return 0;
}

}  // namespace memmap
