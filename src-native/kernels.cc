// Strided sum, copy-out and gather over mapped memory (see kernels.h).
#include "kernels.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

namespace memmap {

double half_to_double(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);
  } else if (exp == 31) {
    v = mant != 0 ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(mant + 1024), exp - 25);
  }
  return (h & 0x8000) != 0 ? -v : v;
}

namespace {

// numpy sums floats through a cast buffer of this many elements and adds
// each buffer pairwise in blocks of 128 (PW_BLOCKSIZE); we do the same so
// results agree with numpy's sum(dtype=float64) to the last bit in the common cases.
constexpr uint64_t kChunk = 8192;
constexpr uint64_t kBlock = 128;
// Contiguous runs are scanned and copied in slices of this many bytes, so the
// read-ahead (kReadAhead below) stays in front of the loop.
constexpr uint64_t kScanSlice = uint64_t{8} << 20;

template <typename T>
inline T byteswapped(T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  std::reverse(b, b + sizeof(T));
  std::memcpy(&v, b, sizeof(T));
  return v;
}

template <typename T, bool Swap>
inline T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if (Swap) v = byteswapped(v);
  return v;
}

// numpy's pairwise_sum over contiguous doubles.
double pairwise(const double* a, uint64_t n) {
  if (n < 8) {
    double res = 0.;
    for (uint64_t i = 0; i < n; i++) res += a[i];
    return res;
  }
  if (n <= kBlock) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    uint64_t i;
    for (i = 8; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  uint64_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

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

// Float sums: elements converted to double into a chunk buffer, each chunk
// added pairwise.
struct FloatSum {
  double buf[2][kChunk];
  uint64_t fill = 0;
  double re = 0;
  double im = 0;
  void drain(bool complex) {
    re += pairwise(buf[0], fill);
    if (complex) im += pairwise(buf[1], fill);
    fill = 0;
  }
};

template <typename Conv>
void sum_floats(const Simple& s, unsigned size, bool complex, FloatSum* acc, Prefetcher* pf, Conv conv) {
  for_each_run(s.base, s.ndim, s.shape, s.strides, [&](const uint8_t* p, uint64_t n, int64_t stride) {
    while (n > 0) {
      uint64_t take = std::min<uint64_t>(n, kChunk - acc->fill);
      double* re = acc->buf[0] + acc->fill;
      double* im = acc->buf[1] + acc->fill;
      if (stride == static_cast<int64_t>(size)) {
        pf->ahead(p, take * size);
        for (uint64_t i = 0; i < take; i++) conv(p + i * size, re + i, im + i);
      } else {
        for (uint64_t i = 0; i < take; i++) conv(p + static_cast<int64_t>(i) * stride, re + i, im + i);
      }
      acc->fill += take;
      if (acc->fill == kChunk) acc->drain(complex);
      p += static_cast<int64_t>(take) * stride;
      n -= take;
    }
  });
  acc->drain(complex);
}

template <typename T, bool Swap>
void sum_ints(const Simple& s, uint64_t* acc, Prefetcher* pf) {
  uint64_t total = *acc;
  for_each_run(s.base, s.ndim, s.shape, s.strides, [&](const uint8_t* p, uint64_t n, int64_t stride) {
    uint64_t t = 0;
    if (stride == static_cast<int64_t>(sizeof(T))) {
      for (uint64_t done = 0; done < n;) {
        const uint64_t m = std::min<uint64_t>(n - done, kScanSlice / sizeof(T));
        pf->ahead(p + done * sizeof(T), m * sizeof(T));
        const uint8_t* q = p + done * sizeof(T);
        for (uint64_t i = 0; i < m; i++) t += static_cast<uint64_t>(load<T, Swap>(q + i * sizeof(T)));
        done += m;
      }
      total += t;
      return;
    }
    for (uint64_t i = 0; i < n; i++) t += static_cast<uint64_t>(load<T, Swap>(p + static_cast<int64_t>(i) * stride));
    total += t;
  });
  *acc = total;
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

template <bool Swap, typename Traits>
void sum_typed(const Simple& s, SumResult* out, FloatSum* fs, Prefetcher* pf) {
  using Scalar = typename Traits::Scalar;
  if constexpr (Traits::kKind == 'b') {
    uint64_t u = 0;
    for_each_run(s.base, s.ndim, s.shape, s.strides, [&](const uint8_t* p, uint64_t n, int64_t stride) {
      for (uint64_t i = 0; i < n; i++) u += p[static_cast<int64_t>(i) * stride] != 0 ? 1 : 0;
    });
    out->i = static_cast<int64_t>(u);
  } else if constexpr (Traits::kKind == 'i' || Traits::kKind == 'u') {
    uint64_t u = 0;
    sum_ints<Scalar, Swap>(s, &u, pf);
    out->i = static_cast<int64_t>(u);  // wraps like numpy's int64 sum
    out->u = u;
  } else {
    constexpr bool complex = Traits::kLanes == 2;
    sum_floats(s, Traits::kSize, complex, fs, pf, [](const uint8_t* p, double* re, double* im) {
      *re = Traits::decode(load<Scalar, Swap>(p));
      if constexpr (complex) *im = Traits::decode(load<Scalar, Swap>(p + sizeof(Scalar)));
    });
    out->re = fs->re;
    out->im = complex ? fs->im : 0;
  }
}

// Copies one element, reversing each `unit`-byte part when swapping.
inline void copy_elem(uint8_t* dst, const uint8_t* src, unsigned size, unsigned unit) {
  if (unit <= 1) {
    std::memcpy(dst, src, size);
    return;
  }
  for (unsigned part = 0; part < size; part += unit) {
    for (unsigned b = 0; b < unit; b++) dst[part + b] = src[part + unit - 1 - b];
  }
}

struct SumJob {
  const Simple* s;
  ElemType type;
  bool swap;
  SumResult* out;
  FloatSum* fs;
  Prefetcher* pf;
};

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
  (void)threads;
  (void)cancel;
  *out = SumResult();
  const unsigned size = elem_size(type);
  if (size == 0) return -EINVAL;
  out->kind = dispatch(type, [](auto traits) { return sum_kind<decltype(traits)>(); });
  int rc = check_view(region, size, view);
  if (rc != 0) return rc;
  Simple s = simplify(region, view, true);
  if (s.empty) return 0;
  // 128 KiB of chunk buffers, made once per thread: a fresh allocation each
  // call would cost page faults, and it is too big for a worker's stack.
  thread_local std::unique_ptr<FloatSum> t_float_sum;
  if (!t_float_sum) t_float_sum.reset(new FloatSum());
  FloatSum* fs = t_float_sum.get();
  fs->fill = 0;
  fs->re = 0;
  fs->im = 0;
  Prefetcher pf = prefetcher_for(region);
  SumJob job{&s, type, swap, out, fs, &pf};
  rc = guarded(
      [](void* ctx) {
        auto* j = static_cast<SumJob*>(ctx);
        dispatch(j->type, [j](auto traits) {
          using Traits = decltype(traits);
          if (j->swap)
            sum_typed<true, Traits>(*j->s, j->out, j->fs, j->pf);
          else
            sum_typed<false, Traits>(*j->s, j->out, j->fs, j->pf);
        });
      },
      &job);
  return rc;
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

}  // namespace memmap
