// numpy's reductions over strided views (see reduce.h).
//
// The reduced dims are walked in numpy's order (largest |stride| outermost,
// negative strides kept, contiguous neighbours merged), so sums add in the
// order numpy's iterator does: when the innermost axis is reduced, each run is
// added pairwise (in 8192-element pieces where numpy casts through its
// buffer); when a kept axis is innermost ("column" mode), each output adds its
// elements one after the other, a whole row of outputs at a time.
#include "reduce.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "sum_detail.h"

namespace memmap {
namespace {

// numpy's cast buffer and pairwise block sizes.
constexpr uint64_t kChunk = 8192;
constexpr uint64_t kBlock = 128;
// Outputs a column task accumulates at most, and at least when split among threads.
constexpr uint64_t kColumns = 16384;
constexpr uint64_t kMinColumns = 1024;
// Below this many elements a reduction stays on the calling thread.
constexpr uint64_t kSmallWork = uint64_t{1} << 20;
// Elements per task (row tasks and slices of a full reduction).
constexpr uint64_t kTaskWork = uint64_t{1} << 18;

// The hot loops come in two widths: 16-byte vectors (the x86-64 baseline's
// SSE2, arm64's NEON) and 32-byte ones, compiled for AVX2 and chosen at run
// time (prebuilt binaries target the baseline). Both widths do the same
// operations in the same order per lane, so results do not depend on which runs.
#if defined(__x86_64__)
#define MEMMAP_AVX2 __attribute__((target("avx2")))
bool has_avx2() { return cpu_has_avx2(); }
#else
[[maybe_unused]] constexpr bool has_avx2() { return false; }
#endif

template <typename T>
struct Cx {
  T re;
  T im;
};
template <typename T>
struct IsCx : std::false_type {};
template <typename T>
struct IsCx<Cx<T>> : std::true_type {};
template <typename T>
constexpr bool kIsCx = IsCx<T>::value;
template <typename T>
struct RealOf {
  using type = T;
};
template <typename T>
struct RealOf<Cx<T>> {
  using type = T;
};

template <typename S>
inline S load_scalar(const uint8_t* p, bool swap) {
  S v;
  if (!swap) {
    std::memcpy(&v, p, sizeof(S));
    return v;
  }
  uint8_t b[sizeof(S)];
  for (unsigned i = 0; i < sizeof(S); i++) b[i] = p[sizeof(S) - 1 - i];
  std::memcpy(&v, b, sizeof(S));
  return v;
}

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else {
    float f = static_cast<float>(mant) * (1.0f / 16777216.0f);  // subnormal: mant * 2^-24, exact
    return sign != 0 ? -f : f;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Rounds to the nearest float16 (ties to even), as numpy's cast.
uint16_t double_to_half(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  const uint16_t sign = static_cast<uint16_t>((bits >> 48) & 0x8000);
  const double a = std::fabs(d);
  if (a != a) return static_cast<uint16_t>(sign | 0x7e00);
  if (a >= 65520.0) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to inf
  if (a < 6.103515625e-05) {                                      // subnormal: multiples of 2^-24
    const double q = std::nearbyint(a * 16777216.0);              // default rounding: ties to even
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(q));
  }
  int e;
  const double m = std::frexp(a, &e);            // a = m * 2^e, m in [0.5, 1)
  double q = std::nearbyint(std::ldexp(m, 11));  // 11 significant bits
  if (q >= 2048) {
    q /= 2;
    e++;
  }
  const uint16_t exp = static_cast<uint16_t>(e - 1 + 15);
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  return static_cast<uint16_t>(sign | (exp << 10) | (static_cast<uint16_t>(q) & 0x3ff));
}

// The value type the kernels work on for a stored type: float16 widened to
// float, every integer to its 64-bit kind, bool as 0/1, complex as Cx. Fewer
// value types than dtypes keep the number of kernel instances down.
template <typename Traits>
using ValueOf = std::conditional_t<
    Traits::kKind == 'c', Cx<typename Traits::Scalar>,
    std::conditional_t<Traits::kKind == 'f', std::conditional_t<Traits::kSize == 2, float, typename Traits::Scalar>,
                       std::conditional_t<Traits::kKind == 'b', uint8_t,
                                          std::conditional_t<Traits::kKind == 'i', int64_t, uint64_t>>>>;

template <typename Traits, bool Swap>
inline ValueOf<Traits> decode_one(const uint8_t* p) {
  using S = typename Traits::Scalar;
  using V = ValueOf<Traits>;
  if constexpr (Traits::kLanes == 2) {
    return V{load_scalar<S>(p, Swap), load_scalar<S>(p + sizeof(S), Swap)};
  } else if constexpr (Traits::kKind == 'f' && Traits::kSize == 2) {
    return half_to_float(load_scalar<uint16_t>(p, Swap));
  } else if constexpr (Traits::kKind == 'b') {
    return p[0] != 0 ? 1 : 0;
  } else {
    return static_cast<V>(load_scalar<S>(p, Swap));
  }
}

template <typename Traits>
void decode_run(const uint8_t* p, uint64_t n, int64_t stride, bool swap, ValueOf<Traits>* out) {
  if (swap) {
    for (uint64_t i = 0; i < n; i++) out[i] = decode_one<Traits, true>(p + static_cast<int64_t>(i) * stride);
  } else {
    for (uint64_t i = 0; i < n; i++) out[i] = decode_one<Traits, false>(p + static_cast<int64_t>(i) * stride);
  }
}

template <typename V>
inline bool aligned_run(const uint8_t* p, int64_t stride) {
  return stride == static_cast<int64_t>(sizeof(V)) && reinterpret_cast<uintptr_t>(p) % alignof(V) == 0;
}

// Where the values come from: the stored type and how to decode it.
template <typename V>
struct Src {
  ElemType type;
  bool swap;
  bool same;  // the stored bytes are V in this machine's order (read in place)
  void (*decode)(const uint8_t* p, uint64_t n, int64_t stride, bool swap, V* out);
  // n <= kChunk elements from p on, contiguous: in place when they already
  // are, else decoded into buf.
  const V* fetch(const uint8_t* p, uint64_t n, int64_t stride, V* buf) const {
    if (same && aligned_run<V>(p, stride)) return reinterpret_cast<const V*>(p);
    decode(p, n, stride, swap, buf);
    return buf;
  }
};

template <typename V>
inline bool is_nan(const V& x) {
  if constexpr (kIsCx<V>)
    return x.re != x.re || x.im != x.im;
  else if constexpr (std::is_floating_point_v<V>)
    return x != x;
  else
    return false;
}

template <typename V>
inline bool nonzero(const V& x) {
  if constexpr (kIsCx<V>)
    return x.re != 0 || x.im != 0;
  else
    return x != 0;
}

// a > b, complex lexicographically (NaN handled by the callers).
template <typename V>
inline bool greater(const V& a, const V& b) {
  if constexpr (kIsCx<V>)
    return a.re > b.re || (a.re == b.re && a.im > b.im);
  else
    return a > b;
}

template <typename V>
inline bool equal(const V& a, const V& b) {
  if constexpr (kIsCx<V>)
    return a.re == b.re && a.im == b.im;
  else
    return a == b;
}

// Accumulator kinds for sum/prod/mean: integers wrap in 64 bits.
struct BoolAcc {
  uint8_t v;
};

// One element converted to the accumulator type A.
template <typename A, typename V>
inline A convert(const V& x) {
  if constexpr (std::is_same_v<A, BoolAcc>) {
    return BoolAcc{static_cast<uint8_t>(nonzero(x) ? 1 : 0)};
  } else if constexpr (kIsCx<A>) {
    using T = decltype(A::re);
    if constexpr (kIsCx<V>)
      return A{static_cast<T>(x.re), static_cast<T>(x.im)};
    else
      return A{static_cast<T>(x), T(0)};
  } else if constexpr (std::is_integral_v<A>) {
    if constexpr (std::is_signed_v<V>)
      return static_cast<A>(static_cast<int64_t>(x));
    else
      return static_cast<A>(x);
  } else {
    static_assert(!kIsCx<V>, "complex to real");
    return static_cast<A>(x);
  }
}

// The accumulator's 0 or 1 (sum's and prod's identities).
template <typename A>
inline A identity_of(int one) {
  if constexpr (std::is_same_v<A, BoolAcc>)
    return BoolAcc{static_cast<uint8_t>(one)};
  else if constexpr (kIsCx<A>)
    return A{static_cast<decltype(A::re)>(one), 0};
  else
    return static_cast<A>(one);
}
template <typename A>
inline A zero_of() {
  return identity_of<A>(0);
}

template <typename A>
inline A add(const A& a, const A& b) {
  if constexpr (std::is_same_v<A, BoolAcc>)
    return BoolAcc{static_cast<uint8_t>(a.v | b.v)};
  else if constexpr (kIsCx<A>)
    return A{a.re + b.re, a.im + b.im};
  else
    return a + b;
}

template <typename A>
inline A mul(const A& a, const A& b) {
  if constexpr (std::is_same_v<A, BoolAcc>)
    return BoolAcc{static_cast<uint8_t>(a.v & b.v)};
  else if constexpr (kIsCx<A>)
    return A{a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
  else
    return a * b;
}

// pairwise_sum's block of 8 <= n <= kBlock elements: 8 accumulators (lane j
// adds elements j mod 8, as numpy's scalar loop does) in W-byte vectors.
template <int W, typename A, typename Get>
inline __attribute__((always_inline)) A pairwise_block(const Get& get, uint64_t off, uint64_t n) {
  typedef A Vec __attribute__((vector_size(W)));
  constexpr int kLanes = W / sizeof(A);
  constexpr int kVecs = 8 / kLanes;
  Vec acc[kVecs];
  for (int k = 0; k < kVecs; k++) {
    for (int l = 0; l < kLanes; l++) acc[k][l] = get(off + k * kLanes + l);
  }
  uint64_t i;
  for (i = 8; i < n - (n % 8); i += 8) {
    for (int k = 0; k < kVecs; k++) {
      Vec y;
      for (int l = 0; l < kLanes; l++) y[l] = get(off + i + k * kLanes + l);
      acc[k] += y;
    }
  }
  A r[8];
  std::memcpy(r, acc, sizeof r);
  A res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  for (; i < n; i++) res += get(off + i);
  return res;
}

// numpy's split of n > kBlock elements.
inline uint64_t pairwise_half(uint64_t n) {
  const uint64_t n2 = n / 2;
  return n2 - n2 % 8;
}

template <typename A, typename Get>
inline A pairwise_short(const Get& get, uint64_t off, uint64_t n) {
  A res = 0;
  for (uint64_t i = 0; i < n; i++) res += get(off + i);
  return res;
}

// numpy's pairwise_sum of get(off .. off + n) (real accumulators).
template <typename A, typename Get>
A pairwise16(const Get& get, uint64_t off, uint64_t n) {
  if (n < 8) return pairwise_short<A>(get, off, n);
  if (n <= kBlock) return pairwise_block<16, A>(get, off, n);
  const uint64_t n2 = pairwise_half(n);
  return pairwise16<A>(get, off, n2) + pairwise16<A>(get, off + n2, n - n2);
}
#if defined(__x86_64__)
template <typename A, typename Get>
MEMMAP_AVX2 A pairwise32(const Get& get, uint64_t off, uint64_t n) {
  if (n < 8) return pairwise_short<A>(get, off, n);
  if (n <= kBlock) return pairwise_block<32, A>(get, off, n);
  const uint64_t n2 = pairwise_half(n);
  return pairwise32<A>(get, off, n2) + pairwise32<A>(get, off + n2, n - n2);
}
#endif
template <typename A, typename Get>
A pairwise(const Get& get, uint64_t off, uint64_t n) {
#if defined(__x86_64__)
  if (has_avx2()) return pairwise32<A>(get, off, n);
#endif
  return pairwise16<A>(get, off, n);
}

// numpy's complex pairwise_sum: it walks the interleaved scalars, so its
// blocks are 4 elements with 4 accumulators per part.
template <typename T, typename Get>
Cx<T> pairwise_cx(const Get& get, uint64_t off, uint64_t n) {
  if (n < 4) {
    Cx<T> res{0, 0};
    for (uint64_t i = 0; i < n; i++) res = add(res, get(off + i));
    return res;
  }
  if (n <= kBlock / 2) {
    T re[4];
    T im[4];
    for (int j = 0; j < 4; j++) {
      Cx<T> x = get(off + j);
      re[j] = x.re;
      im[j] = x.im;
    }
    uint64_t i;
    for (i = 4; i < n - (n % 4); i += 4) {
      for (int j = 0; j < 4; j++) {
        Cx<T> x = get(off + i + j);
        re[j] += x.re;
        im[j] += x.im;
      }
    }
    Cx<T> res{(re[0] + re[1]) + (re[2] + re[3]), (im[0] + im[1]) + (im[2] + im[3])};
    for (; i < n; i++) res = add(res, get(off + i));
    return res;
  }
  const uint64_t n2 = (n - n % 8) / 2;
  return add(pairwise_cx<T>(get, off, n2), pairwise_cx<T>(get, off + n2, n - n2));
}

template <typename A, typename Get>
A pairwise_any(const Get& get, uint64_t n) {
  if constexpr (kIsCx<A>)
    return pairwise_cx<decltype(A::re)>(get, 0, n);
  else
    return pairwise<A>(get, 0, n);
}

// Unaligned vector loads and stores. (memcpy of a 32-byte vector may be
// split into 16-byte moves through the stack, which stalls the loads.)
template <typename Vec>
inline __attribute__((always_inline)) void load_vec(Vec& v, const void* p) {
  typedef Vec Unaligned __attribute__((aligned(1), may_alias));
  v = *static_cast<const Unaligned*>(p);
}
template <typename Vec>
inline __attribute__((always_inline)) void store_vec(void* p, const Vec& v) {
  typedef Vec Unaligned __attribute__((aligned(1), may_alias));
  *static_cast<Unaligned*>(p) = v;
}

// a becomes y where y is the better (max: greater) of the two; NaN as
// MinMaxOp::fold. (Vectors by reference: 32-byte ones by value would change
// the ABI of the baseline build.)
template <typename Vec>
inline __attribute__((always_inline)) void take_better(Vec& a, const Vec& y, bool max, bool nan) {
  const auto better = max ? (y > a) : (y < a);
  const auto take = nan ? ((y == y) & ((a != a) | better)) : ((a == a) & ((y != y) | better));
  a = take ? y : a;
}

// The column loops' steps: acc = step(acc, x) per output, x already in the
// accumulator's type.
enum class ColStep { kAdd, kMul, kMax, kMin, kNanmax, kNanmin };

template <ColStep C, typename T>
inline __attribute__((always_inline)) void col_step(T& a, const T& y) {
  if constexpr (C == ColStep::kAdd)
    a += y;
  else if constexpr (C == ColStep::kMul)
    a *= y;
  else
    take_better(a, y, C == ColStep::kMax || C == ColStep::kNanmax, C == ColStep::kNanmax || C == ColStep::kNanmin);
}

// acc[j] = step(... step(step(acc[j], r0[j]), r1[j]) ..., r(m-1)[j]) for j < n,
// rows r_i = p + i * stride (V in place), converted to A first: the order of
// one row after the other, with four rows per pass over the accumulators.
template <int W, ColStep C, typename A, typename V>
inline __attribute__((always_inline)) void col_rows_w(A* acc, const uint8_t* p, uint64_t m, int64_t stride,
                                                      uint64_t n) {
  constexpr uint64_t kLanes = W / sizeof(A);
  typedef A VecA __attribute__((vector_size(W)));
  typedef V VecV __attribute__((vector_size(kLanes * sizeof(V))));
  constexpr uint64_t kRows = 4;
  for (uint64_t r = 0; r < m;) {
    const uint64_t k = m - r >= kRows ? kRows : 1;
    const V* x[kRows];
    for (uint64_t i = 0; i < kRows; i++)
      x[i] = reinterpret_cast<const V*>(p + static_cast<int64_t>(r + i % k) * stride);
    uint64_t j = 0;
    for (; j + kLanes <= n; j += kLanes) {
      VecA a;
      load_vec(a, acc + j);
      for (uint64_t i = 0; i < k; i++) {
        VecV y;
        load_vec(y, x[i] + j);
        col_step<C>(a, __builtin_convertvector(y, VecA));
      }
      store_vec(acc + j, a);
    }
    for (; j < n; j++) {
      A a = acc[j];
      for (uint64_t i = 0; i < k; i++) col_step<C>(a, static_cast<A>(x[i][j]));
      acc[j] = a;
    }
    r += k;
  }
}

template <ColStep C, typename A, typename V>
void col_rows16(A* acc, const uint8_t* p, uint64_t m, int64_t stride, uint64_t n) {
  col_rows_w<16, C, A, V>(acc, p, m, stride, n);
}
#if defined(__x86_64__)
template <ColStep C, typename A, typename V>
MEMMAP_AVX2 void col_rows32(A* acc, const uint8_t* p, uint64_t m, int64_t stride, uint64_t n) {
  col_rows_w<32, C, A, V>(acc, p, m, stride, n);
}
#endif
// acc is an array of n accumulators that each hold just an A.
template <ColStep C, typename A, typename V, typename Acc>
void col_rows(Acc* acc, const uint8_t* p, uint64_t m, int64_t stride, uint64_t n) {
  static_assert(sizeof(Acc) == sizeof(A) && std::is_standard_layout_v<Acc>, "an A per output");
  A* a = reinterpret_cast<A*>(acc);
#if defined(__x86_64__)
  if (has_avx2()) return col_rows32<C, A, V>(a, p, m, stride, n);
#endif
  col_rows16<C, A, V>(a, p, m, stride, n);
}

// Calls fn(getter) with a getter of element i of the run at p, whose bytes
// are V in this machine's order: a pointer read when aligned and contiguous.
template <typename V, typename Fn>
void with_getter(const uint8_t* p, int64_t stride, Fn&& fn) {
  if (aligned_run<V>(p, stride)) {
    const V* x = reinterpret_cast<const V*>(p);
    fn([x](uint64_t i) { return x[i]; });
  } else {
    fn([p, stride](uint64_t i) {
      V v;
      std::memcpy(&v, p + static_cast<int64_t>(i) * stride, sizeof(V));
      return v;
    });
  }
}

// ---- the plan: kept dims (output order) and reduced dims (numpy's order)

struct Plan {
  const uint8_t* base = nullptr;  // the element at index 0 of every dim
  int nk = 0;                     // kept dims of extent > 1
  uint64_t kshape[kMaxDims];
  int64_t kstride[kMaxDims];
  uint64_t kout[kMaxDims];  // output element stride
  uint64_t nout = 1;
  int nr = 0;  // reduced dims of extent > 1, outermost first
  uint64_t rshape[kMaxDims];
  int64_t rstride[kMaxDims];
  int64_t rmult[kMaxDims];  // step of the flat C index over the reduced dims as given
  int64_t idx0 = 0;         // flat index of `base` (0; slices of a full reduction start later)
  uint64_t nred = 1;
  bool column = false;
  int kin = -1;  // column mode: the kept dim walked innermost
};

int make_plan(const Region& region, const ReduceArgs& a, unsigned itemsize, bool by_index, Plan* pl) {
  const StridedView& v = a.view;
  if (v.ndim < 0 || v.ndim > kMaxDims || a.nkeep < 0 || a.nkeep > v.ndim) return -EINVAL;
  __int128 lo = v.offset;
  __int128 hi = v.offset;
  bool empty = false;
  for (int k = 0; k < v.ndim; k++) {
    if (v.shape[k] == 0) empty = true;
    if (v.shape[k] > (uint64_t{1} << 53)) return -ERANGE;
    if (v.strides[k] > (int64_t{1} << 53) || v.strides[k] < -(int64_t{1} << 53)) return -ERANGE;
    if (v.shape[k] == 0) continue;
    const __int128 span = static_cast<__int128>(v.shape[k] - 1) * v.strides[k];
    (span < 0 ? lo : hi) += span;
  }
  if (!empty && (lo < 0 || hi + itemsize > static_cast<__int128>(region.length))) return -ERANGE;
  pl->base = region.data + v.offset;
  uint64_t step = 1;
  for (int k = a.nkeep - 1; k >= 0; k--) {
    if (v.shape[k] != 1) {
      pl->kshape[pl->nk] = v.shape[k];
      pl->kstride[pl->nk] = v.strides[k];
      pl->kout[pl->nk] = step;
      pl->nk++;
    }
    step *= v.shape[k];
  }
  pl->nout = step;
  std::reverse(pl->kshape, pl->kshape + pl->nk);
  std::reverse(pl->kstride, pl->kstride + pl->nk);
  std::reverse(pl->kout, pl->kout + pl->nk);
  uint64_t rs[kMaxDims];
  int64_t rt[kMaxDims];
  int64_t rm[kMaxDims];
  int n = 0;
  int64_t mult = 1;
  for (int k = v.ndim - 1; k >= a.nkeep; k--) {
    pl->nred *= v.shape[k];
    if (v.shape[k] > 1) {
      rs[n] = v.shape[k];
      rt[n] = v.strides[k];
      rm[n] = mult;
      n++;
    }
    mult *= static_cast<int64_t>(v.shape[k]);
  }
  if (empty) return 0;
  int order[kMaxDims];
  for (int i = 0; i < n; i++) order[i] = i;
  // Largest |stride| first; equal ones keep C order (outer dims first). Like
  // numpy's reductions (NPY_ITER_DONT_NEGATE_STRIDES), negative strides are
  // not flipped: a reversed run is added from its first element.
  auto mag = [&](int k) { return static_cast<uint64_t>(rt[k] < 0 ? -rt[k] : rt[k]); };
  std::stable_sort(order, order + n, [&](int x, int y) { return mag(x) > mag(y) || (mag(x) == mag(y) && x > y); });
  for (int i = 0; i < n; i++) {
    const int k = order[i];
    const int last = pl->nr - 1;
    if (last >= 0 && pl->rstride[last] == static_cast<int64_t>(rs[k]) * rt[k] &&
        (!by_index || pl->rmult[last] == static_cast<int64_t>(rs[k]) * rm[k])) {
      pl->rshape[last] *= rs[k];
      pl->rstride[last] = rt[k];
      pl->rmult[last] = rm[k];
    } else {
      pl->rshape[pl->nr] = rs[k];
      pl->rstride[pl->nr] = rt[k];
      pl->rmult[pl->nr] = rm[k];
      pl->nr++;
    }
  }
  if (pl->nk > 0) {
    uint64_t best = ~uint64_t{0};
    for (int k = 0; k < pl->nk; k++) {
      const uint64_t s = static_cast<uint64_t>(std::llabs(pl->kstride[k]));
      if (s <= best) {
        best = s;
        pl->kin = k;
      }
    }
    const int64_t inner = pl->rstride[pl->nr > 0 ? pl->nr - 1 : 0];
    pl->column = pl->nr == 0 || best < static_cast<uint64_t>(inner < 0 ? -inner : inner);
  }
  return 0;
}

// Calls fn(p, n, stride, idx, mult) for each innermost run of the reduced dims.
template <typename Fn>
void walk_runs(const Plan& pl, const uint8_t* base, Fn&& fn) {
  if (pl.nr == 0) {
    fn(base, 1, 0, pl.idx0, 0);
    return;
  }
  const int outer = pl.nr - 1;
  uint64_t at[kMaxDims] = {};
  const uint8_t* p = base;
  int64_t idx = pl.idx0;
  for (;;) {
    fn(p, pl.rshape[outer], pl.rstride[outer], idx, pl.rmult[outer]);
    int k = outer - 1;
    for (; k >= 0; k--) {
      if (++at[k] < pl.rshape[k]) {
        p += pl.rstride[k];
        idx += pl.rmult[k];
        break;
      }
      p -= static_cast<int64_t>(pl.rshape[k] - 1) * pl.rstride[k];
      idx -= static_cast<int64_t>(pl.rshape[k] - 1) * pl.rmult[k];
      at[k] = 0;
    }
    if (k < 0) return;
  }
}

// Element i of the reduced dims taken in the plan's order (walk_runs()'), as one sequence: a cursor over the
// innermost runs, moved by division only when i leaves the current one (pairwise() reads i mostly in order).
struct FlatRuns {
  const Plan* pl;
  uint64_t len;    // elements per innermost run
  int64_t stride;  // their byte stride
  mutable uint64_t lo = 1;
  mutable uint64_t hi = 0;
  mutable const uint8_t* p = nullptr;
  explicit FlatRuns(const Plan& plan) : pl(&plan), len(plan.rshape[plan.nr - 1]), stride(plan.rstride[plan.nr - 1]) {}
  const uint8_t* at(uint64_t i) const {
    if (i < lo || i >= hi) {
      uint64_t q = i / len;
      lo = q * len;
      hi = lo + len;
      int64_t off = 0;
      for (int k = pl->nr - 2; k >= 0; k--) {
        off += static_cast<int64_t>(q % pl->rshape[k]) * pl->rstride[k];
        q /= pl->rshape[k];
      }
      p = pl->base + off;
    }
    return p + static_cast<int64_t>(i - lo) * stride;
  }
};

// Byte offset of output o's first element from the base.
inline int64_t kept_offset(const Plan& pl, uint64_t o) {
  int64_t off = 0;
  for (int k = 0; k < pl.nk; k++) off += static_cast<int64_t>((o / pl.kout[k]) % pl.kshape[k]) * pl.kstride[k];
  return off;
}

// ---- writing results

template <typename A>
void store_acc(ElemType out, const A& a, uint8_t* dst) {
  if constexpr (std::is_same_v<A, BoolAcc>) {
    dst[0] = a.v;
  } else if constexpr (kIsCx<A>) {
    using T = decltype(A::re);
    std::memcpy(dst, &a.re, sizeof(T));
    std::memcpy(dst + sizeof(T), &a.im, sizeof(T));
  } else if constexpr (std::is_integral_v<A>) {
    const uint64_t u = static_cast<uint64_t>(a);
    std::memcpy(dst, &u, elem_size(out));  // little end first: truncation wraps
  } else if (out == ElemType::kFloat16) {
    const uint16_t h = double_to_half(static_cast<double>(a));
    std::memcpy(dst, &h, 2);
  } else {
    std::memcpy(dst, &a, sizeof(A));
  }
}

// A value as an element of the stored type `type` (this machine's order).
template <typename V>
void store_as(ElemType type, const V& x, uint8_t* dst) {
  dispatch(type, [&](auto traits) {
    using T = decltype(traits);
    using S = typename T::Scalar;
    // kIsCx<V> tested on its own: clang checks x.re in a generic lambda's
    // branch unless a condition that does not depend on T discards it.
    if constexpr (kIsCx<V>) {
      if constexpr (T::kLanes == 2) {
        const S re = static_cast<S>(x.re);
        const S im = static_cast<S>(x.im);
        std::memcpy(dst, &re, sizeof(S));
        std::memcpy(dst + sizeof(S), &im, sizeof(S));
      }
    } else if constexpr (T::kLanes == 1) {
      if constexpr (T::kKind == 'f' && T::kSize == 2) {
        const uint16_t h = double_to_half(static_cast<double>(x));
        std::memcpy(dst, &h, 2);
      } else {
        const S v = static_cast<S>(x);
        std::memcpy(dst, &v, sizeof(S));
      }
    }
  });
}

// A double quotient as an integer result (numpy casts NaN and overflow to the minimum).
inline uint64_t to_int_bits(double q) {
  if (!(q >= -9223372036854775808.0 && q < 9223372036854775808.0)) return uint64_t{1} << 63;
  return static_cast<uint64_t>(static_cast<int64_t>(q));
}

// ---- the ops. Each has Acc (per output), init(o), run(acc, x, n, idx,
// mult) over contiguous values (flat index idx + i * mult), col(acc, x, n,
// idx, first) for n outputs at one reduced position, merge(a, b) (b's
// elements come after a's) and finish(acc, nred, dst) (0 or -EDOM).
// Ops with kRaw read runs themselves: raw(acc, p, n, stride, swap). Ops with
// kRows have rows(acc, p, m, stride, n): col over m rows of in-place values.
// kSequential: a full reduction is not split (merge would change the order).

enum class SumKind { kSum, kProd, kMean };

template <typename V, typename A, bool Count>
struct SumAcc {
  A s;
};
template <typename V, typename A>
struct SumAcc<V, A, true> {
  A s;
  uint64_t count;  // elements that are not NaN (nanmean)
};

template <typename V, typename A, SumKind K, bool Nan>
struct SumOp {
  static constexpr bool kCount = Nan && K == SumKind::kMean;
  using Acc = SumAcc<V, A, kCount>;
  static constexpr bool kRaw = true;
  static constexpr bool kRows = !Nan && std::is_floating_point_v<A> && std::is_floating_point_v<V>;
  // numpy multiplies one element after the other; products of floats depend
  // on that order (integer ones wrap, in any order).
  static constexpr bool kSequential = K == SumKind::kProd && (kIsCx<A> || std::is_floating_point_v<A>);
  ElemType out;
  const Src<V>* src;

  Acc init(uint64_t) const {
    Acc acc{};
    acc.s = identity_of<A>(K == SumKind::kProd ? 1 : 0);
    return acc;
  }
  static uint64_t count_of(const Acc& acc, uint64_t nred) {
    if constexpr (kCount)
      return acc.count;
    else
      return nred;
  }
  static A conv(const V& x) {
    if constexpr (Nan) {
      if (is_nan(x)) return zero_of<A>();
    }
    return convert<A>(x);
  }
  template <typename Get>
  void fold(Acc& acc, const Get& get, uint64_t n) const {
    if constexpr (kCount) {
      for (uint64_t i = 0; i < n; i++) acc.count += is_nan(get(i)) ? 0 : 1;
    }
    if constexpr (K == SumKind::kProd) {
      A s = acc.s;
      for (uint64_t i = 0; i < n; i++) s = mul(s, conv(get(i)));
      acc.s = s;
    } else if constexpr (std::is_integral_v<A> || std::is_same_v<A, BoolAcc>) {
      A s = acc.s;
      for (uint64_t i = 0; i < n; i++) s = add(s, conv(get(i)));
      acc.s = s;
    } else {
      acc.s = add(acc.s, pairwise_any<A>([&](uint64_t i) { return conv(get(i)); }, n));
    }
  }
  // numpy adds a run pairwise as a whole when it reads the values in place,
  // and in pieces of its cast buffer when it converts them.
  void raw(Acc& acc, const uint8_t* p, uint64_t n, int64_t stride, V* buf) const {
    const bool whole = src->same && std::is_same_v<V, A>;
    const uint64_t piece = whole ? n : kChunk;
    for (uint64_t done = 0; done < n; done += piece) {
      const uint64_t m = std::min(piece, n - done);
      const uint8_t* q = p + static_cast<int64_t>(done) * stride;
      if (src->same) {
        with_getter<V>(q, stride, [&](const auto& get) { fold(acc, get, m); });
      } else {
        const V* x = src->fetch(q, m, stride, buf);
        fold(
            acc, [x](uint64_t i) { return x[i]; }, m);
      }
    }
  }
  void run(Acc& acc, const V* x, uint64_t n, int64_t, int64_t) const {
    fold(
        acc, [x](uint64_t i) { return x[i]; }, n);
  }
  void rows(Acc* acc, const uint8_t* p, uint64_t m, int64_t stride, uint64_t n) const {
    if constexpr (kRows) col_rows<K == SumKind::kProd ? ColStep::kMul : ColStep::kAdd, A, V>(acc, p, m, stride, n);
  }
  void col(Acc* acc, const V* x, uint64_t n, int64_t, bool) const {
    for (uint64_t j = 0; j < n; j++) {
      if constexpr (K == SumKind::kProd)
        acc[j].s = mul(acc[j].s, conv(x[j]));
      else
        acc[j].s = add(acc[j].s, conv(x[j]));
    }
    if constexpr (kCount) {
      for (uint64_t j = 0; j < n; j++) acc[j].count += is_nan(x[j]) ? 0 : 1;
    }
  }
  void merge(Acc& a, const Acc& b) const {
    a.s = K == SumKind::kProd ? mul(a.s, b.s) : add(a.s, b.s);
    if constexpr (kCount) a.count += b.count;
  }
  A value(const Acc& acc, uint64_t nred) const {
    if constexpr (K != SumKind::kMean) {
      return acc.s;
    } else {
      const uint64_t n = count_of(acc, nred);
      if constexpr (std::is_same_v<A, BoolAcc>) {
        return BoolAcc{static_cast<uint8_t>(acc.s.v != 0 && n != 0 ? 1 : 0)};
      } else if constexpr (std::is_integral_v<A>) {
        return static_cast<A>(to_int_bits(static_cast<double>(static_cast<int64_t>(acc.s)) / static_cast<double>(n)));
      } else if constexpr (kIsCx<A>) {
        using T = decltype(A::re);
        // numpy divides by the count as complex128 (n + 0j), with its complex
        // division: times 1/n, and a NaN or inf part spoils the other.
        const double re = acc.s.re;
        const double im = acc.s.im;
        const double c = static_cast<double>(n);
        if (n == 0) return A{static_cast<T>(re / c), static_cast<T>(im / c)};
        const double scl = 1.0 / (c + 0.0 * 0.0);
        return A{static_cast<T>((re + im * 0.0) * scl), static_cast<T>((im - re * 0.0) * scl)};
      } else {
        return static_cast<A>(static_cast<double>(acc.s) / static_cast<double>(n));
      }
    }
  }
  int finish(const Acc& acc, uint64_t nred, uint8_t* dst) const {
    store_acc(out, value(acc, nred), dst);
    return 0;
  }
};

// Second pass of var/nanvar: Σ |x - mean|² (NaN elements count 0), divided by n - ddof.
template <typename V, typename A, bool Nan>
struct VarOp {
  using R = typename RealOf<A>::type;
  struct Acc {
    R s;
    A m;
    uint64_t count;
  };
  struct Mean {
    A m;
    uint64_t count;
  };
  static constexpr bool kRaw = true;
  static constexpr bool kRows = false;
  static constexpr bool kSequential = false;
  const Mean* means;
  ElemType out;
  const Src<V>* src;
  double ddof;

  Acc init(uint64_t o) const { return Acc{R(0), means[o].m, means[o].count}; }
  static R dev(const V& x, const A& m) {
    const A a = convert<A>(x);
    if constexpr (kIsCx<A>) {
      const R re = a.re - m.re;
      const R im = a.im - m.im;
      return re * re + im * im;
    } else {
      const R d = a - m;
      return d * d;
    }
  }
  // nanvar: numpy subtracts the mean in place, in the input's type, and
  // squares there (float16 through float32, as its half loops do).
  static R dev_nan(const V& x, const A& m, bool half) {
    if (is_nan(x)) return R(0);
    if constexpr (kIsCx<V>) {
      using T = typename RealOf<V>::type;
      const A a = convert<A>(x);
      const T re = static_cast<T>(a.re - m.re);
      const T im = static_cast<T>(a.im - m.im);
      return static_cast<R>(re * re + im * im);
    } else if constexpr (std::is_floating_point_v<V>) {
      V d = static_cast<V>(convert<A>(x) - m);
      if (half) {
        d = half_to_float(double_to_half(d));
        return static_cast<R>(half_to_float(double_to_half(d * d)));
      }
      return static_cast<R>(d * d);
    } else {
      return dev(x, m);
    }
  }
  template <typename Get>
  R sum_dev(const Get& get, const A& m, uint64_t n) const {
    if constexpr (Nan) {
      const bool half = src->type == ElemType::kFloat16;
      return pairwise<R>([&](uint64_t i) { return dev_nan(get(i), m, half); }, 0, n);
    } else {
      return pairwise<R>([&](uint64_t i) { return dev(get(i), m); }, 0, n);
    }
  }
  // Elements [lo, lo + n) of the whole reduction in the plan's order, one pairwise sum: numpy's var of everything
  // subtracts the mean into a new array laid out in that order (K) and sums it uncast, across the view's runs.
  void flat(Acc& acc, const Plan& pl, uint64_t lo, uint64_t n) const {
    static_assert(!Nan, "nanvar sums a copy in cast pieces");
    const FlatRuns f(pl);
    const Src<V>* in = src;
    if (in->same) {
      acc.s += sum_dev(
          [&f, lo](uint64_t i) {
            V v;
            std::memcpy(&v, f.at(lo + i), sizeof(V));
            return v;
          },
          acc.m, n);
    } else {
      acc.s += sum_dev(
          [&f, in, lo](uint64_t i) {
            V v;
            in->decode(f.at(lo + i), 1, f.stride, in->swap, &v);
            return v;
          },
          acc.m, n);
    }
  }
  // var squares into a new array of the accumulator's type and sums that
  // uncast: pairwise over whole runs. nanvar's squares keep the input's type,
  // so numpy casts them in pieces of kChunk unless that is the accumulator's.
  void raw(Acc& acc, const uint8_t* p, uint64_t n, int64_t stride, V* buf) const {
    const A m = acc.m;
    if (!Nan && !src->same) {
      // Decoded one by one (a call each): the order of numpy's whole runs.
      const Src<V>* in = src;
      acc.s += sum_dev(
          [in, p, stride](uint64_t i) {
            V v;
            in->decode(p + static_cast<int64_t>(i) * stride, 1, stride, in->swap, &v);
            return v;
          },
          m, n);
      return;
    }
    if (src->same && (!Nan || std::is_same_v<V, A>)) {
      with_getter<V>(p, stride, [&](const auto& get) { acc.s += sum_dev(get, m, n); });
      return;
    }
    for (uint64_t done = 0; done < n; done += kChunk) {
      const uint64_t k = std::min(kChunk, n - done);
      const uint8_t* q = p + static_cast<int64_t>(done) * stride;
      if (src->same) {
        with_getter<V>(q, stride, [&](const auto& get) { acc.s += sum_dev(get, m, k); });
      } else {
        const V* x = src->fetch(q, k, stride, buf);
        acc.s += sum_dev([x](uint64_t i) { return x[i]; }, m, k);
      }
    }
  }
  void run(Acc& acc, const V* x, uint64_t n, int64_t, int64_t) const {
    acc.s += sum_dev([x](uint64_t i) { return x[i]; }, acc.m, n);
  }
  void col(Acc* acc, const V* x, uint64_t n, int64_t, bool) const {
    if constexpr (Nan) {
      const bool half = src->type == ElemType::kFloat16;
      for (uint64_t j = 0; j < n; j++) acc[j].s += dev_nan(x[j], acc[j].m, half);
    } else {
      for (uint64_t j = 0; j < n; j++) acc[j].s += dev(x[j], acc[j].m);
    }
  }
  void merge(Acc& a, const Acc& b) const { a.s += b.s; }
  int finish(const Acc& acc, uint64_t nred, uint8_t* dst) const {
    const double n = static_cast<double>(Nan ? acc.count : nred);
    double dof = n - ddof;
    double q;
    if (Nan && dof <= 0)
      q = std::numeric_limits<double>::quiet_NaN();
    else
      q = static_cast<double>(acc.s) / (dof > 0 ? dof : 0.0);
    if (out == ElemType::kFloat32) {
      const float f = static_cast<float>(q);
      std::memcpy(dst, &f, 4);
    } else {
      std::memcpy(dst, &q, 8);
    }
    return 0;
  }
};

// min/max (NaN propagates) and nanmin/nanmax (NaN skipped), as numpy's
// maximum/fmax: on ties the element already held stays.
// min/max of x[0..n) folded into acc, 64 bytes of lanes at a time (lane l
// takes the elements l mod 64 / sizeof(V)) in W-byte vectors, the lanes then
// folded in order. Same value as folding one by one, but for which of two
// equal zeros is kept and which NaN; the same for either W.
template <int W, typename V, bool Max, bool Nan>
inline __attribute__((always_inline)) V fold_vectors_w(V acc, const V* x, uint64_t n, uint64_t* done) {
  typedef V Vec __attribute__((vector_size(W)));
  constexpr int kVecs = 64 / W;
  constexpr uint64_t kStep = 64 / sizeof(V);
  *done = 0;
  if (n < 2 * kStep) return acc;
  Vec a[kVecs];
  for (int k = 0; k < kVecs; k++) load_vec(a[k], x + k * (W / sizeof(V)));
  uint64_t i = kStep;
  for (; i + kStep <= n; i += kStep) {
    for (int k = 0; k < kVecs; k++) {
      Vec y;
      load_vec(y, x + i + k * (W / sizeof(V)));
      take_better(a[k], y, Max, Nan);
    }
  }
  V lanes[kStep];
  std::memcpy(lanes, a, sizeof lanes);
  for (uint64_t j = 0; j < kStep; j++) {
    const V y = lanes[j];
    const bool better = Max ? y > acc : y < acc;
    const bool take = Nan ? (y == y && (acc != acc || better)) : (acc == acc && (y != y || better));
    acc = take ? y : acc;
  }
  *done = i;
  return acc;
}

template <typename V, bool Max, bool Nan>
V fold_vectors16(V acc, const V* x, uint64_t n, uint64_t* done) {
  return fold_vectors_w<16, V, Max, Nan>(acc, x, n, done);
}
#if defined(__x86_64__)
template <typename V, bool Max, bool Nan>
MEMMAP_AVX2 V fold_vectors32(V acc, const V* x, uint64_t n, uint64_t* done) {
  return fold_vectors_w<32, V, Max, Nan>(acc, x, n, done);
}
#endif
template <typename V, bool Max, bool Nan>
V fold_vectors(V acc, const V* x, uint64_t n, uint64_t* done) {
#if defined(__x86_64__)
  if (has_avx2()) return fold_vectors32<V, Max, Nan>(acc, x, n, done);
#endif
  return fold_vectors16<V, Max, Nan>(acc, x, n, done);
}

// Complex nanmin/nanmax keep the first element while every one has a NaN
// part (numpy's fmin/fmax): they need to know whether they hold one yet.
template <typename V, bool Flagged>
struct MinMaxAcc {
  V v;
};
template <typename V>
struct MinMaxAcc<V, true> {
  V v;
  bool set;
};

template <typename V, bool Max, bool Nan>
struct MinMaxOp {
  // Starts from a value every element replaces or equals: -inf/+inf (the
  // type's limit for integers), NaN for the nan twins (which skip it). There
  // is always one element (empty reductions are refused before).
  static constexpr bool kFlagged = Nan && kIsCx<V>;
  using Acc = MinMaxAcc<V, kFlagged>;
  static constexpr bool kRaw = false;
  static constexpr bool kRows = std::is_floating_point_v<V>;
  static constexpr bool kSequential = false;
  static constexpr ColStep kStep =
      Max ? (Nan ? ColStep::kNanmax : ColStep::kMax) : (Nan ? ColStep::kNanmin : ColStep::kMin);
  ElemType type;

  static V neutral() {
    if constexpr (kIsCx<V>) {
      using T = typename RealOf<V>::type;
      const T e = Nan ? std::numeric_limits<T>::quiet_NaN()
                      : (Max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity());
      return V{e, e};
    } else if constexpr (std::is_floating_point_v<V>) {
      return Nan ? std::numeric_limits<V>::quiet_NaN()
                 : (Max ? -std::numeric_limits<V>::infinity() : std::numeric_limits<V>::infinity());
    } else {
      return Max ? std::numeric_limits<V>::lowest() : std::numeric_limits<V>::max();
    }
  }
  Acc init(uint64_t) const {
    Acc acc{};
    acc.v = neutral();
    return acc;
  }
  static V fold(const V& acc, const V& x) {
    const bool better = Max ? greater(x, acc) : greater(acc, x);
    if constexpr (Nan)
      return (!is_nan(x) && (is_nan(acc) || better)) ? x : acc;
    else
      return (!is_nan(acc) && (is_nan(x) || better)) ? x : acc;
  }
  static void step(Acc& acc, const V& x) {
    if constexpr (kFlagged) {
      if (!acc.set) {
        acc.v = x;
        acc.set = true;
        return;
      }
    }
    acc.v = fold(acc.v, x);
  }
  void run(Acc& acc, const V* x, uint64_t n, int64_t, int64_t) const {
    uint64_t i = 0;
    if constexpr (!kIsCx<V>) {
      V v = fold_vectors<V, Max, Nan>(acc.v, x, n, &i);
      for (; i < n; i++) v = fold(v, x[i]);
      acc.v = v;
    } else {
      for (; i < n; i++) step(acc, x[i]);
    }
  }
  void rows(Acc* acc, const uint8_t* p, uint64_t m, int64_t stride, uint64_t n) const {
    if constexpr (kRows) col_rows<kStep, V, V>(acc, p, m, stride, n);
  }
  void col(Acc* acc, const V* x, uint64_t n, int64_t, bool) const {
    for (uint64_t j = 0; j < n; j++) step(acc[j], x[j]);
  }
  void merge(Acc& a, const Acc& b) const {
    if constexpr (kFlagged) {
      if (!b.set) return;
      if (!a.set) {
        a = b;
        return;
      }
    }
    a.v = fold(a.v, b.v);
  }
  int finish(const Acc& acc, uint64_t, uint8_t* dst) const {
    store_as(type, acc.v, dst);
    return 0;
  }
};

// argmin/argmax (the first NaN wins) and nanargmin/nanargmax (NaN read as
// +inf/-inf, as numpy replaces it; a slice of only NaN is an error). Elements
// are visited in memory order, so ties go to the smaller flat index.
template <typename V, bool Max, bool Nan>
struct ArgOp {
  struct Acc {
    V v;
    int64_t i;
    bool set;
    bool nan;    // v is NaN
    bool valid;  // an element that is not NaN was seen
  };
  static constexpr bool kRaw = false;
  static constexpr bool kRows = false;
  static constexpr bool kSequential = false;

  Acc init(uint64_t) const { return Acc{V{}, 0, false, false, false}; }
  static V fill() {
    if constexpr (kIsCx<V>) {
      using T = decltype(V::re);
      return V{Max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity(), T(0)};
    } else if constexpr (std::is_floating_point_v<V>) {
      return Max ? -std::numeric_limits<V>::infinity() : std::numeric_limits<V>::infinity();
    } else {
      return V{};
    }
  }
  static void step(Acc& acc, V x, int64_t idx) {
    bool nan = is_nan(x);
    if constexpr (Nan) {
      if (nan) {
        x = fill();
        nan = false;
      } else {
        acc.valid = true;
      }
    }
    if (!acc.set) {
      acc = Acc{x, idx, true, nan, acc.valid};
      return;
    }
    if (acc.nan) {
      if (nan && idx < acc.i) acc.i = idx;
      return;
    }
    if (nan) {
      acc.v = x;
      acc.i = idx;
      acc.nan = true;
      return;
    }
    const bool better = Max ? greater(x, acc.v) : greater(acc.v, x);
    if (better || (idx < acc.i && equal(x, acc.v))) {
      acc.v = x;
      acc.i = idx;
    }
  }
  void run(Acc& acc, const V* x, uint64_t n, int64_t idx, int64_t mult) const {
    if constexpr (!kIsCx<V>) {
      // Blocks whose extreme cannot beat the one held are skipped after a
      // vectorisable scan.
      constexpr uint64_t kScan = 512;
      uint64_t b = 0;
      for (; b + kScan <= n; b += kScan) {
        const V* y = x + b;
        uint64_t done;
        V best = fold_vectors<V, Max, false>(y[0], y, kScan, &done);
        for (; done < kScan; done++) best = MinMaxOp<V, Max, false>::fold(best, y[done]);
        const int64_t first =
            mult >= 0 ? idx + static_cast<int64_t>(b) * mult : idx + static_cast<int64_t>(b + kScan - 1) * mult;
        if (acc.set && !acc.nan && !is_nan(best)) {
          const bool better = Max ? greater(best, acc.v) : greater(acc.v, best);
          if (!better && !(first < acc.i && equal(best, acc.v))) {
            acc.valid = true;
            continue;
          }
        }
        for (uint64_t i = 0; i < kScan; i++) step(acc, y[i], idx + static_cast<int64_t>(b + i) * mult);
      }
      for (; b < n; b++) step(acc, x[b], idx + static_cast<int64_t>(b) * mult);
    } else {
      for (uint64_t i = 0; i < n; i++) step(acc, x[i], idx + static_cast<int64_t>(i) * mult);
    }
  }
  void col(Acc* acc, const V* x, uint64_t n, int64_t idx, bool) const {
    for (uint64_t j = 0; j < n; j++) step(acc[j], x[j], idx);
  }
  void merge(Acc& a, const Acc& b) const {
    if (!b.set) return;
    const bool valid = a.valid || b.valid;
    if (!a.set) {
      a = b;
    } else if (b.nan) {
      if (!a.nan || b.i < a.i) a = b;
    } else if (!a.nan) {
      const bool better = Max ? greater(b.v, a.v) : greater(a.v, b.v);
      if (better || (b.i < a.i && equal(b.v, a.v))) a = b;
    }
    a.valid = valid;
  }
  int finish(const Acc& acc, uint64_t, uint8_t* dst) const {
    if (Nan && !acc.valid) return -EDOM;
    std::memcpy(dst, &acc.i, 8);
    return 0;
  }
};

// any/all/count_nonzero: a count of the elements that are not zero.
template <typename V>
struct CountOp {
  using Acc = uint64_t;
  static constexpr bool kRaw = false;
  static constexpr bool kRows = false;
  static constexpr bool kSequential = false;
  ReduceOp op;

  Acc init(uint64_t) const { return 0; }
  void run(Acc& acc, const V* x, uint64_t n, int64_t, int64_t) const {
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++) c += nonzero(x[i]) ? 1 : 0;
    acc += c;
  }
  void col(Acc* acc, const V* x, uint64_t n, int64_t, bool) const {
    for (uint64_t j = 0; j < n; j++) acc[j] += nonzero(x[j]) ? 1 : 0;
  }
  void merge(Acc& a, const Acc& b) const { a += b; }
  int finish(const Acc& acc, uint64_t nred, uint8_t* dst) const {
    if (op == ReduceOp::kCountNonzero) {
      std::memcpy(dst, &acc, 8);
    } else {
      dst[0] = op == ReduceOp::kAny ? acc != 0 : acc == nred;
    }
    return 0;
  }
};

// ---- the drivers

// Per-thread scratch: the decode buffer and column accumulators. Made outside
// guarded() (a fault abandons the task mid-way, so nothing inside may own memory).
thread_local std::unique_ptr<uint8_t[]> t_scratch;
thread_local size_t t_scratch_size = 0;

uint8_t* scratch(size_t bytes) {
  if (t_scratch_size < bytes) {
    t_scratch.reset(new uint8_t[bytes]);
    t_scratch_size = bytes;
  }
  return t_scratch.get();
}

struct TaskRunner {
  std::atomic<int> rc{0};
  const CancelFlag* cancel = nullptr;
  int threads = 0;
  size_t scratch_bytes = 0;
};

// Runs body(t, scratch) for t in [0, count), each under the SIGBUS guard;
// the first error stops the rest.
template <typename Body>
int run_tasks(TaskRunner& tr, uint64_t count, bool small, Body& body) {
  struct Ctx {
    Body* body;
    uint64_t t;
    uint8_t* buf;
    int err;
  };
  auto task = [&](uint64_t t) {
    if (tr.rc.load(std::memory_order_relaxed) != 0) return;
    if (cancelled(tr.cancel)) {
      int expected = 0;
      tr.rc.compare_exchange_strong(expected, -ECANCELED);
      return;
    }
    uint8_t* buf;
    try {
      buf = scratch(tr.scratch_bytes);
    } catch (...) {
      int expected = 0;
      tr.rc.compare_exchange_strong(expected, -ENOMEM);
      return;
    }
    Ctx ctx{&body, t, buf, 0};
    int r = guarded(
        [](void* c) {
          auto* x = static_cast<Ctx*>(c);
          x->err = (*x->body)(x->t, x->buf);
        },
        &ctx);
    if (r == 0) r = ctx.err;
    if (r != 0) {
      int expected = 0;
      tr.rc.compare_exchange_strong(expected, r);
    }
  };
  parallel_for(count, small ? 1 : tr.threads, task);
  return tr.rc.load();
}

// Ops whose single output numpy adds as one pairwise sum over all the elements: var's squares, a fresh array summed
// uncast. Slices of such a reduction must be subtrees of that sum, added back up its tree (slices added one after
// the other differed from numpy in the last bit for runs over kTaskWork).
template <typename Op>
struct TreeMerge : std::false_type {};
template <typename V, typename A>
struct TreeMerge<VarOp<V, A, false>> : std::true_type {};

// The slices (sumdetail::split_leaves() of the run into subtrees of at most kTaskWork) added up numpy's tree.
template <typename Op, typename Acc>
Acc tree_merge(const Op& op, uint64_t n, const Acc* parts, uint64_t* next) {
  if (n <= kTaskWork) return parts[(*next)++];
  uint64_t n2 = n / 2;
  n2 -= n2 % 8;
  Acc a = tree_merge(op, n2, parts, next);
  const Acc b = tree_merge(op, n - n2, parts, next);
  op.merge(a, b);
  return a;
}

// Runs `op` over the plan; output o goes to dst + o * osize.
template <typename V, typename Op>
int drive(const Plan& pl, const Op& op, const Src<V>& src, size_t osize, uint8_t* dst, TaskRunner& tr) {
  using Acc = typename Op::Acc;
  if (pl.nred == 0) {
    // Nothing to read: every output is the op's value of no elements.
    for (uint64_t o = 0; o < pl.nout; o++) {
      int e = op.finish(op.init(o), 0, dst + o * osize);
      if (e != 0) return e;
    }
    return 0;
  }
  const bool small = pl.nout * pl.nred < kSmallWork;
  tr.scratch_bytes = kChunk * sizeof(V) + kColumns * sizeof(Acc) + 64;

  // Reads the run at p through op.raw or in decoded pieces into op.run.
  auto reduce_run = [&](Acc& acc, const uint8_t* p, uint64_t n, int64_t stride, int64_t idx, int64_t mult, V* buf) {
    if constexpr (Op::kRaw) {
      (void)idx;
      (void)mult;
      op.raw(acc, p, n, stride, buf);
    } else {
      for (uint64_t done = 0; done < n; done += kChunk) {
        const uint64_t m = std::min(kChunk, n - done);
        const V* x = src.fetch(p + static_cast<int64_t>(done) * stride, m, stride, buf);
        op.run(acc, x, m, idx + static_cast<int64_t>(done) * mult, mult);
      }
    }
  };

  if (pl.column) {
    // Outputs along the kept dim kin, a block of columns at a time, each
    // adding one element per reduced position. Each output's order is the
    // same for any block, so a wide one is split among the threads: each
    // streams its part of every row.
    const uint64_t len = pl.kshape[pl.kin];
    const uint64_t outer = pl.nout / len;
    const int64_t kstride = pl.kstride[pl.kin];
    const uint64_t kout = pl.kout[pl.kin];
    const uint64_t threads = small ? 1 : static_cast<uint64_t>(tr.threads > 0 ? tr.threads : default_threads());
    uint64_t width = kColumns;
    if (outer < threads) {
      const uint64_t per = (outer * len + threads - 1) / threads;
      width = std::min(kColumns, std::max<uint64_t>(kMinColumns, (per + 63) / 64 * 64));
    }
    const uint64_t blocks = (len + width - 1) / width;
    const bool rows_ok = Op::kRows && src.same && kstride == static_cast<int64_t>(sizeof(V));
    auto body = [&](uint64_t t, uint8_t* buf) -> int {
      const uint64_t o_outer = t / blocks;
      const uint64_t b = t % blocks;
      // Output index of the first element of this block.
      uint64_t o = 0;
      {
        uint64_t rest = o_outer;
        for (int k = pl.nk - 1; k >= 0; k--) {
          if (k == pl.kin) continue;
          o += (rest % pl.kshape[k]) * pl.kout[k];
          rest /= pl.kshape[k];
        }
      }
      o += b * width * kout;
      const uint64_t n = std::min(width, len - b * width);
      const uint8_t* p0 = pl.base + kept_offset(pl, o);
      V* vbuf = reinterpret_cast<V*>(buf);
      Acc* acc = reinterpret_cast<Acc*>(buf + ((kChunk * sizeof(V) + 63) & ~size_t{63}));
      for (uint64_t j = 0; j < n; j++) acc[j] = op.init(o + j * kout);
      bool first = true;
      walk_runs(pl, p0, [&](const uint8_t* p, uint64_t m, int64_t stride, int64_t idx, int64_t mult) {
        if constexpr (Op::kRows) {
          if (rows_ok && reinterpret_cast<uintptr_t>(p) % alignof(V) == 0 && stride % alignof(V) == 0) {
            op.rows(acc, p, m, stride, n);
            first = false;
            return;
          }
        }
        for (uint64_t i = 0; i < m; i++) {
          const V* x = src.fetch(p + static_cast<int64_t>(i) * stride, n, kstride, vbuf);
          op.col(acc, x, n, idx + static_cast<int64_t>(i) * mult, first);
          first = false;
        }
      });
      for (uint64_t j = 0; j < n; j++) {
        int e = op.finish(acc[j], pl.nred, dst + (o + j * kout) * osize);
        if (e != 0) return e;
      }
      return 0;
    };
    return run_tasks(tr, outer * blocks, small, body);
  }

  if (pl.nout > 1) {
    // One output after the other, a group of them per task.
    const uint64_t group = std::max<uint64_t>(1, kTaskWork / std::max<uint64_t>(pl.nred, 1));
    const uint64_t tasks = (pl.nout + group - 1) / group;
    auto body = [&](uint64_t t, uint8_t* buf) -> int {
      V* vbuf = reinterpret_cast<V*>(buf);
      const uint64_t end = std::min(pl.nout, (t + 1) * group);
      for (uint64_t o = t * group; o < end; o++) {
        Acc acc = op.init(o);
        walk_runs(pl, pl.base + kept_offset(pl, o),
                  [&](const uint8_t* p, uint64_t n, int64_t stride, int64_t idx, int64_t mult) {
                    reduce_run(acc, p, n, stride, idx, mult, vbuf);
                  });
        int e = op.finish(acc, pl.nred, dst + o * osize);
        if (e != 0) return e;
      }
      return 0;
    };
    return run_tasks(tr, tasks, small, body);
  }

  // One output: slices of the outermost reduced dim (or of the single run),
  // merged in order. Slice bounds depend on the sizes only.
  Plan sub = pl;
  uint64_t slices = 1;
  uint64_t per = 1;
  if (pl.nr > 0) {
    const uint64_t inner = pl.nred / pl.rshape[0];
    per = std::max<uint64_t>(1, kTaskWork / inner);
    if (pl.nr == 1) per = std::max<uint64_t>(per, kChunk) / kChunk * kChunk;  // whole cast pieces
    if (Op::kSequential) per = pl.rshape[0];
    slices = (pl.rshape[0] + per - 1) / per;
  }
  std::vector<std::pair<uint64_t, uint64_t>> tree;  // TreeMerge: the slices, subtrees of numpy's one sum
  bool flat = false;  // TreeMerge over several runs: the slices are ranges of the whole reduction (FlatRuns)
  std::vector<Acc> parts;
  try {
    if constexpr (TreeMerge<Op>::value) {
      if (pl.nr > 1) {
        flat = true;
        sumdetail::split_leaves(0, pl.nred, &tree, kTaskWork);
        slices = tree.size();
      } else if (pl.nr == 1 && pl.rshape[0] > kTaskWork) {
        sumdetail::split_leaves(0, pl.rshape[0], &tree, kTaskWork);
        slices = tree.size();
      }
    }
    parts.resize(slices);
  } catch (...) {
    return -ENOMEM;
  }
  auto body = [&](uint64_t t, uint8_t* buf) -> int {
    V* vbuf = reinterpret_cast<V*>(buf);
    Acc acc = op.init(0);
    if constexpr (TreeMerge<Op>::value) {
      if (flat) {
        op.flat(acc, pl, tree[t].first, tree[t].second);
        parts[t] = acc;
        return 0;
      }
    }
    if (pl.nr == 0) {
      reduce_run(acc, pl.base, 1, 0, pl.idx0, 0, vbuf);
    } else {
      Plan s = sub;
      const uint64_t lo = tree.empty() ? t * per : tree[t].first;
      s.rshape[0] = tree.empty() ? std::min(per, pl.rshape[0] - lo) : tree[t].second;
      s.idx0 = pl.idx0 + static_cast<int64_t>(lo) * pl.rmult[0];
      walk_runs(s, pl.base + static_cast<int64_t>(lo) * pl.rstride[0],
                [&](const uint8_t* p, uint64_t n, int64_t stride, int64_t idx, int64_t mult) {
                  reduce_run(acc, p, n, stride, idx, mult, vbuf);
                });
    }
    parts[t] = acc;
    return 0;
  };
  int rc = run_tasks(tr, slices, small, body);
  if (rc != 0) return rc;
  if (!tree.empty()) {
    uint64_t next = 0;
    return op.finish(tree_merge(op, flat ? pl.nred : pl.rshape[0], parts.data(), &next), pl.nred, dst);
  }
  Acc acc = parts[0];
  for (uint64_t t = 1; t < slices; t++) op.merge(acc, parts[t]);
  return op.finish(acc, pl.nred, dst);
}

bool needs_element(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMin:
    case ReduceOp::kMax:
    case ReduceOp::kArgmin:
    case ReduceOp::kArgmax:
    case ReduceOp::kNanmin:
    case ReduceOp::kNanmax:
    case ReduceOp::kNanargmin:
    case ReduceOp::kNanargmax:
      return true;
    default:
      return false;
  }
}

// Calls fn(A{}) with the accumulator type of out_type; -EINVAL if none.
template <typename Fn>
int with_acc(ElemType out, Fn&& fn) {
  switch (out) {
    case ElemType::kBool:
      return fn(BoolAcc{});
    case ElemType::kFloat16:
    case ElemType::kFloat64:
      return fn(double{});
    case ElemType::kFloat32:
      return fn(float{});
    case ElemType::kComplex64:
      return fn(Cx<float>{});
    case ElemType::kComplex128:
      return fn(Cx<double>{});
    default:
      return fn(uint64_t{});
  }
}

// Whether values of V may accumulate in A (lib/ refuses the others).
template <typename V, typename A>
constexpr bool kAccOk = kIsCx<A> || (!kIsCx<V> && (std::is_floating_point_v<A> || std::is_integral_v<V>));

// A full sum of floats in double: kernels.cc's sum_view (numpy's order, threaded).
template <typename A>
bool delegate_sum(const Region& region, const ReduceArgs& a, const Plan& pl, A* result, int* rc) {
  const char kind = kDTypes[static_cast<int>(a.type)].kind;
  if (pl.nout != 1 || (kind != 'f' && kind != 'c')) return false;
  if constexpr (std::is_same_v<A, double> || std::is_same_v<A, Cx<double>>) {
    SumResult r;
    *rc = sum_view(region, a.type, a.swap, a.view, &r, a.threads, a.cancel);
    if constexpr (kIsCx<A>)
      *result = A{r.re, r.im};
    else
      *result = r.re;
    return true;
  }
  return false;
}

// var's first pass: SumOp's mean (and count) of each output, as VarOp::Mean records.
template <typename V, typename A, bool Nan>
struct MeanOp : SumOp<V, A, SumKind::kMean, Nan> {
  using Base = SumOp<V, A, SumKind::kMean, Nan>;
  int finish(const typename Base::Acc& acc, uint64_t nred, uint8_t* d) const {
    const typename VarOp<V, A, Nan>::Mean m{this->value(acc, nred), Base::count_of(acc, nred)};
    std::memcpy(d, &m, sizeof m);
    return 0;
  }
};

template <typename V, typename A, bool Nan>
int reduce_var(const Region& region, const ReduceArgs& a, uint8_t* dst, const Plan& pl, TaskRunner& tr,
               const Src<V>& src) {
  using Pass = VarOp<V, A, Nan>;
  using Mean = typename Pass::Mean;
  std::vector<Mean> means;
  try {
    means.resize(pl.nout);
  } catch (...) {
    return -ENOMEM;
  }
  MeanOp<V, A, Nan> mop;
  mop.out = kIsCx<A> ? (sizeof(A) == 8 ? ElemType::kComplex64 : ElemType::kComplex128) : a.out_type;
  mop.src = &src;
  A s = zero_of<A>();
  int rc = 0;
  if (!Nan && delegate_sum(region, a, pl, &s, &rc)) {
    if (rc != 0) return rc;
    typename MeanOp<V, A, Nan>::Base::Acc acc{};
    acc.s = s;
    means[0] = Mean{mop.value(acc, pl.nred), pl.nred};
  } else {
    rc = drive(pl, mop, src, sizeof(Mean), reinterpret_cast<uint8_t*>(means.data()), tr);
    if (rc != 0) return rc;
  }
  Pass pass{means.data(), a.out_type, &src, a.ddof};
  return drive(pl, pass, src, elem_size(a.out_type), dst, tr);
}

template <typename V>
int reduce_values(const Region& region, const ReduceArgs& a, uint8_t* dst, const Plan& pl, TaskRunner& tr,
                  const Src<V>& src) {
  constexpr bool kFloatish = kIsCx<V> || std::is_floating_point_v<V>;
  const ElemType out = a.out_type;
  const size_t osize = elem_size(out);
  switch (a.op) {
    case ReduceOp::kSum:
    case ReduceOp::kProd:
    case ReduceOp::kMean:
    case ReduceOp::kNansum:
    case ReduceOp::kNanmean:
      return with_acc(out, [&](auto acc_tag) -> int {
        using A = decltype(acc_tag);
        if constexpr (!kAccOk<V, A>) {
          return -EINVAL;
        } else {
          if (a.op == ReduceOp::kSum || a.op == ReduceOp::kMean) {
            A s = zero_of<A>();
            int rc = 0;
            if (delegate_sum(region, a, pl, &s, &rc)) {
              if (rc != 0) return rc;
              SumOp<V, A, SumKind::kMean, false> fin{out, &src};
              typename SumOp<V, A, SumKind::kMean, false>::Acc acc{};
              acc.s = s;
              if (a.op == ReduceOp::kMean)
                fin.finish(acc, pl.nred, dst);
              else
                store_acc(out, s, dst);
              return 0;
            }
          }
          auto go = [&](auto op) { return drive(pl, op, src, osize, dst, tr); };
          switch (a.op) {
            case ReduceOp::kSum:
              return go(SumOp<V, A, SumKind::kSum, false>{out, &src});
            case ReduceOp::kProd:
              return go(SumOp<V, A, SumKind::kProd, false>{out, &src});
            case ReduceOp::kMean:
              return go(SumOp<V, A, SumKind::kMean, false>{out, &src});
            case ReduceOp::kNansum:
              return go(SumOp<V, A, SumKind::kSum, kFloatish>{out, &src});
            default:
              return go(SumOp<V, A, SumKind::kMean, kFloatish>{out, &src});
          }
        }
      });
    case ReduceOp::kVar:
    case ReduceOp::kNanvar: {
      const bool nan = kFloatish && a.op == ReduceOp::kNanvar;
      if (out == ElemType::kFloat32) {
        using A = std::conditional_t<kIsCx<V>, Cx<float>, float>;
        return nan ? reduce_var<V, A, kFloatish>(region, a, dst, pl, tr, src)
                   : reduce_var<V, A, false>(region, a, dst, pl, tr, src);
      }
      if (out == ElemType::kFloat64) {
        using A = std::conditional_t<kIsCx<V>, Cx<double>, double>;
        return nan ? reduce_var<V, A, kFloatish>(region, a, dst, pl, tr, src)
                   : reduce_var<V, A, false>(region, a, dst, pl, tr, src);
      }
      return -EINVAL;
    }
    case ReduceOp::kMin:
    case ReduceOp::kMax:
    case ReduceOp::kNanmin:
    case ReduceOp::kNanmax: {
      if (out != a.type) return -EINVAL;
      const bool nan = kFloatish && (a.op == ReduceOp::kNanmin || a.op == ReduceOp::kNanmax);
      if (a.op == ReduceOp::kMax || a.op == ReduceOp::kNanmax) {
        if (nan) return drive(pl, MinMaxOp<V, true, kFloatish>{out}, src, osize, dst, tr);
        return drive(pl, MinMaxOp<V, true, false>{out}, src, osize, dst, tr);
      }
      if (nan) return drive(pl, MinMaxOp<V, false, kFloatish>{out}, src, osize, dst, tr);
      return drive(pl, MinMaxOp<V, false, false>{out}, src, osize, dst, tr);
    }
    case ReduceOp::kArgmin:
    case ReduceOp::kArgmax:
    case ReduceOp::kNanargmin:
    case ReduceOp::kNanargmax: {
      if (out != ElemType::kInt64) return -EINVAL;
      const bool nan = kFloatish && (a.op == ReduceOp::kNanargmin || a.op == ReduceOp::kNanargmax);
      if (a.op == ReduceOp::kArgmax || a.op == ReduceOp::kNanargmax) {
        if (nan) return drive(pl, ArgOp<V, true, kFloatish>{}, src, osize, dst, tr);
        return drive(pl, ArgOp<V, true, false>{}, src, osize, dst, tr);
      }
      if (nan) return drive(pl, ArgOp<V, false, kFloatish>{}, src, osize, dst, tr);
      return drive(pl, ArgOp<V, false, false>{}, src, osize, dst, tr);
    }
    case ReduceOp::kAny:
    case ReduceOp::kAll:
    case ReduceOp::kCountNonzero:
      if (out != (a.op == ReduceOp::kCountNonzero ? ElemType::kInt64 : ElemType::kBool)) return -EINVAL;
      return drive(pl, CountOp<V>{a.op}, src, osize, dst, tr);
  }
  return -EINVAL;
}

}  // namespace

int reduce_view(const Region& region, const ReduceArgs& args, uint8_t* dst) {
  const unsigned size = elem_size(args.type);
  const int op = static_cast<int>(args.op);
  if (size == 0 || elem_size(args.out_type) == 0 || op < 0 || op >= kReduceOpCount) return -EINVAL;
  if (!(args.ddof == args.ddof)) return -EINVAL;
  const bool by_index = args.op == ReduceOp::kArgmin || args.op == ReduceOp::kArgmax ||
                        args.op == ReduceOp::kNanargmin || args.op == ReduceOp::kNanargmax;
  Plan pl;
  int rc = make_plan(region, args, size, by_index, &pl);
  if (rc != 0) return rc;
  if (pl.nred == 0 && needs_element(args.op)) return -EINVAL;
  if (pl.nout == 0) return 0;
  TaskRunner tr;
  tr.cancel = args.cancel;
  tr.threads = args.threads;
  return dispatch(args.type, [&](auto traits) {
    using T = decltype(traits);
    using V = ValueOf<T>;
    // In place: the stored scalar is V's (not float16, bool or a narrower integer) and in this machine's order.
    constexpr bool kSameType = T::kSize == sizeof(V) && T::kKind != 'b';
    const Src<V> src{args.type, args.swap, kSameType && !args.swap, decode_run<T>};
    return reduce_values<V>(region, args, dst, pl, tr, src);
  });
}

int reduce_blocks(const ReduceBlock* blocks, size_t count, int ndim, const ReduceArgs& args, uint8_t* dst,
                  size_t* failed) {
  if (ndim < 0 || ndim > kMaxDims) return -EINVAL;
  // Each mapped block's byte extent, clipped to its region (the kernel checks the view itself), and the bytes
  // before it: the read-ahead window is counted in bytes of blocks.
  constexpr uint64_t kAhead = uint64_t{32} << 20;
  std::vector<uint64_t> from(count, 0);
  std::vector<uint64_t> len(count, 0);
  std::vector<uint64_t> before(count + 1, 0);
  for (size_t i = 0; i < count; i++) {
    const ReduceBlock& b = blocks[i];
    __int128 lo = 0;
    __int128 hi = 0;
    bool empty = false;
    for (int k = 0; k < ndim; k++) {
      if (b.shape[k] == 0) empty = true;
      const __int128 s = static_cast<__int128>(b.shape[k] == 0 ? 0 : b.shape[k] - 1) * b.strides[k];
      (s < 0 ? lo : hi) += s;
    }
    const __int128 length = b.region == nullptr ? 0 : static_cast<__int128>(b.region->length);
    __int128 a = static_cast<__int128>(b.offset) + lo;
    __int128 e = static_cast<__int128>(b.offset) + hi + elem_size(args.type);
    a = a < 0 ? 0 : a > length ? length : a;
    e = e < a ? a : e > length ? length : e;
    if (b.mapped && !empty) {
      from[i] = static_cast<uint64_t>(a);
      len[i] = static_cast<uint64_t>(e - a);
    }
    before[i + 1] = before[i] + len[i];
  }
  // Blocks [0, asked) have been requested; a task asks for the blocks up to kAhead past its own first.
  std::mutex ask;
  size_t asked = 0;
  auto request = [&](size_t i) {
    std::lock_guard<std::mutex> lock(ask);
    size_t end = asked;
    while (end < count && before[end] < before[i] + kAhead) end++;
    // Runs of blocks of one region that touch or overlap: one madvise each.
    for (size_t k = asked; k < end;) {
      if (len[k] == 0) {
        k++;
        continue;
      }
      uint64_t lo = from[k];
      uint64_t hi = from[k] + len[k];
      size_t m = k + 1;
      for (; m < end && blocks[m].region == blocks[k].region &&
             (len[m] == 0 || (from[m] <= hi && from[m] + len[m] >= lo));
           m++) {
        if (len[m] == 0) continue;
        lo = std::min(lo, from[m]);
        hi = std::max(hi, from[m] + len[m]);
      }
      prefetch(*blocks[k].region, blocks[k].region->data + lo, hi - lo);
      k = m;
    }
    asked = std::max(asked, end);
  };
  std::vector<int> rcs(count, 0);
  auto task = [&](uint64_t i) {
    const ReduceBlock& b = blocks[i];
    try {
      if (before[count] > 0) request(i);
      ReduceArgs a = args;
      a.swap = b.swap;
      a.threads = 1;
      a.view.offset = b.offset;
      a.view.ndim = ndim;
      for (int k = 0; k < ndim; k++) {
        a.view.shape[k] = b.shape[k];
        a.view.strides[k] = b.strides[k];
      }
      rcs[i] = reduce_view(*b.region, a, dst + b.dst_offset);
    } catch (...) {
      rcs[i] = -ENOMEM;  // a buffer the kernel needed
    }
  };
  parallel_for(count, args.threads, task);
  for (size_t i = 0; i < count; i++) {
    if (rcs[i] != 0) {
      *failed = i;
      return rcs[i];
    }
  }
  return 0;
}

}  // namespace memmap
