// The element types, listed once. Everything per-dtype in the native code
// (the ElemType enum, sizes, byte-swap units, the sum and copy dispatch, the
// table the addon reports to lib/ at load) is generated from MEMMAP_DTYPES.
// Adding a dtype is one line here (plus a decoder if its values are not a
// C++ arithmetic type); lib/dtype.ts holds the TypeScript twin of this table,
// and test/registry.test.js checks the two agree.
#pragma once

#include <cstdint>
#include <cstring>

namespace memmap {

double half_to_double(uint16_t h);

// Widens a stored scalar to double for float sums.
template <typename T>
inline double widen(T v) {
  return static_cast<double>(v);
}

// X(enumerator, numpy name, numpy kind, stored scalar, scalars per element, scalar -> double)
// Complex numbers are two scalars (re, im); float16 is stored as its bits.
#define MEMMAP_DTYPES(X)                                   \
  X(kBool, "bool", 'b', uint8_t, 1, widen<uint8_t>)        \
  X(kInt8, "int8", 'i', int8_t, 1, widen<int8_t>)          \
  X(kUint8, "uint8", 'u', uint8_t, 1, widen<uint8_t>)      \
  X(kInt16, "int16", 'i', int16_t, 1, widen<int16_t>)      \
  X(kUint16, "uint16", 'u', uint16_t, 1, widen<uint16_t>)  \
  X(kInt32, "int32", 'i', int32_t, 1, widen<int32_t>)      \
  X(kUint32, "uint32", 'u', uint32_t, 1, widen<uint32_t>)  \
  X(kInt64, "int64", 'i', int64_t, 1, widen<int64_t>)      \
  X(kUint64, "uint64", 'u', uint64_t, 1, widen<uint64_t>)  \
  X(kFloat16, "float16", 'f', uint16_t, 1, half_to_double) \
  X(kFloat32, "float32", 'f', float, 1, widen<float>)      \
  X(kFloat64, "float64", 'f', double, 1, widen<double>)    \
  X(kComplex64, "complex64", 'c', float, 2, widen<float>)  \
  X(kComplex128, "complex128", 'c', double, 2, widen<double>)

#define MEMMAP_DTYPE_ENUMERATOR(e, ...) e,
enum class ElemType : int { MEMMAP_DTYPES(MEMMAP_DTYPE_ENUMERATOR) };
#undef MEMMAP_DTYPE_ENUMERATOR

#define MEMMAP_DTYPE_COUNT(...) +1
constexpr int kElemTypeCount = 0 MEMMAP_DTYPES(MEMMAP_DTYPE_COUNT);
#undef MEMMAP_DTYPE_COUNT

// Compile-time facts about one element type, for the kernels' templates.
template <ElemType E>
struct DTypeTraits;
#define MEMMAP_DTYPE_TRAITS(e, name_, kind_, scalar_, lanes_, decode_) \
  template <>                                                          \
  struct DTypeTraits<ElemType::e> {                                    \
    using Scalar = scalar_;                                            \
    static constexpr const char* kName = name_;                        \
    static constexpr char kKind = kind_;                               \
    static constexpr unsigned kLanes = lanes_;                         \
    static constexpr unsigned kSize = sizeof(scalar_) * lanes_;        \
    static double decode(Scalar v) { return decode_(v); }              \
  };
MEMMAP_DTYPES(MEMMAP_DTYPE_TRAITS)
#undef MEMMAP_DTYPE_TRAITS

// Calls fn(DTypeTraits<type>{}) and returns what it returns. Callers check
// the type first (elem_size() != 0).
template <typename Fn>
auto dispatch(ElemType type, Fn&& fn) {
  switch (type) {
#define MEMMAP_DTYPE_CASE(e, ...) \
  case ElemType::e:               \
    return fn(DTypeTraits<ElemType::e>{});
    MEMMAP_DTYPES(MEMMAP_DTYPE_CASE)
#undef MEMMAP_DTYPE_CASE
  }
  return fn(DTypeTraits<ElemType::kUint8>{});  // unreachable for a valid type
}

// One row of the table as the addon reports it.
struct DTypeInfo {
  const char* name;
  char kind;
  unsigned itemsize;
};
#define MEMMAP_DTYPE_INFO(e, name_, kind_, scalar_, lanes_, decode_) {name_, kind_, sizeof(scalar_) * lanes_},
constexpr DTypeInfo kDTypes[] = {MEMMAP_DTYPES(MEMMAP_DTYPE_INFO)};
#undef MEMMAP_DTYPE_INFO

// Bytes per element of `type`; 0 for a value outside the table.
inline unsigned elem_size(ElemType type) {
  const int t = static_cast<int>(type);
  return t >= 0 && t < kElemTypeCount ? kDTypes[t].itemsize : 0;
}

// Bytes of each part that is byte-swapped on its own (a complex number swaps
// re and im separately); 0 when no swap is needed.
inline unsigned swap_unit(ElemType type, bool swap) {
  if (!swap) return 0;
  return dispatch(type, [](auto t) { return static_cast<unsigned>(sizeof(typename decltype(t)::Scalar)); });
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

}  // namespace memmap
