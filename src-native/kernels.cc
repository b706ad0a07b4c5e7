// Strided sum, copy-out and gather over mapped memory (see kernels.h).
#include "kernels.h"

#include "sum_detail.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace memmap {

// Bit assembly, not ldexp(): sums of float16 call it once per element.
double half_to_double(uint16_t h) {
  const uint64_t sign = static_cast<uint64_t>(h & 0x8000) << 48;
  const uint64_t exp = (h >> 10) & 0x1f;
  const uint64_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant x 2^-24, exact
    const double v = static_cast<double>(mant) * 0x1p-24;
    return sign != 0 ? -v : v;
  }
  // Infinity and NaN (payload kept, as numpy) have all exponent bits set.
  const uint64_t bits = sign | (exp == 31 ? uint64_t{0x7ff} << 52 : (exp + 1008) << 52) | mant << 42;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

namespace {

using namespace sumdetail;  // NOLINT(build/namespaces)

// Contiguous runs are scanned and copied in slices of this many bytes, so the
// read-ahead (kReadAhead below) stays in front of the loop.
constexpr uint64_t kScanSlice = uint64_t{8} << 20;

// Calls run(ptr, n, stride) for each innermost run of the view, in C order of
// the (already simplified) dims.
template <typename Run>
void for_each_run(const uint8_t* base, int ndim, const uint64_t* shape, const int64_t* strides, Run&& run) {
  if (ndim == 0) {
    run(base, 1, 0);
    return;
  }
  const int outer = ndim - 1;
  uint64_t idx[kMaxDims] = {};
  const uint8_t* p = base;
  for (;;) {
    run(p, shape[outer], strides[outer]);
    int k = outer - 1;
    for (; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        p += strides[k];
        break;
      }
      p -= static_cast<int64_t>(shape[k] - 1) * strides[k];
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

// A view with size-1 dims dropped and contiguous neighbours merged; for
// reductions (order-free) also sorted by |stride| with strides made positive.
struct Simple {
  const uint8_t* base;
  int ndim = 0;
  uint64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
  bool empty = false;
};

Simple simplify(const Region& region, const StridedView& v, bool any_order) {
  Simple s;
  s.base = region.data + v.offset;
  int order[kMaxDims];
  int n = 0;
  for (int k = 0; k < v.ndim; k++) {
    if (v.shape[k] == 0) s.empty = true;
    if (v.shape[k] != 1) order[n++] = k;
  }
  if (s.empty) return s;
  int64_t st[kMaxDims];
  for (int k = 0; k < v.ndim; k++) st[k] = v.strides[k];
  if (any_order) {
    for (int i = 0; i < n; i++) {
      int k = order[i];
      if (st[k] < 0) {
        s.base += static_cast<int64_t>(v.shape[k] - 1) * st[k];
        st[k] = -st[k];
      }
    }
    std::stable_sort(order, order + n, [&](int a, int b) { return st[a] > st[b]; });
  }
  for (int i = 0; i < n; i++) {
    int k = order[i];
    if (s.ndim > 0 && s.strides[s.ndim - 1] == static_cast<int64_t>(v.shape[k]) * st[k]) {
      s.shape[s.ndim - 1] *= v.shape[k];
      s.strides[s.ndim - 1] = st[k];
    } else {
      s.shape[s.ndim] = v.shape[k];
      s.strides[s.ndim] = st[k];
      s.ndim++;
    }
  }
  return s;
}

// Every element of the view inside the region?
int check_view(const Region& region, unsigned itemsize, const StridedView& v) {
  if (v.ndim < 0 || v.ndim > kMaxDims) return -EINVAL;
  __int128 lo = v.offset;
  __int128 hi = v.offset;
  for (int k = 0; k < v.ndim; k++) {
    if (v.shape[k] == 0) return 0;  // empty: touches nothing
    if (v.shape[k] > (uint64_t{1} << 53)) return -ERANGE;
    if (v.strides[k] > (int64_t{1} << 53) || v.strides[k] < -(int64_t{1} << 53)) return -ERANGE;
    __int128 span = static_cast<__int128>(v.shape[k] - 1) * v.strides[k];
    if (span < 0)
      lo += span;
    else
      hi += span;
  }
  if (lo < 0 || hi + itemsize > static_cast<__int128>(region.length)) return -ERANGE;
  return 0;
}

// advise('sequential'): scans ask the kernel to read ahead of the cursor, so the
// disk keeps streaming while the loop works, as read() does for a file.
constexpr uint64_t kReadAhead = uint64_t{64} << 20;

struct Prefetcher {
  const Region* region = nullptr;
  bool on = false;
  const uint8_t* next = nullptr;  // first byte not yet prefetched
  // Called before touching [p, p + n) of a contiguous run.
  void ahead(const uint8_t* p, uint64_t n) {
    if (!on) return;
    const uint8_t* want = p + std::max<uint64_t>(n, kReadAhead);
    if (next != nullptr && next >= p + kReadAhead / 2) return;
    const uint8_t* from = (next != nullptr && next > p) ? next : p;
    if (want > from) prefetch(*region, from, static_cast<uint64_t>(want - from));
    next = want;
  }
};

Prefetcher prefetcher_for(const Region& region) {
  Prefetcher pf;
  pf.region = &region;
  pf.on = advice_of(region) == Advice::kSequential;
  return pf;
}

// What a sum of this type holds (set before the kernel: an empty view sums to 0 of its kind).
template <typename Traits>
constexpr SumResult::Kind sum_kind() {
  using Kind = SumResult::Kind;
  if constexpr (Traits::kKind == 'f') return Kind::kFloat;
  if constexpr (Traits::kKind == 'c') return Kind::kComplex;
  if constexpr (Traits::kKind == 'b' || Traits::kSize < 8) return Kind::kSmallInt;
  return Traits::kKind == 'i' ? Kind::kInt64 : Kind::kUint64;
}

// Float sums reproduce numpy's a.sum(dtype=float64) (complex: complex128)
// bit for bit (numpy 2.3 and later; checked against 2.4). numpy reduces
// through a buffered nditer (NPY_BUFSIZE elements, GROWINNER,
// DONT_NEGATE_STRIDES): it orders the axes by |stride| without flipping any,
// coalesces them, and then either hands each whole inner run to the add loop
// (float64/complex128, native order, aligned, inner run > 4096) or copies
// (casting) chunks of up to NPY_BUFSIZE elements into a buffer. The add loop
// does acc += pairwise_sum(run or chunk) with acc starting at 0.0.
// plan_float() ports nditer_constr.c (npyiter_find_best_axis_ordering,
// npyiter_coalesce_axes, npyiter_find_buffering_setup) for this one case;
// pairwise() is loops_utils.h.src's. Threads never change the bits: they sum
// whole chunks, or subtrees of numpy's own pairwise tree of a long run, and
// the pieces are combined in numpy's order.
// Elements per thread task, and the size below which a sum stays on one thread.
constexpr uint64_t kTaskElems = uint64_t{1} << 20;
constexpr uint64_t kParallelMin = uint64_t{1} << 20;
static_assert(kLeaf >= 2 * kBufSize, "a buffered chunk is one task");
// Most elements a sum counts (zero strides can repeat elements past any count).
constexpr uint64_t kMaxElements = uint64_t{1} << 62;
// Tasks per parallel round: partial sums are folded between rounds, so their
// memory stays bounded.
constexpr uint64_t kRoundTasks = 256;

// Dims in iteration order, innermost first: element e (dim 0 fastest) is at
// base + offset_of(e).
struct IterDims {
  const uint8_t* base = nullptr;
  int ndim = 0;
  uint64_t shape[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
  uint64_t size = 1;
  int64_t offset_of(uint64_t e) const {
    int64_t off = 0;
    for (int k = 0; k < ndim && e != 0; k++) {
      off += static_cast<int64_t>(e % shape[k]) * strides[k];
      e /= shape[k];
    }
    return off;
  }
};

// Calls run(p, n, stride) for the runs along dim 0 that hold elements
// [start, start + count) in iteration order.
template <typename Run>
void for_each_run_in(const IterDims& d, uint64_t start, uint64_t count, Run&& run) {
  uint64_t idx[kMaxDims];
  int64_t off = 0;
  uint64_t e = start;
  for (int k = 0; k < d.ndim; k++) {
    idx[k] = e % d.shape[k];
    e /= d.shape[k];
    off += static_cast<int64_t>(idx[k]) * d.strides[k];
  }
  while (count > 0) {
    const uint64_t n = std::min<uint64_t>(count, d.shape[0] - idx[0]);
    run(d.base + off, n, d.strides[0]);
    count -= n;
    if (count == 0) return;
    off -= static_cast<int64_t>(idx[0]) * d.strides[0];
    idx[0] = 0;
    for (int k = 1; k < d.ndim; k++) {
      if (++idx[k] < d.shape[k]) {
        off += d.strides[k];
        break;
      }
      off -= static_cast<int64_t>(idx[k] - 1) * d.strides[k];
      idx[k] = 0;
    }
  }
}

// numpy's iteration of a full float reduction: chunk c holds elements
// [chunk_start(c), + chunk_len(c)) in iteration order and is summed pairwise.
// Chunks tile `slab`-element slabs (the dims up to the buffer's outer dim).
struct FloatPlan {
  IterDims d;
  bool cast = false;        // numpy copies through a buffer
  bool sequential = false;  // complex run with a stride the pairwise loop refuses: plain a + b
  uint64_t slab = 1;
  uint64_t chunk = 1;
  uint64_t per_slab = 1;
  uint64_t nchunks = 1;
  uint64_t chunk_start(uint64_t c) const { return (c / per_slab) * slab + (c % per_slab) * chunk; }
  uint64_t chunk_len(uint64_t c) const { return std::min(chunk, slab - (c % per_slab) * chunk); }
};

// `native_type`: float64 or complex128 (no cast when in this machine's order
// and aligned to `align`, the scalar size). The view is not empty and has at
// most kMaxElements elements.
void plan_float(const uint8_t* data, const StridedView& v, bool native_type, bool complex, unsigned align, bool swap,
                FloatPlan* out) {
  FloatPlan& p = *out;
  uintptr_t check = reinterpret_cast<uintptr_t>(data);  // numpy's raw_array_is_aligned
  for (int k = 0; k < v.ndim; k++) {
    if (v.shape[k] > 1) check |= static_cast<uintptr_t>(v.strides[k]);
  }
  p.cast = !native_type || swap || check % align != 0;
  // The axes in reversed C order; numpy zeroes the stride of a length-1 axis.
  const int nd = v.ndim;
  uint64_t sh[kMaxDims] = {1};
  int64_t st[kMaxDims] = {0};
  int perm[kMaxDims] = {0};
  for (int i = 0; i < nd; i++) {
    sh[i] = v.shape[nd - 1 - i];
    st[i] = sh[i] == 1 ? 0 : v.strides[nd - 1 - i];
    perm[i] = i;
  }
  // Stable insertion sort by |stride|; a zero stride is ambiguous and skipped.
  for (int i0 = 1; i0 < nd; i0++) {
    const int j0 = perm[i0];
    const int64_t s0 = st[j0];
    int ipos = i0;
    for (int i1 = i0 - 1; i1 >= 0; i1--) {
      const int64_t s1 = st[perm[i1]];
      if (s0 == 0 || s1 == 0) continue;
      if (std::llabs(s1) <= std::llabs(s0)) break;
      ipos = i1;
    }
    for (int i1 = i0; i1 > ipos; i1--) perm[i1] = perm[i1 - 1];
    perm[ipos] = j0;
  }
  // Coalesce.
  IterDims& d = p.d;
  d.base = data;
  d.ndim = 1;
  d.shape[0] = sh[perm[0]];  // a 0-d view: one element
  d.strides[0] = st[perm[0]];
  for (int i = 1; i < nd; i++) {
    const uint64_t sh0 = d.shape[d.ndim - 1];
    const int64_t st0 = d.strides[d.ndim - 1];
    const uint64_t sh1 = sh[perm[i]];
    const int64_t st1 = st[perm[i]];
    if ((sh0 == 1 && st0 == 0) || (sh1 == 1 && st1 == 0) ||
        static_cast<__int128>(st0) * static_cast<__int128>(sh0) == st1) {
      d.shape[d.ndim - 1] = sh0 * sh1;
      if (st0 == 0) d.strides[d.ndim - 1] = st1;
    } else {
      d.shape[d.ndim] = sh1;
      d.strides[d.ndim] = st1;
      d.ndim++;
    }
  }
  d.size = 1;
  for (int k = 0; k < d.ndim; k++) d.size *= d.shape[k];
  // npyiter_find_buffering_setup with GROWINNER, the input and a 0-d output
  // (zero strides everywhere: it never needs a buffer and always coalesces).
  int cost = p.cast ? 2 : 1;
  int single = 1;  // leading dims the input walks with one stride
  uint64_t size = d.shape[0];
  int best_dim = 0;
  int best_cost = cost;
  uint64_t best_size = size;
  uint64_t best_core = 1;
  for (int idim = 1; idim < d.ndim; idim++) {
    if (size >= kBufSize && cost > 1) break;
    if (single == idim) {
      if (static_cast<__int128>(d.strides[idim - 1]) * d.shape[idim - 1] == d.strides[idim])
        single++;
      else if (!p.cast)
        cost++;
    }
    const uint64_t core = size;
    size *= d.shape[idim];
    double bufsize = static_cast<double>(size);
    if (size > kBufSize && cost > 1) bufsize = static_cast<double>(kBufSize);
    if (cost * static_cast<double>(best_size) <= best_cost * bufsize) {
      best_cost = cost;
      best_core = core;
      best_size = size;
      best_dim = idim;
    }
  }
  const bool buffered = p.cast || single <= best_dim;
  p.slab = best_size;
  if (buffered && kBufSize < best_size) best_size = best_core * (kBufSize / best_core);
  p.chunk = best_size;
  p.per_slab = (p.slab + p.chunk - 1) / p.chunk;
  p.nchunks = d.size / p.slab * p.per_slab;
  // CDOUBLE_add's reduce takes the pairwise path only for strides that are a
  // multiple of the complex size (always true of a buffer).
  p.sequential = complex && !buffered && d.strides[0] % static_cast<int64_t>(2 * align) != 0;
}

// The 8 running sums of pairwise_sum's block loop over m scalars (m a
// multiple of 8): r[j] = a[j] + a[8 + j] + ... in that order. Vectorizing
// across j keeps every addition; the float -> double convert is fused in.
template <typename T>
inline __attribute__((always_inline)) void block8_body(const T* a, uint64_t m, double* out) {
  double r[8];
  for (int j = 0; j < 8; j++) r[j] = static_cast<double>(a[j]);
  for (uint64_t i = 8; i < m; i += 8) {
    for (int j = 0; j < 8; j++) r[j] += static_cast<double>(a[i + j]);
  }
  for (int j = 0; j < 8; j++) out[j] = r[j];
}

void block8_f32(const float* a, uint64_t m, double* out) { block8_body(a, m, out); }
void block8_f64(const double* a, uint64_t m, double* out) { block8_body(a, m, out); }
#if defined(__x86_64__)
// Prebuilt binaries target baseline x86-64; AVX2 is chosen at run time.
__attribute__((target("avx2"))) void block8_f32_avx2(const float* a, uint64_t m, double* out) {
  block8_body(a, m, out);
}
__attribute__((target("avx2"))) void block8_f64_avx2(const double* a, uint64_t m, double* out) {
  block8_body(a, m, out);
}
#endif

}  // namespace

const sumdetail::BlockLoops& sumdetail::block_loops() {
  using sumdetail::BlockLoops;
  static const BlockLoops loops = [] {
#if defined(__x86_64__)
    if (cpu_has_avx2()) return BlockLoops{block8_f32_avx2, block8_f64_avx2};
#endif
    return BlockLoops{block8_f32, block8_f64};
  }();
  return loops;
}

namespace {

template <typename Traits, bool Swap>
struct Strided {
  using Scalar = typename Traits::Scalar;
  const uint8_t* p;
  int64_t stride;
  double at(uint64_t i) const {
    const uint8_t* q = p + static_cast<int64_t>(i / Traits::kLanes) * stride + (i % Traits::kLanes) * sizeof(Scalar);
    return Traits::decode(load<Scalar, Swap>(q));
  }
  void block(uint64_t i, uint64_t m, double* out) const {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = at(i + j);
    for (uint64_t k = 8; k < m; k += 8) {
      for (int j = 0; j < 8; j++) r[j] += at(i + k + j);
    }
    for (int j = 0; j < 8; j++) out[j] = r[j];
  }
};

// A chunk's cast buffer, one per thread (made outside guarded(): a fault
// must not abandon an allocation). nullptr when out of memory.
thread_local std::unique_ptr<double[]> t_chunk_buf;
double* chunk_buffer() {
  if (!t_chunk_buf) t_chunk_buf.reset(new (std::nothrow) double[2 * kBufSize]);
  return t_chunk_buf.get();
}

// advise('sequential') read-ahead shared by a call's threads (tasks start in
// order, so the frontier moves forward).
struct SharedPrefetcher {
  Prefetcher pf;
  std::mutex mu;
  void ahead(const uint8_t* p, uint64_t n) {
    if (!pf.on) return;
    std::lock_guard<std::mutex> lock(mu);
    pf.ahead(p, n);
  }
};

template <typename Traits, bool Swap>
struct FloatSummer {
  using Scalar = typename Traits::Scalar;
  static constexpr bool kComplex = Traits::kLanes == 2;
  static constexpr uint64_t kLanes = Traits::kLanes;
  const FloatPlan* p;
  BlockLoops loops;

  // The pairwise subtree over scalars [first, first + n) of the chunk of
  // elements [start, start + len).
  Pair part(uint64_t start, uint64_t len, uint64_t first, uint64_t n, double* buf) const {
    const IterDims& d = p->d;
    if (start % d.shape[0] + len <= d.shape[0]) {  // one run: read in place
      const uint8_t* q = d.base + d.offset_of(start);
      const int64_t st = d.strides[0];
      if constexpr (!Swap && (std::is_same<Scalar, float>::value || std::is_same<Scalar, double>::value)) {
        if (st == static_cast<int64_t>(Traits::kSize) && reinterpret_cast<uintptr_t>(q) % sizeof(Scalar) == 0) {
          void (*loop)(const Scalar*, uint64_t, double*);
          if constexpr (std::is_same<Scalar, float>::value)
            loop = loops.f32;
          else
            loop = loops.f64;
          return pairwise<kComplex>(Packed<Scalar>{reinterpret_cast<const Scalar*>(q), loop}, first, n);
        }
      }
      return pairwise<kComplex>(Strided<Traits, Swap>{q, st}, first, n);
    }
    // A buffered chunk over several runs (at most kBufSize elements).
    double* w = buf;
    for_each_run_in(d, start, len, [&](const uint8_t* q, uint64_t m, int64_t st) {
      if (st == static_cast<int64_t>(Traits::kSize)) {
        for (uint64_t i = 0; i < m * kLanes; i++) w[i] = Traits::decode(load<Scalar, Swap>(q + i * sizeof(Scalar)));
      } else {
        for (uint64_t i = 0; i < m; i++) {
          const uint8_t* e = q + static_cast<int64_t>(i) * st;
          for (uint64_t l = 0; l < kLanes; l++)
            w[i * kLanes + l] = Traits::decode(load<Scalar, Swap>(e + l * sizeof(Scalar)));
        }
      }
      w += m * kLanes;
    });
    return pairwise<kComplex>(Packed<double>{buf, loops.f64}, first, n);
  }
};

template <typename Traits, bool Swap>
int sum_float(const FloatPlan& p, int threads, const CancelFlag* cancel, SharedPrefetcher* spf, SumResult* out) {
  constexpr uint64_t kLanes = Traits::kLanes;
  const FloatSummer<Traits, Swap> summer{&p, block_loops()};
  const IterDims& d = p.d;
  Pair acc;  // numpy's add identity, 0.0
  if (p.sequential) {
    // CDOUBLE_add's plain loop: acc += element, one at a time.
    auto pre = [](uint64_t) { return 0; };
    auto fn = [&](uint64_t) {
      using Scalar = typename Traits::Scalar;
      for_each_run_in(d, 0, d.size, [&](const uint8_t* q, uint64_t m, int64_t st) {
        for (uint64_t i = 0; i < m; i++) {
          const uint8_t* e = q + static_cast<int64_t>(i) * st;
          acc.re += Traits::decode(load<Scalar, Swap>(e));
          acc.im += Traits::decode(load<Scalar, Swap>(e + sizeof(Scalar)));
        }
      });
    };
    int rc = run_guarded(1, 1, cancel, pre, fn);
    out->re = acc.re;
    out->im = acc.im;
    return rc;
  }
  // Units: whole chunks, or (for runs longer than kLeaf scalars, which are
  // never buffered: every chunk is one whole run) numpy's subtrees of each run.
  const bool split = p.chunk * kLanes > kLeaf;
  // Rounds hold whole chunks.
  const uint64_t per_task = split ? 1 : std::max<uint64_t>(1, kTaskElems / p.chunk);
  std::vector<std::pair<uint64_t, uint64_t>> leaves;
  std::vector<Pair> partial;
  try {
    if (split) split_leaves(0, p.chunk * kLanes, &leaves);
    const uint64_t per_chunk = split ? leaves.size() : 1;
    partial.resize(
        std::min(std::max<uint64_t>(per_chunk, kRoundTasks * per_task / per_chunk * per_chunk), p.nchunks * per_chunk));
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  const uint64_t per_chunk = split ? leaves.size() : 1;
  const uint64_t nunits = p.nchunks * per_chunk;
  const uint64_t round_units = partial.size();
  const bool needs_buffer = p.chunk > d.shape[0];  // chunks span runs
  const bool forward = spf->pf.on && d.strides[0] == static_cast<int64_t>(Traits::kSize) &&
                       std::all_of(d.strides, d.strides + d.ndim, [](int64_t s) { return s >= 0; });
  for (uint64_t u0 = 0; u0 < nunits; u0 += round_units) {
    const uint64_t u1 = std::min(nunits, u0 + round_units);
    const uint64_t tasks = (u1 - u0 + per_task - 1) / per_task;
    auto unit_range = [&](uint64_t u, uint64_t* e0, uint64_t* e1) {
      const uint64_t c = u / per_chunk;
      *e0 = p.chunk_start(c);
      *e1 = *e0 + p.chunk_len(c);
      if (split) {
        const auto& leaf = leaves[u % per_chunk];
        *e1 = *e0 + (leaf.first + leaf.second) / kLanes;
        *e0 += leaf.first / kLanes;
      }
    };
    auto pre = [&](uint64_t t) {
      if (needs_buffer && chunk_buffer() == nullptr) return -ENOMEM;
      if (!forward) return 0;
      uint64_t a, b, x, y;
      unit_range(u0 + t * per_task, &a, &x);
      unit_range(std::min(u1, u0 + (t + 1) * per_task) - 1, &y, &b);
      const uint8_t* lo = d.base + d.offset_of(a);
      const uint8_t* hi = d.base + d.offset_of(b - 1) + Traits::kSize;
      spf->ahead(lo, static_cast<uint64_t>(hi - lo));
      return 0;
    };
    auto fn = [&](uint64_t t) {
      double* buf = needs_buffer ? t_chunk_buf.get() : nullptr;
      const uint64_t end = std::min(u1, u0 + (t + 1) * per_task);
      for (uint64_t u = u0 + t * per_task; u < end; u++) {
        const uint64_t c = u / per_chunk;
        const uint64_t start = p.chunk_start(c);
        const uint64_t len = p.chunk_len(c);
        if (split) {
          const auto& leaf = leaves[u % per_chunk];
          partial[u - u0] = summer.part(start, len, leaf.first, leaf.second, buf);
        } else {
          partial[u - u0] = summer.part(start, len, 0, len * kLanes, buf);
        }
      }
    };
    int rc = run_guarded(tasks, threads, cancel, pre, fn);
    if (rc != 0) return rc;
    if (split) {
      for (uint64_t u = u0; u < u1; u += per_chunk) {
        uint64_t next = 0;
        const Pair s = combine_leaves(p.chunk * kLanes, partial.data() + (u - u0), &next);
        acc.re += s.re;
        acc.im += s.im;
      }
    } else {
      for (uint64_t u = u0; u < u1; u++) {
        acc.re += partial[u - u0].re;
        acc.im += partial[u - u0].im;
      }
    }
  }
  out->re = acc.re;
  out->im = Traits::kLanes == 2 ? acc.im : 0;
  return 0;
}

// Integer and bool sums wrap (associative): tasks of kTaskElems elements in
// any order, added up.
template <typename Traits, bool Swap>
int sum_int(const Simple& s, int threads, const CancelFlag* cancel, SharedPrefetcher* spf, SumResult* out) {
  using Scalar = typename Traits::Scalar;
  IterDims d;
  d.base = s.base;
  d.ndim = std::max(s.ndim, 1);
  if (s.ndim == 0) {
    d.shape[0] = 1;
    d.strides[0] = 0;
  }
  for (int k = 0; k < s.ndim; k++) {
    d.shape[k] = s.shape[s.ndim - 1 - k];
    d.strides[k] = s.strides[s.ndim - 1 - k];
    d.size *= d.shape[k];
  }
  const uint64_t ntasks = (d.size + kTaskElems - 1) / kTaskElems;
  std::vector<uint64_t> partial;
  try {
    partial.resize(ntasks);
  } catch (const std::bad_alloc&) {
    return -ENOMEM;
  }
  const bool forward = spf->pf.on && d.strides[0] == static_cast<int64_t>(sizeof(Scalar));
  auto pre = [&](uint64_t t) {
    if (!forward) return 0;
    const uint64_t a = t * kTaskElems;
    const uint64_t b = std::min(d.size, a + kTaskElems);
    const uint8_t* lo = d.base + d.offset_of(a);
    const uint8_t* hi = d.base + d.offset_of(b - 1) + sizeof(Scalar);
    if (hi > lo) spf->ahead(lo, static_cast<uint64_t>(hi - lo));
    return 0;
  };
  auto fn = [&](uint64_t t) {
    const uint64_t a = t * kTaskElems;
    uint64_t sum = 0;
    for_each_run_in(d, a, std::min(d.size - a, kTaskElems), [&](const uint8_t* q, uint64_t m, int64_t st) {
      if constexpr (Traits::kKind == 'b') {
        for (uint64_t i = 0; i < m; i++) sum += q[static_cast<int64_t>(i) * st] != 0 ? 1 : 0;
      } else if (st == static_cast<int64_t>(sizeof(Scalar))) {
        for (uint64_t i = 0; i < m; i++) sum += static_cast<uint64_t>(load<Scalar, Swap>(q + i * sizeof(Scalar)));
      } else {
        for (uint64_t i = 0; i < m; i++)
          sum += static_cast<uint64_t>(load<Scalar, Swap>(q + static_cast<int64_t>(i) * st));
      }
    });
    partial[t] = sum;
  };
  int rc = run_guarded(ntasks, threads, cancel, pre, fn);
  if (rc != 0) return rc;
  uint64_t u = 0;
  for (uint64_t x : partial) u += x;
  out->i = static_cast<int64_t>(u);  // wraps like numpy's int64 sum
  out->u = u;
  return 0;
}

struct CopyJob {
  const Simple* s;
  unsigned size;
  unsigned unit;
  uint8_t* dst;
  Prefetcher* pf;
  const CancelFlag* cancel;
  bool stop;  // cancelled: the remaining runs are skipped
};

struct GatherJob {
  const uint8_t* data;
  const uint64_t* offsets;
  uint64_t count;
  unsigned size;
  unsigned unit;
  uint8_t* dst;
  const CancelFlag* cancel;
  bool stop;
};

// Element-wise loops check the cancel flag once per this many elements.
constexpr uint64_t kElemSlice = 65536;

}  // namespace

int sum_view(const Region& region, ElemType type, bool swap, const StridedView& view, SumResult* out, int threads,
             const CancelFlag* cancel) {
  *out = SumResult();
  const unsigned size = elem_size(type);
  if (size == 0) return -EINVAL;
  out->kind = dispatch(type, [](auto traits) { return sum_kind<decltype(traits)>(); });
  int rc = check_view(region, size, view);
  if (rc != 0) return rc;
  for (int k = 0; k < view.ndim; k++) {
    if (view.shape[k] == 0) return 0;
  }
  unsigned __int128 count = 1;
  for (int k = 0; k < view.ndim; k++) {
    count *= view.shape[k];
    if (count > kMaxElements) return -EINVAL;
  }
  if (threads <= 0) threads = default_threads();
  if (count < kParallelMin) threads = 1;
  SharedPrefetcher spf;
  spf.pf = prefetcher_for(region);
  return dispatch(type, [&](auto traits) -> int {
    using Traits = decltype(traits);
    if constexpr (Traits::kKind == 'f' || Traits::kKind == 'c') {
      using Scalar = typename Traits::Scalar;
      FloatPlan plan;
      plan_float(region.data + view.offset, view, std::is_same<Scalar, double>::value, Traits::kLanes == 2,
                 sizeof(Scalar), swap, &plan);
      return swap ? sum_float<Traits, true>(plan, threads, cancel, &spf, out)
                  : sum_float<Traits, false>(plan, threads, cancel, &spf, out);
    } else {
      Simple s = simplify(region, view, true);
      return swap ? sum_int<Traits, true>(s, threads, cancel, &spf, out)
                  : sum_int<Traits, false>(s, threads, cancel, &spf, out);
    }
  });
}

int copy_view(const Region& region, ElemType type, bool swap, const StridedView& view, uint8_t* dst,
              const CancelFlag* cancel) {
  const unsigned size = elem_size(type);
  if (size == 0) return -EINVAL;
  int rc = check_view(region, size, view);
  if (rc != 0) return rc;
  Simple s = simplify(region, view, false);
  if (s.empty) return 0;
  Prefetcher pf = prefetcher_for(region);
  CopyJob job{&s, size, swap_unit(type, swap), dst, &pf, cancel, false};
  rc = guarded(
      [](void* ctx) {
        auto* j = static_cast<CopyJob*>(ctx);
        uint8_t* out = j->dst;
        const unsigned size = j->size;
        const unsigned unit = j->unit;
        for_each_run(j->s->base, j->s->ndim, j->s->shape, j->s->strides,
                     [&](const uint8_t* p, uint64_t n, int64_t stride) {
                       if (j->stop || (j->stop = cancelled(j->cancel))) return;
                       if (unit <= 1 && stride == static_cast<int64_t>(size)) {
                         for (uint64_t done = 0; done < n * size;) {
                           if (done > 0 && (j->stop = cancelled(j->cancel))) return;
                           const uint64_t m = std::min<uint64_t>(n * size - done, kScanSlice);
                           j->pf->ahead(p + done, m);
                           std::memcpy(out + done, p + done, m);
                           done += m;
                         }
                       } else {
                         for (uint64_t i0 = 0; i0 < n; i0 += kElemSlice) {
                           if (i0 > 0 && (j->stop = cancelled(j->cancel))) return;
                           const uint64_t end = std::min(n, i0 + kElemSlice);
                           for (uint64_t i = i0; i < end; i++)
                             copy_elem(out + i * size, p + static_cast<int64_t>(i) * stride, size, unit);
                         }
                       }
                       out += n * size;
                     });
      },
      &job);
  return rc == 0 && job.stop ? -ECANCELED : rc;
}

int coords_to_offsets(const double* const* coords, int ndim, const uint64_t* shape, const int64_t* strides,
                      uint64_t count, uint64_t* offsets, uint64_t* bad, int* bad_axis) {
  for (uint64_t k = 0; k < count; k++) offsets[k] = 0;
  for (int d = 0; d < ndim; d++) {
    const double dim = static_cast<double>(shape[d]);
    const double* c = coords[d];
    for (uint64_t k = 0; k < count; k++) {
      double i = c[k];
      if (std::floor(i) != i) {  // NaN and infinities too
        *bad = k;
        *bad_axis = d;
        return -EINVAL;
      }
      if (i < 0) i += dim;
      if (!(i >= 0 && i < dim)) {
        *bad = k;
        *bad_axis = d;
        return -ERANGE;
      }
      offsets[k] += static_cast<uint64_t>(i) * static_cast<uint64_t>(strides[d]);
    }
  }
  return 0;
}

int gather(const Region& region, ElemType type, bool swap, const uint64_t* offsets, uint64_t count, uint8_t* dst,
           const CancelFlag* cancel) {
  const unsigned size = elem_size(type);
  if (size == 0) return -EINVAL;
  for (uint64_t i = 0; i < count; i++) {
    if (offsets[i] > region.length || region.length - offsets[i] < size) return -ERANGE;
  }
  if (count == 0) return 0;
  GatherJob job{region.data, offsets, count, size, swap_unit(type, swap), dst, cancel, false};
  int rc = guarded(
      [](void* ctx) {
        auto* j = static_cast<GatherJob*>(ctx);
        for (uint64_t i0 = 0; i0 < j->count; i0 += kElemSlice) {
          if ((j->stop = cancelled(j->cancel))) return;
          const uint64_t end = std::min(j->count, i0 + kElemSlice);
          for (uint64_t i = i0; i < end; i++)
            copy_elem(j->dst + i * j->size, j->data + j->offsets[i], j->size, j->unit);
        }
      },
      &job);
  return rc == 0 && job.stop ? -ECANCELED : rc;
}

namespace {

struct TouchJob {
  const Simple* s;
  const Region* region;
  uint64_t size;
  uint64_t page;
  const CancelFlag* cancel;
  bool stop;
};

// Reads one byte of every page [lo, hi) overlaps.
inline void touch_pages(const uint8_t* lo, const uint8_t* hi, uint64_t page) {
  while (lo < hi) {
    (void)*static_cast<const volatile uint8_t*>(lo);
    const uintptr_t next = (reinterpret_cast<uintptr_t>(lo) & ~static_cast<uintptr_t>(page - 1)) + page;
    lo = reinterpret_cast<const uint8_t*>(next);
  }
}

// Elements with gaps under a page leave no page between them untouched: such
// a run is one byte range, read ahead a slice in front of the reads. Sparser
// runs are read ahead and touched element by element, in batches.
void touch_run(TouchJob* j, const uint8_t* p, uint64_t n, uint64_t stride) {
  if (n == 1 || stride < j->size + j->page) {
    const uint8_t* end = p + (n - 1) * stride + j->size;
    const uint8_t* advised = p;
    for (const uint8_t* q = p; q < end;) {
      if ((j->stop = cancelled(j->cancel))) return;
      const uint64_t m = std::min<uint64_t>(static_cast<uint64_t>(end - q), kScanSlice);
      const uint8_t* want = q + std::min<uint64_t>(static_cast<uint64_t>(end - q), 2 * kScanSlice);
      if (want > advised) {
        prefetch(*j->region, advised, static_cast<uint64_t>(want - advised));
        advised = want;
      }
      touch_pages(q, q + m, j->page);
      q += m;
    }
    return;
  }
  constexpr uint64_t kBatch = 256;
  for (uint64_t i0 = 0; i0 < n; i0 += kBatch) {
    if ((j->stop = cancelled(j->cancel))) return;
    const uint64_t end = std::min(n, i0 + kBatch);
    for (uint64_t i = i0; i < end; i++) prefetch(*j->region, p + i * stride, j->size);
    for (uint64_t i = i0; i < end; i++) touch_pages(p + i * stride, p + i * stride + j->size, j->page);
  }
}

}  // namespace

int touch_view(const Region& region, const StridedView& view, unsigned itemsize, const CancelFlag* cancel) {
  if (itemsize == 0) return -EINVAL;
  int rc = check_view(region, itemsize, view);
  if (rc != 0) return rc;
  Simple s = simplify(region, view, true);  // any order: strides positive, the smallest innermost
  if (s.empty) return 0;
  TouchJob job{&s, &region, itemsize, page_size(), cancel, false};
  rc = guarded(
      [](void* ctx) {
        auto* j = static_cast<TouchJob*>(ctx);
        for_each_run(j->s->base, j->s->ndim, j->s->shape, j->s->strides,
                     [&](const uint8_t* p, uint64_t n, int64_t stride) {
                       if (!j->stop) touch_run(j, p, n, static_cast<uint64_t>(stride));
                     });
      },
      &job);
  return rc == 0 && job.stop ? -ECANCELED : rc;
}

// cpuid rather than __builtin_cpu_supports: that one needs libgcc's
// __cpu_model, which zig's runtime (the prebuilds) does not provide.
bool cpu_has_avx2() {
#if defined(__x86_64__)
  static const bool yes = [] {
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0 || (c & bit_AVX) == 0 || (c & bit_OSXSAVE) == 0) return false;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return false;  // the OS saves XMM and YMM state
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) != 0 && (b & bit_AVX2) != 0;
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace memmap
