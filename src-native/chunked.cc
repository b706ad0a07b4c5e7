// numpy's float sums over a grid of blocks (see chunked.h). The order of the
// additions is numpy's over the assembled array; only where each element is
// read from differs. So the loops are sum_view's (sum_detail.h) with a source
// that finds element e in its block: a cursor over the current run of the
// last axis, found again (a few divisions and binary searches) only when a
// 128-scalar leaf leaves it.
#include "chunked.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "sum_detail.h"

namespace memmap {
namespace {

using namespace sumdetail;  // NOLINT(build/namespaces)

// Elements one thread task sums in a cast sum (whole buffers): a 16 MiB band of float32, so each block's part of
// it is one long run of memory (shorter ones measured slower: the hardware prefetcher restarts at each).
constexpr uint64_t kGridTaskElems = uint64_t{1} << 22;
// Bytes the prefetcher asks for ahead of the tasks running.
constexpr uint64_t kGridAheadBytes = uint64_t{512} << 20;
// Buffers per round of a cast sum: their partial sums are folded between rounds.
constexpr uint64_t kGridRoundUnits = uint64_t{1} << 16;
constexpr uint64_t kGridMaxElements = uint64_t{1} << 62;
// Widest row full_buffers() takes (its scratch holds about two rows of leaves, 8 bytes per 128 elements).
constexpr uint64_t kFastMaxWidth = uint64_t{1} << 24;
// Runs full_buffers() lists at a time (a few block columns): its per-thread list stays about 200 KiB.
constexpr uint64_t kSegBatch = 4096;

// Finds elements (C order over the selection) in their blocks.
struct GridIndex {
  const ChunkGrid* g = nullptr;
  int ndim = 0;
  uint64_t shape[kMaxDims] = {};
  uint64_t nruns[kMaxDims] = {};
  uint64_t size = 1;
  uint64_t per_band = 1;  // blocks per run of axis 0

  uint64_t run_of(int d, uint64_t pos) const {
    const auto& s = g->starts[d];
    return static_cast<uint64_t>(std::upper_bound(s.begin(), s.end(), pos) - s.begin()) - 1;
  }
  // Element e's address, and the run of the last axis it starts: `count`
  // elements from it at `stride`, all in one block.
  // `next_row`: the same run one step further along the axis before the last, when that is in the block (else nullptr).
  const uint8_t* locate(uint64_t e, int64_t* stride, bool* swap, uint64_t* count, const uint8_t** next_row) const {
    uint64_t c[kMaxDims];
    for (int d = ndim - 1; d >= 0; d--) {
      c[d] = e % shape[d];
      e /= shape[d];
    }
    uint64_t bi = 0;
    uint64_t o[kMaxDims];
    uint64_t last = 0;
    uint64_t prev = 0;
    for (int d = 0; d < ndim; d++) {
      const uint64_t r = run_of(d, c[d]);
      bi = bi * nruns[d] + r;
      o[d] = c[d] - g->starts[d][r];
      prev = last;
      last = r;
    }
    const GridBlock& b = g->blocks[bi];
    int64_t off = static_cast<int64_t>(b.offset);
    for (int d = 0; d < ndim; d++) off += static_cast<int64_t>(o[d]) * b.strides[d];
    *stride = b.strides[ndim - 1];
    *swap = b.swap;
    *count = g->starts[ndim - 1][last + 1] - c[ndim - 1];
    const uint8_t* p = b.region->data + off;
    *next_row = nullptr;
    if (ndim >= 2 && c[ndim - 2] + 1 < g->starts[ndim - 2][prev + 1]) *next_row = p + b.strides[ndim - 2];
    return p;
  }
  uint64_t band_of(uint64_t e) const { return run_of(0, e / (size / shape[0])); }
};

// Reads mapped blocks ahead of the loop: a band (run of axis 0) at a time,
// MADV_WILLNEED over each block's bytes, adjacent ranges of one region merged.
// The chunks' mappings are MADV_RANDOM, so without this every fault would
// read one page. Regions advised 'sequential' are populated (left to the kernel's read-ahead under huge pages).
struct GridPrefetcher {
  const GridIndex* ix = nullptr;
  const std::vector<std::pair<uint64_t, uint64_t>>* extents = nullptr;  // per block: byte [lo, hi) in its region
  std::mutex mu;
  uint64_t next_band = 0;

  uint64_t bands_ahead = 1;
  // Called before a task that ends at element e_end (exclusive): the band
  // holding it and about kGridAheadBytes after it are asked for.
  void ahead(uint64_t e_end) {
    const uint64_t want = std::min(ix->nruns[0], ix->band_of(e_end - 1) + 1 + bands_ahead);
    std::lock_guard<std::mutex> lock(mu);
    for (; next_band < want; next_band++) advise_band(next_band);
  }
  void advise_band(uint64_t band) {
    const Region* region = nullptr;
    uint64_t lo = 0;
    uint64_t hi = 0;
    const uint64_t gap = page_size();
    // Under advise('sequential') (chunk files a scan reads much of) the kernel's read-ahead streams the file in
    // large folios (MADV_WILLNEED's are page-sized; a cold scan measured 2-3x faster).
    auto flush = [&] {
      if (region == nullptr || hi <= lo) return;
      if (advice_of(*region) == Advice::kSequential) {
        // Under huge pages left to the kernel's read-ahead, which reads huge folios only from faults
        // (MADV_POPULATE_READ measured 2x slower cold, MADV_WILLNEED reads 4 KiB folios); without them (no THP,
        // Windows, macOS) mapped a band at a time in one call instead of a fault per 64 KiB.
        if (!huge_pages_of(*region)) populate(*region, region->data + lo, hi - lo);
      } else
        prefetch(*region, region->data + lo, hi - lo);
    };
    for (uint64_t bi = band * ix->per_band; bi < (band + 1) * ix->per_band; bi++) {
      const GridBlock& b = ix->g->blocks[bi];
      const auto& x = (*extents)[bi];
      if (b.region == region && x.first <= hi + gap && x.second + gap >= lo) {
        lo = std::min(lo, x.first);
        hi = std::max(hi, x.second);
        continue;
      }
      flush();
      region = b.region;
      lo = x.first;
      hi = x.second;
    }
    flush();
  }
};

// pairwise()'s source over the grid (one per task: the cursor is its own).
// Scalars are numbered as pairwise() counts them: a complex element is two
// (re, im) in a sum, one (|x - mean|^2) in a sum of squares.
template <typename Traits>
struct GridSrc {
  using Scalar = typename Traits::Scalar;
  static constexpr unsigned kLanes = Traits::kLanes;
  const GridIndex* ix;
  BlockLoops loops;
  bool squares;
  double mre;
  double mim;
  // Elements [lo, hi) are at p + (e - lo) * stride.
  mutable uint64_t lo = 1;
  mutable uint64_t hi = 0;
  mutable const uint8_t* p = nullptr;
  mutable int64_t stride = 0;
  mutable bool swap = false;

  const uint8_t* elem(uint64_t e) const {
    if (e < lo || e >= hi) {
      uint64_t n = 0;
      const uint8_t* next_row = nullptr;
      p = ix->locate(e, &stride, &swap, &n, &next_row);
      lo = e;
      hi = e + n;
      // The loop visits the other blocks of this row before it comes back to this block's next row: ask for that
      // row now (into L2), as the hardware prefetcher, which follows a few streams, cannot across many chunks.
      if (next_row != nullptr && stride == static_cast<int64_t>(Traits::kSize)) {
        const uint64_t bytes = n * Traits::kSize;
        for (uint64_t k = 0; k < bytes; k += 64) __builtin_prefetch(next_row + k, 0, 2);
      }
    }
    return p + static_cast<int64_t>(e - lo) * stride;
  }
  double scalar(const uint8_t* q, unsigned lane) const {
    const uint8_t* s = q + lane * sizeof(Scalar);
    return Traits::decode(swap ? load<Scalar, true>(s) : load<Scalar, false>(s));
  }
  double square(const uint8_t* q) const {
    if constexpr (kLanes == 2) {
      const double dr = scalar(q, 0) - mre;
      const double di = scalar(q, 1) - mim;
      return dr * dr - di * -di;  // (x * conj(x)).real, as numpy's _var
    } else {
      const double d = scalar(q, 0) - mre;
      return d * d;
    }
  }
  double at(uint64_t i) const {
    if (squares) return square(elem(i));
    return scalar(elem(i / kLanes), static_cast<unsigned>(i % kLanes));
  }
  // pairwise()'s block loop over scalars [i, i + m) (m <= kBlock, a multiple of 8).
  void block(uint64_t i, uint64_t m, double* r) const {
    const unsigned lanes = squares ? 1 : kLanes;
    const uint64_t e = i / lanes;
    const uint64_t count = m / lanes;
    const uint8_t* q = elem(e);
    if constexpr (std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value) {
      if (!squares && !swap && e + count <= hi && stride == static_cast<int64_t>(Traits::kSize) &&
          reinterpret_cast<uintptr_t>(q) % sizeof(Scalar) == 0) {
        if constexpr (std::is_same<Scalar, float>::value)
          loops.f32(reinterpret_cast<const float*>(q), m, r);
        else
          loops.f64(reinterpret_cast<const double*>(q), m, r);
        return;
      }
    }
    double buf[kBlock];
    for (uint64_t k = 0; k < count; k++) {
      const uint8_t* x = k == 0 ? q : elem(e + k);
      if (squares) {
        buf[k] = square(x);
      } else {
        for (unsigned l = 0; l < kLanes; l++) buf[k * kLanes + l] = scalar(x, l);
      }
    }
    loops.f64(buf, m, r);
  }
};

// Per-thread scratch of full_buffers(), sized outside guarded() (a fault must not abandon an allocation).
struct Segment {
  const uint8_t* p;
  uint64_t e0;
  uint64_t e1;
  uint64_t slot;  // where its first leaf goes in RowScratch::leaves
  bool fast;
};
struct RowScratch {
  std::vector<Segment> segs;     // per row and run of the last axis
  std::vector<uint64_t> prefix;  // per row: the block index without its last-axis run
  std::vector<uint64_t> within;  // per row, per axis before the last: the position in its run
  std::vector<double> leaves;
};

// The scratch is leased from a process-wide pool for one call: parallel_for's threads live for one call, so scratch
// local to them was allocated and faulted in again by every call (about 150 faults a call here, ~9 µs each).
class ScratchLease {
 public:
  ScratchLease() : id_(next_id().fetch_add(1, std::memory_order_relaxed) + 1) {}
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  ~ScratchLease() {
    Pool& pool = pool_of();
    std::lock_guard<std::mutex> lock(pool.mu);
    for (auto& s : held_)
      if (pool.free.size() < kKeep && bytes(*s) <= kKeepBytes) pool.free.push_back(std::move(s));
  }
  // This thread's scratch for the call (allocations may throw std::bad_alloc).
  RowScratch& get() {
    if (t_scratch != nullptr && t_lease == id_) return *t_scratch;
    std::unique_ptr<RowScratch> s;
    {
      Pool& pool = pool_of();
      std::lock_guard<std::mutex> lock(pool.mu);
      if (!pool.free.empty()) {
        s = std::move(pool.free.back());
        pool.free.pop_back();
      }
    }
    if (!s) s = std::make_unique<RowScratch>();
    RowScratch* raw = s.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(std::move(s));
    }
    t_scratch = raw;
    t_lease = id_;
    return *raw;
  }
  // The scratch get() gave this thread (fn runs on pre's thread).
  static RowScratch& mine() { return *t_scratch; }

 private:
  // Kept: up to 8 scratches of up to 2 MiB (a 16 MiB band of rows 16384 wide needs 0.7 MiB); larger ones (narrow
  // rows list more runs, wide rows more leaves) are freed.
  static constexpr size_t kKeep = 8;
  static constexpr size_t kKeepBytes = size_t{2} << 20;
  static size_t bytes(const RowScratch& s) {
    return s.segs.capacity() * sizeof(Segment) + (s.prefix.capacity() + s.within.capacity()) * sizeof(uint64_t) +
           s.leaves.capacity() * sizeof(double);
  }
  struct Pool {
    std::mutex mu;
    std::vector<std::unique_ptr<RowScratch>> free;
  };
  // Never destroyed: a thread may still return scratch while statics are torn down at exit.
  static Pool& pool_of() {
    static Pool* pool = new Pool;
    return *pool;
  }
  static std::atomic<uint64_t>& next_id() {
    static std::atomic<uint64_t> id{0};
    return id;
  }
  static thread_local RowScratch* t_scratch;
  static thread_local uint64_t t_lease;
  const uint64_t id_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RowScratch>> held_;
};
thread_local RowScratch* ScratchLease::t_scratch = nullptr;
thread_local uint64_t ScratchLease::t_lease = 0;

// Whether full_buffers() applies: a float32 sum through numpy's buffer whose 128-element leaves all lie in one run
// of the last axis (its length and run starts multiples of 128, as the pairwise tree of a whole 8192-element buffer
// has leaves of exactly 128 at multiples of 128).
bool rows_align(const GridIndex& ix) {
  const auto& cs = ix.g->starts[ix.ndim - 1];
  return std::all_of(cs.begin(), cs.end(), [](uint64_t c) { return c % kBlock == 0; });
}

// `nbuf` whole 8192-element buffers from grid element `a` (a multiple of 128, rows_align()), summed as pairwise()
// sums them, into out[0..nbuf). The leaves are computed block by block, down each block's rows (the order memory
// holds them in, which the hardware prefetcher follows), then added up each buffer's tree.
template <typename Traits>
void full_buffers(const GridIndex& ix, const GridSrc<Traits>& src, uint64_t a, uint64_t nbuf, Pair* out) {
  const int last = ix.ndim - 1;
  const uint64_t width = ix.shape[last];
  const auto& cs = ix.g->starts[last];
  const uint64_t nr = ix.nruns[last];
  const uint64_t b = a + nbuf * kBufSize;
  const uint64_t row0 = a / width;
  const uint64_t row1 = (b + width - 1) / width;
  RowScratch& sc = ScratchLease::mine();
  for (uint64_t r = row0; r < row1; r++) {
    uint64_t e = r;
    uint64_t c[kMaxDims];
    for (int d = last - 1; d >= 0; d--) {
      c[d] = e % ix.shape[d];
      e /= ix.shape[d];
    }
    uint64_t bi = 0;
    for (int d = 0; d < last; d++) {
      const uint64_t g = ix.run_of(d, c[d]);
      bi = bi * ix.nruns[d] + g;
      sc.within[(r - row0) * last + d] = c[d] - ix.g->starts[d][g];
    }
    sc.prefix[r - row0] = bi;
  }
  // The runs in the order they are summed: down each block's rows, block after block. Leaves are kept column-major
  // (leaf column, then row): written in that order, so the stores stream too.
  const uint64_t nrows = row1 - row0;
  double* leaves = sc.leaves.data();
  // Block columns a batch at a time (about kSegBatch runs), so the list of runs stays small.
  const uint64_t per_batch = std::max<uint64_t>(1, kSegBatch / std::max<uint64_t>(1, nrows));
  for (uint64_t g0 = 0; g0 < nr; g0 += per_batch) {
    uint64_t nseg = 0;
    for (uint64_t g = g0; g < std::min(nr, g0 + per_batch); g++) {
      for (uint64_t r = row0; r < row1; r++) {
        const uint64_t rs = r * width;
        const uint64_t e0 = std::max(a, rs + cs[g]);
        const uint64_t e1 = std::min(b, rs + cs[g + 1]);
        if (e0 >= e1) continue;
        const uint64_t bi = sc.prefix[r - row0] * nr + g;
        const GridBlock& blk = ix.g->blocks[bi];
        int64_t off = static_cast<int64_t>(blk.offset) + static_cast<int64_t>(e0 - rs - cs[g]) * blk.strides[last];
        for (int d = 0; d < last; d++) off += static_cast<int64_t>(sc.within[(r - row0) * last + d]) * blk.strides[d];
        const uint8_t* p = blk.region->data + off;
        const bool fast = !blk.swap && blk.strides[last] == static_cast<int64_t>(sizeof(float)) &&
                          reinterpret_cast<uintptr_t>(p) % sizeof(float) == 0;
        sc.segs[nseg++] = Segment{p, e0, e1, (r - row0) + ((e0 - rs) / kBlock) * nrows, fast};
      }
    }
    // A run is about 1 KiB and the next one often far away (the next block's rows): the hardware prefetcher restarts at
    // each, so runs a few steps ahead are asked for here.
    constexpr uint64_t kAhead = 4;
    auto ask = [&](const Segment& x) {
      if (!x.fast) return;
      const uint64_t bytes = (x.e1 - x.e0) * sizeof(float);
      for (uint64_t k = 0; k < bytes; k += 64) __builtin_prefetch(x.p + k, 0, 3);
    };
    for (uint64_t i = 0; i < std::min(nseg, kAhead); i++) ask(sc.segs[i]);
    for (uint64_t i = 0; i < nseg; i++) {
      if (i + kAhead < nseg) ask(sc.segs[i + kAhead]);
      const Segment& x = sc.segs[i];
      for (uint64_t e = x.e0; e < x.e1; e += kBlock) {
        double v;
        if (x.fast) {
          double q[8];
          src.loops.f32(reinterpret_cast<const float*>(x.p) + (e - x.e0), kBlock, q);
          v = ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
        } else {
          v = pairwise<false>(src, e, kBlock).re;
        }
        leaves[x.slot + ((e - x.e0) / kBlock) * nrows] = v;
      }
    }
  }
  constexpr uint64_t kPer = kBufSize / kBlock;  // a whole buffer's tree is balanced: halves down to 128
  const uint64_t cols = width / kBlock;
  if (width % kBufSize == 0) {
    // Every buffer is the leaves of one row at columns [h * kPer, (h + 1) * kPer): add each tree level for all rows
    // at once, column by column (the same additions, in streams). Rows the task covers only in part are added too,
    // from whatever their unused slots hold, and never read.
    for (uint64_t h = 0; h < cols / kPer; h++) {
      double* base = leaves + h * kPer * nrows;
      for (uint64_t w = kPer; w > 1; w /= 2) {
        for (uint64_t i = 0; i < w / 2; i++) {
          double* d = base + i * nrows;
          const double* x = base + 2 * i * nrows;
          const double* y = x + nrows;
          for (uint64_t r = 0; r < nrows; r++) d[r] = x[r] + y[r];
        }
      }
    }
    for (uint64_t k = 0; k < nbuf; k++) {
      const uint64_t e = a + k * kBufSize;
      out[k] = Pair{leaves[(e % width) / kBlock * nrows + (e / width - row0)], 0};
    }
    return;
  }
  double l[kPer];
  for (uint64_t k = 0; k < nbuf; k++) {
    const uint64_t e = a + k * kBufSize;
    uint64_t row = e / width - row0;
    uint64_t col = (e % width) / kBlock;
    for (uint64_t j = 0; j < kPer; j++) {
      l[j] = leaves[col * nrows + row];
      if (++col == cols) {
        col = 0;
        row++;
      }
    }
    for (uint64_t w = kPer; w > 1; w /= 2) {
      for (uint64_t i = 0; i < w / 2; i++) l[i] = l[2 * i] + l[2 * i + 1];
    }
    out[k] = Pair{l[0], 0};
  }
}

template <typename Traits>
int sum_grid_typed(const GridIndex& ix, GridPrefetcher* pf, bool squares, double mre, double mim, GridRange* range,
                   int threads, const CancelFlag* cancel) {
  constexpr bool kComplex = Traits::kLanes == 2;
  const bool cast = range->buffered;
  const uint64_t lanes = squares ? 1 : Traits::kLanes;
  const uint64_t origin = range->origin;
  std::vector<std::pair<uint64_t, uint64_t>> leaves;  // scalar ranges (of the grid), when not buffered
  std::vector<Pair> partial;
  uint64_t nunits = 0;
  const uint64_t first_buf = range->from / kBufSize;
  try {
    if (cast) {
      nunits = (range->to - range->from + kBufSize - 1) / kBufSize;
      partial.resize(std::min(nunits, kGridRoundUnits));
    } else {
      split_leaves((range->from - origin) * lanes, (range->to - range->from) * lanes, &leaves);
      nunits = leaves.size();
      partial.resize(nunits);
    }
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  const uint64_t per_task = cast ? kGridTaskElems / kBufSize : 1;
  // Scalars [*a, *b) of the grid that unit u sums.
  auto unit = [&](uint64_t u, uint64_t* a, uint64_t* b) {
    if (cast) {
      const uint64_t k = first_buf + u;
      *a = (k * kBufSize - origin) * lanes;
      *b = (std::min(range->total, (k + 1) * kBufSize) - origin) * lanes;
    } else {
      *a = leaves[u].first;
      *b = leaves[u].first + leaves[u].second;
    }
  };
  const BlockLoops loops = block_loops();
  bool fast_rows = false;
  if constexpr (std::is_same<typename Traits::Scalar, float>::value && Traits::kLanes == 1)
    fast_rows = cast && ix.ndim >= 2 && ix.shape[ix.ndim - 1] <= kFastMaxWidth && rows_align(ix);
  ScratchLease lease;
  Pair acc{range->acc_re, range->acc_im};
  for (uint64_t u0 = 0; u0 < nunits; u0 += partial.size()) {
    const uint64_t u1 = std::min<uint64_t>(nunits, u0 + partial.size());
    const uint64_t tasks = (u1 - u0 + per_task - 1) / per_task;
    auto pre = [&](uint64_t t) {
      uint64_t a = 0;
      uint64_t b = 0;
      unit(std::min(u1, u0 + (t + 1) * per_task) - 1, &a, &b);
      pf->ahead((b + lanes - 1) / lanes);
      if (fast_rows) {
        try {
          const uint64_t rows = per_task * kBufSize / ix.shape[ix.ndim - 1] + 2;
          RowScratch& t_rows = lease.get();
          t_rows.prefix.resize(rows);
          t_rows.segs.resize(std::min(rows * ix.nruns[ix.ndim - 1], std::max(rows, kSegBatch)));
          t_rows.within.resize(rows * static_cast<uint64_t>(ix.ndim - 1));
          t_rows.leaves.resize(rows * (ix.shape[ix.ndim - 1] / kBlock));
        } catch (const std::bad_alloc&) {
          return -ENOMEM;
        }
      }
      return 0;
    };
    auto fn = [&](uint64_t t) {
      GridSrc<Traits> src{&ix, loops, squares, mre, mim};
      const uint64_t end = std::min(u1, u0 + (t + 1) * per_task);
      uint64_t u = u0 + t * per_task;
      if (fast_rows) {
        // Whole buffers (all but maybe the very last).
        uint64_t full = u;
        while (full < end && (first_buf + full + 1) * kBufSize <= range->total) full++;
        if (full > u) {
          uint64_t a = 0;
          uint64_t b = 0;
          unit(u, &a, &b);
          full_buffers<Traits>(ix, src, a, full - u, partial.data() + (u - u0));
          u = full;
        }
      }
      for (; u < end; u++) {
        uint64_t a = 0;
        uint64_t b = 0;
        unit(u, &a, &b);
        partial[u - u0] = squares ? pairwise<false>(src, a, b - a) : pairwise<kComplex>(src, a, b - a);
      }
    };
    const int rc = run_guarded(tasks, threads, cancel, pre, fn);
    if (rc != 0) return rc;
    if (cast) {
      for (uint64_t u = u0; u < u1; u++) {
        acc.re += partial[u - u0].re;
        acc.im += partial[u - u0].im;
      }
    }
  }
  if (!cast) {
    acc = Pair{0, 0};
    if (nunits > 0) {
      uint64_t next = 0;
      acc = combine_leaves((range->to - range->from) * lanes, partial.data(), &next);
    }
  }
  range->acc_re = acc.re;
  range->acc_im = kComplex && !squares ? acc.im : 0;
  return 0;
}

// Checks that the grid tiles a selection and every block lies in its bytes;
// fills `ix` and each block's byte extent.
int check_grid(const ChunkGrid& g, unsigned itemsize, GridIndex* ix,
               std::vector<std::pair<uint64_t, uint64_t>>* extents) {
  if (g.ndim < 1 || g.ndim > kMaxDims) return -EINVAL;
  ix->g = &g;
  ix->ndim = g.ndim;
  unsigned __int128 size = 1;
  unsigned __int128 nblocks = 1;
  for (int d = 0; d < g.ndim; d++) {
    const auto& s = g.starts[d];
    if (s.size() < 2 || s[0] != 0) return -EINVAL;
    for (size_t k = 1; k < s.size(); k++) {
      if (s[k] <= s[k - 1]) return -EINVAL;
    }
    ix->shape[d] = s.back();
    ix->nruns[d] = s.size() - 1;
    if (ix->shape[d] > (uint64_t{1} << 53)) return -ERANGE;
    size *= ix->shape[d];
    nblocks *= ix->nruns[d];
    if (size > kGridMaxElements) return -ERANGE;
  }
  if (nblocks != g.blocks.size()) return -EINVAL;
  ix->size = static_cast<uint64_t>(size);
  ix->per_band = static_cast<uint64_t>(nblocks) / ix->nruns[0];
  try {
    extents->resize(g.blocks.size());
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  uint64_t gi[kMaxDims] = {};
  for (size_t bi = 0; bi < g.blocks.size(); bi++) {
    const GridBlock& b = g.blocks[bi];
    if (b.region == nullptr || b.strides == nullptr) return -EINVAL;
    __int128 lo = b.offset;
    __int128 hi = b.offset;
    for (int d = 0; d < g.ndim; d++) {
      const int64_t st = b.strides[d];
      if (st > (int64_t{1} << 53) || st < -(int64_t{1} << 53)) return -ERANGE;
      const __int128 span = static_cast<__int128>(g.starts[d][gi[d] + 1] - g.starts[d][gi[d]] - 1) * st;
      if (span < 0)
        lo += span;
      else
        hi += span;
    }
    hi += itemsize;
    if (lo < 0 || hi > static_cast<__int128>(b.region->length)) return -ERANGE;
    (*extents)[bi] = {static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)};
    for (int d = g.ndim - 1; d >= 0; d--) {
      if (++gi[d] < ix->nruns[d]) break;
      gi[d] = 0;
    }
  }
  return 0;
}

}  // namespace

int sum_grid(const ChunkGrid& grid, ElemType type, GridSum what, double mean_re, double mean_im, GridRange* range,
             int threads, const CancelFlag* cancel) {
  const unsigned itemsize = elem_size(type);
  if (itemsize == 0) return -EINVAL;
  const char kind = kDTypes[static_cast<int>(type)].kind;
  if (kind != 'f' && kind != 'c') return -EINVAL;
  const bool squares = what == GridSum::kSquares;
  GridIndex ix;
  std::vector<std::pair<uint64_t, uint64_t>> extents;
  int rc = check_grid(grid, itemsize, &ix, &extents);
  if (rc != 0) return rc;
  GridRange& r = *range;
  // The range lies in the grid; buffers start at multiples of kBufSize and end at one or at `total`.
  if (r.from > r.to || r.from < r.origin || r.to - r.origin > ix.size || r.total < r.to || r.total > kGridMaxElements)
    return -EINVAL;
  if (r.buffered && (squares || r.from % kBufSize != 0 || (r.to % kBufSize != 0 && r.to != r.total))) return -EINVAL;
  if (r.from == r.to) {
    if (!r.buffered) r.acc_re = r.acc_im = 0;
    return 0;
  }
  GridPrefetcher pf;
  pf.ix = &ix;
  pf.extents = &extents;
  const uint64_t band_bytes = std::max<uint64_t>(1, ix.size / ix.nruns[0] * itemsize);
  pf.bands_ahead = std::max<uint64_t>(1, kGridAheadBytes / band_bytes);
  // Chunk files the scan streams (advised 'sequential' while it runs) are read in PMD-sized folios and mapped with
  // one entry per 2 MiB: a cold scan measured 2x faster here, and the folios stay huge in the page cache, so later
  // scans in any process map them with 1/512 of the page-table entries. The advice restored after the scan turns it
  // off again ('random': a fault would otherwise read a whole 2 MiB folio).
  try {
    std::unordered_set<const Region*> asked;
    for (const GridBlock& b : grid.blocks) {
      if (advice_of(*b.region) != Advice::kSequential || huge_pages_of(*b.region) || !asked.insert(b.region).second)
        continue;
      huge_pages(*b.region);
    }
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  return dispatch(type, [&](auto t) {
    using Traits = decltype(t);
    if constexpr (Traits::kKind == 'f' || Traits::kKind == 'c')
      return sum_grid_typed<Traits>(ix, &pf, squares, mean_re, mean_im, range, threads, cancel);
    else
      return -EINVAL;
  });
}

}  // namespace memmap
