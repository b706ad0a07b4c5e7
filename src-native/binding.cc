// Node-API glue: turns the mapping core into JS values and coded errors.
// All argument validation that users see happens in lib/; the checks here only
// make sure no call from JavaScript can crash the process.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chunk_copy.h"
#include "chunked.h"
#include "kernels.h"
#include "mapping.h"
#include "reduce.h"
#include "regions.h"

namespace {

using memmap::HandleState;
using memmap::Region;
using memmap::SharedRegion;

constexpr double kMaxSafeInteger = 9007199254740991.0;

struct BufferRef;

struct EnvData {
  Napi::FunctionReference make_error;  // (code|errno, message, syscall?, path?) => Error
  double max_buffer = 4294967296.0;    // largest external ArrayBuffer this runtime accepts
  napi_env env = nullptr;
  // Buffers of this env whose finalizer has not run (touched on its thread
  // only), so ~EnvData can tell them it is gone.
  std::unordered_set<BufferRef*> live;
  ~EnvData();
};

EnvData* GetEnvData(Napi::Env env) { return env.GetInstanceData<EnvData>(); }

// Builds the error through the JS factory so users get MemmapError instances.
Napi::Error MakeError(Napi::Env env, Napi::Value code, const std::string& message, const char* syscall,
                      const std::string& path) {
  EnvData* data = GetEnvData(env);
  if (data == nullptr || data->make_error.IsEmpty()) {
    // Only before lib/binding.ts called init(): still a coded error.
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", code.IsString() ? code : Napi::String::New(env, "ERR_NOT_INITIALIZED"));
    if (code.IsNumber()) err.Set("errno", code);
    return err;
  }
  Napi::Value err = data->make_error.Call({code, Napi::String::New(env, message),
                                           syscall ? Napi::Value(Napi::String::New(env, syscall)) : env.Undefined(),
                                           path.empty() ? env.Undefined() : Napi::Value(Napi::String::New(env, path))});
  return Napi::Error(env, err);
}

[[noreturn]] void ThrowErrno(Napi::Env env, int neg_errno, const std::string& path = std::string()) {
  throw MakeError(env, Napi::Number::New(env, neg_errno), std::strerror(-neg_errno), memmap::failed_syscall(), path);
}

[[noreturn]] void ThrowCode(Napi::Env env, const char* code, const std::string& message) {
  throw MakeError(env, Napi::String::New(env, code), message, nullptr, std::string());
}

// A bad argument to the binding. lib/ validates what users pass, so this is
// reached only when JavaScript tampered with what lib/ built (patched
// built-ins); it is still a coded MemmapError, never a crash.
[[noreturn]] void ThrowArg(Napi::Env env, const std::string& message) {
  ThrowCode(env, "ERR_INVALID_ARG_VALUE", message);
}

// An external ArrayBuffer over memory we own, or the runtime's refusal:
// napi_no_external_buffers_allowed where V8's memory cage forbids them
// (Electron) and always in a build that defines
// NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED, which has no such constructor.
// Callers handle both alike, so that build tests the refusal path.
napi_status NewExternalArrayBuffer(napi_env env, void* data, size_t length, napi_finalize finalize, void* hint,
                                   napi_value* result) {
#ifdef NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED
  (void)env, (void)data, (void)length, (void)finalize, (void)hint, (void)result;
  return napi_no_external_buffers_allowed;
#else
  napi_status status = napi_create_external_arraybuffer(env, data, length, finalize, hint, result);
  if (status != napi_ok) {
    // A refusal sets no exception today; never leave one pending behind a status.
    bool pending = false;
    napi_value ignored;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
      napi_get_and_clear_last_exception(env, &ignored);
  }
  return status;
#endif
}

std::string ToPath(const Napi::Value& v);

// Reads a non-negative integer (Number up to 2^53 - 1 or BigInt) as uint64.
uint64_t ToU64(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowArg(env, std::string(what) + " is out of range");
    return r;
  }
  if (!v.IsNumber()) ThrowArg(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d)
    ThrowArg(env, std::string(what) + " must be a non-negative safe integer");
  return static_cast<uint64_t>(d);
}

// An optional thread count: undefined = 0 (the default count); at most 256.
int ToThreads(const Napi::Value& v) {
  if (v.IsUndefined()) return 0;
  uint64_t n = ToU64(v, "threads");
  return n > 256 ? 256 : static_cast<int>(n);
}

memmap::Mode ToMode(const Napi::Value& v) {
  uint64_t m = ToU64(v, "mode");
  if (m >= static_cast<uint64_t>(memmap::kModeCount)) ThrowArg(v.Env(), "mode out of range");
  return static_cast<memmap::Mode>(m);
}

int ToFd(const Napi::Value& v) {
  uint64_t fd = ToU64(v, "fd");
  if (fd > 0x7fffffff) ThrowArg(v.Env(), "fd out of range");
  return static_cast<int>(fd);
}

// The backing-store finalizer of an ArrayBuffer over a region. Node calls it
// on the JS thread once no ArrayBuffer uses the memory, transferred ones too.
struct BufferRef {
  HandleState* handle;
  SharedRegion* shared;
  EnvData* owner;           // nullptr once the env's data is gone
  napi_ref weak = nullptr;  // the ArrayBuffer we made (not a transferred copy)
  // close() detached this buffer itself, so no JavaScript can reach the
  // memory any more and it gave the address reference back at once (the
  // finalizer comes later, from the event loop).
  bool released = false;  // guarded by memmap::g_region_mutex
  // The memory was transfer()red out of our reach, maybe to another thread.
  // Normally the finalizer runs once no buffer uses the memory, but at env
  // teardown Node calls every pending one, whether or not that copy is alive:
  // an escaped buffer then keeps the address range reserved for good. Found
  // by close() and by ScanEscapes() (a worker's 'exit').
  bool escaped = false;  // guarded by memmap::g_region_mutex
};

EnvData::~EnvData() {
  for (BufferRef* ref : live) ref->owner = nullptr;
}

void FinalizeBuffer(napi_env env, void* /*data*/, void* hint) {
  auto* ref = static_cast<BufferRef*>(hint);
  if (ref->owner != nullptr) ref->owner->live.erase(ref);
  if (ref->weak != nullptr) {
    napi_delete_reference(env, ref->weak);
  }
  memmap::release_handle(ref->handle);
  {
    std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
    // An escaped buffer keeps the address range reserved for good: its memory
    // may still be read elsewhere (zero pages once the file is released).
    if (!ref->released && !ref->escaped) memmap::drop_address_ref_locked(ref->shared);
  }
  delete ref;
}

// Keeps the file mapped for the duration of one native call, whatever
// JavaScript does meanwhile (close() included): the unmap waits for it.
class Pin {
 public:
  explicit Pin(SharedRegion* shared) : shared_(shared) { memmap::add_holder(shared); }
  ~Pin() { memmap::drop_holder(shared_); }
  Pin(const Pin&) = delete;
  Pin& operator=(const Pin&) = delete;
  const Region& region() const { return shared_->region; }
  SharedRegion* shared() const { return shared_; }

 private:
  SharedRegion* shared_;
};

// Reads a Float64Array that our own JS built (no getters can run): a view
// descriptor [offset, ndim, shape[0..ndim), byteStrides[0..ndim)].
memmap::StridedView ToView(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    ThrowArg(env, "view must be a Float64Array");
  Napi::Float64Array f = v.As<Napi::Float64Array>();
  const size_t n = f.ElementLength();
  const double* d = f.Data();
  memmap::StridedView view;
  if (n < 2) ThrowArg(env, "bad view");
  auto index = [&](double x) {
    if (!(x >= 0) || x > kMaxSafeInteger || std::floor(x) != x) ThrowArg(env, "bad view");
    return static_cast<uint64_t>(x);
  };
  view.offset = index(d[0]);
  uint64_t ndim = index(d[1]);
  if (ndim > static_cast<uint64_t>(memmap::kMaxDims) || n != 2 + 2 * ndim) ThrowArg(env, "bad view");
  view.ndim = static_cast<int>(ndim);
  for (uint64_t k = 0; k < ndim; k++) {
    view.shape[k] = index(d[2 + k]);
    double s = d[2 + ndim + k];
    if (!(std::fabs(s) <= kMaxSafeInteger) || std::floor(s) != s) ThrowArg(env, "bad stride");
    view.strides[k] = static_cast<int64_t>(s);
  }
  return view;
}

memmap::ElemType ToElemType(const Napi::Value& v) {
  uint64_t t = ToU64(v, "type");
  if (t >= static_cast<uint64_t>(memmap::kElemTypeCount)) ThrowArg(v.Env(), "type out of range");
  return static_cast<memmap::ElemType>(t);
}

// The bytes of a TypedArray that must be exactly `bytes` long. Takes no user
// code (napi_get_typedarray_info runs no getters).
// The bytes of any TypedArray, over an ArrayBuffer or a SharedArrayBuffer
// (napi_get_typedarray_info gives the data pointer for both; a Napi::ArrayBuffer
// cast would refuse the shared one).
struct TypedBytes {
  uint8_t* data = nullptr;
  size_t length = 0;
};
TypedBytes ToTypedBytes(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) ThrowArg(v.Env(), std::string(what) + " must be a TypedArray");
  napi_typedarray_type type;
  size_t count = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(v.Env(), v, &type, &count, &data, nullptr, nullptr) != napi_ok)
    ThrowArg(v.Env(), std::string(what) + " cannot be read");
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  TypedBytes out;
  out.length = count * t.ElementSize();
  out.data = out.length == 0 ? nullptr : static_cast<uint8_t*>(data);
  return out;
}

uint8_t* ToDestination(const Napi::Value& v, unsigned __int128 bytes) {
  TypedBytes t = ToTypedBytes(v, "destination");
  if (static_cast<unsigned __int128>(t.length) != bytes) ThrowArg(v.Env(), "destination has the wrong size");
  return t.data;
}

// Whether `size` bytes at dst share memory with the region: the kernels copy
// element by element (and byte-swap), which an overlap would corrupt.
bool Overlaps(const Region& region, const uint8_t* dst, unsigned __int128 size) {
  if (dst == nullptr || size == 0 || region.data == nullptr || region.length == 0) return false;
  const auto lo = reinterpret_cast<uintptr_t>(region.data);
  const auto d = reinterpret_cast<uintptr_t>(dst);
  return d < lo + region.length && lo < d + static_cast<uintptr_t>(size);
}

// The error for a kernel's negative return (thrown, or an async call's rejection).
Napi::Error KernelError(Napi::Env env, int rc) {
  auto coded = [&](const char* code, const char* message) {
    return MakeError(env, Napi::String::New(env, code), message, nullptr, std::string());
  };
  if (rc == memmap::kBusError)
    return coded("ERR_SIGBUS",
                 "a page of the mapping could not be read (SIGBUS): the file shrank while mapped, or an I/O error");
  if (rc == -ERANGE) return coded("ERR_OUT_OF_RANGE", "view outside the mapping");
  if (rc == -ECANCELED) return coded("ERR_ABORTED", "the operation was cancelled");
  // nanargmin/nanargmax of a slice of only NaN (reduce_view), also as an async job's rejection.
  if (rc == -EDOM) return coded("ERR_ALL_NAN", "All-NaN slice encountered");
  return MakeError(env, Napi::Number::New(env, rc), std::strerror(-rc), memmap::failed_syscall(), std::string());
}

[[noreturn]] void ThrowKernel(Napi::Env env, int rc) { throw KernelError(env, rc); }

// The kernels' entry points, shared by every storage: a Mapping's methods
// and the heap functions (sumBytes, ...). Arguments start at info[first];
// `acquire()` is called once every value has been taken from JavaScript and
// returns what keeps the bytes alive for the kernel (a Pin, or a heap span):
// no JavaScript runs between it and the kernel's end.

Napi::Value SumValue(Napi::Env env, const memmap::SumResult& r);

// sum(type, swap, view, threads?): number, bigint (64-bit ints) or Float64Array [re, im].
template <typename Acquire>
Napi::Value RunSum(const Napi::CallbackInfo& info, size_t first, Acquire&& acquire) {
  Napi::Env env = info.Env();
  memmap::ElemType type = ToElemType(info[first]);
  bool swap = info[first + 1].ToBoolean();
  memmap::StridedView view = ToView(info[first + 2]);
  int threads = ToThreads(info[first + 3]);
  memmap::SumResult r;
  int rc;
  {
    auto bytes = acquire();
    rc = memmap::sum_view(bytes.region(), type, swap, view, &r, threads);
  }
  if (rc != 0) ThrowKernel(env, rc);
  return SumValue(env, r);
}

// A sum as JavaScript gets it: number, bigint (64-bit ints) or Float64Array [re, im].
Napi::Value SumValue(Napi::Env env, const memmap::SumResult& r) {
  switch (r.kind) {
    case memmap::SumResult::Kind::kFloat:
      return Napi::Number::New(env, r.re);
    case memmap::SumResult::Kind::kComplex: {
      Napi::Float64Array pair = Napi::Float64Array::New(env, 2);
      pair[0] = r.re;
      pair[1] = r.im;
      return pair;
    }
    case memmap::SumResult::Kind::kInt64:
      return Napi::BigInt::New(env, r.i);
    case memmap::SumResult::Kind::kUint64:
      return Napi::BigInt::New(env, r.u);
    case memmap::SumResult::Kind::kSmallInt:
      break;
  }
  return Napi::Number::New(env, static_cast<double>(r.i));
}

// Bytes of the view's elements.
unsigned __int128 ViewBytes(Napi::Env env, memmap::ElemType type, const memmap::StridedView& view) {
  // Each dimension is at most 2^53 (ToView): checked before each multiply, the product cannot wrap.
  unsigned __int128 size = memmap::elem_size(type);
  for (int k = 0; k < view.ndim; k++) {
    if (size > (static_cast<unsigned __int128>(1) << 64)) ThrowArg(env, "view has too many elements");
    size *= view.shape[k];
  }
  return size;
}

// copy(type, swap, view, dst): the view's elements in C order into the
// TypedArray `dst`, which must hold exactly them.
template <typename Acquire>
Napi::Value RunCopy(const Napi::CallbackInfo& info, size_t first, Acquire&& acquire) {
  Napi::Env env = info.Env();
  memmap::ElemType type = ToElemType(info[first]);
  bool swap = info[first + 1].ToBoolean();
  memmap::StridedView view = ToView(info[first + 2]);
  const unsigned __int128 size = ViewBytes(env, type, view);
  uint8_t* dst = ToDestination(info[first + 3], size);
  int rc;
  {
    auto bytes = acquire();
    if (Overlaps(bytes.region(), dst, size)) ThrowArg(env, "destination overlaps the source");
    rc = memmap::copy_view(bytes.region(), type, swap, view, dst);
  }
  if (rc != 0) ThrowKernel(env, rc);
  return env.Undefined();
}

// Gather's coordinates, one Float64Array per axis of the view, as data
// pointers (valid until JavaScript runs again); returns their common length.
size_t ToColumns(const Napi::Value& v, int ndim, const double** columns) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) ThrowArg(env, "coords must be an array");
  Napi::Array list = v.As<Napi::Array>();
  // Element reads may run user code: take them all as values first, and
  // only then their data pointers, so nothing can detach one in between.
  if (list.Length() != static_cast<uint32_t>(ndim)) ThrowArg(env, "bad coords");
  Napi::Value coords[memmap::kMaxDims];
  for (int d = 0; d < ndim; d++) coords[d] = list.Get(static_cast<uint32_t>(d));
  size_t count = 1;
  for (int d = 0; d < ndim; d++) {
    const Napi::Value& c = coords[d];
    if (!c.IsTypedArray() || c.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      ThrowArg(env, "coords must be Float64Arrays");
    Napi::Float64Array f = c.As<Napi::Float64Array>();
    if (d == 0) count = f.ElementLength();
    if (f.ElementLength() != count) ThrowArg(env, "coords differ in length");
    columns[d] = f.Data();
  }
  return count;
}

// gather(type, swap, coords: Float64Array[], view, dst): element k of dst is
// the element at (coords[0][k], coords[1][k], ...) of the view.
// Coordinates are checked here; a bad one returns Float64Array [kind, axis, position].
template <typename Acquire>
Napi::Value RunGather(const Napi::CallbackInfo& info, size_t first, Acquire&& acquire) {
  Napi::Env env = info.Env();
  memmap::ElemType type = ToElemType(info[first]);
  bool swap = info[first + 1].ToBoolean();
  memmap::StridedView view = ToView(info[first + 3]);
  const double* columns[memmap::kMaxDims];
  const size_t count = ToColumns(info[first + 2], view.ndim, columns);
  std::vector<uint64_t> at(count);
  uint64_t bad = 0;
  int bad_axis = 0;
  int rc = memmap::coords_to_offsets(columns, view.ndim, view.shape, view.strides, count, at.data(), &bad, &bad_axis);
  if (rc != 0) {
    // [kind (0 not an integer, 1 out of range), axis, position]: lib/ throws
    // the error with its class and code.
    Napi::Float64Array bad_at = Napi::Float64Array::New(env, 3);
    bad_at[0] = rc == -EINVAL ? 0 : 1;
    bad_at[1] = bad_axis;
    bad_at[2] = static_cast<double>(bad);
    return bad_at;
  }
  for (uint64_t k = 0; k < count; k++) at[k] += view.offset;
  const unsigned __int128 size = static_cast<unsigned __int128>(count) * memmap::elem_size(type);
  uint8_t* dst = ToDestination(info[first + 4], size);
  {
    auto bytes = acquire();
    if (Overlaps(bytes.region(), dst, size)) ThrowArg(env, "destination overlaps the source");
    rc = memmap::gather(bytes.region(), type, swap, at.data(), count, dst);
  }
  if (rc != 0) ThrowKernel(env, rc);
  return env.Undefined();
}

// reduce's arguments from info[first] on: type, swap, view, nkeep, op,
// outType, ddof, threads (undefined: 0). Runs no user code.
memmap::ReduceArgs ToReduceArgs(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  memmap::ReduceArgs args;
  args.type = ToElemType(info[first]);
  args.swap = info[first + 1].ToBoolean();
  args.view = ToView(info[first + 2]);
  const uint64_t nkeep = ToU64(info[first + 3], "nkeep");
  if (nkeep > static_cast<uint64_t>(args.view.ndim)) ThrowArg(env, "nkeep out of range");
  args.nkeep = static_cast<int>(nkeep);
  const uint64_t op = ToU64(info[first + 4], "op");
  if (op >= static_cast<uint64_t>(memmap::kReduceOpCount)) ThrowArg(env, "op out of range");
  args.op = static_cast<memmap::ReduceOp>(op);
  args.out_type = ToElemType(info[first + 5]);
  if (!info[first + 6].IsNumber() || std::isnan(info[first + 6].As<Napi::Number>().DoubleValue()))
    ThrowArg(env, "ddof must be a number");
  args.ddof = info[first + 6].As<Napi::Number>().DoubleValue();
  args.threads = ToThreads(info[first + 7]);
  return args;
}

// Bytes of a reduction's results: one out_type element per kept position.
unsigned __int128 ReducedBytes(Napi::Env env, const memmap::ReduceArgs& args) {
  memmap::StridedView kept = args.view;
  kept.ndim = args.nkeep;
  return ViewBytes(env, args.out_type, kept);
}

// The error for reduce_view's negative return.
Napi::Error ReduceError(Napi::Env env, int rc, const memmap::ReduceArgs& args) {
  bool empty = false;
  for (int k = args.nkeep; k < args.view.ndim; k++) empty = empty || args.view.shape[k] == 0;
  if (rc == -EDOM)
    return MakeError(env, Napi::String::New(env, "ERR_ALL_NAN"), "All-NaN slice encountered", nullptr, std::string());
  if (rc == -EINVAL && empty)
    return MakeError(env, Napi::String::New(env, "ERR_EMPTY_REDUCTION"),
                     std::string("zero-size array to reduction operation ") +
                         memmap::kReduceOpNames[static_cast<int>(args.op)] + " which has no identity",
                     nullptr, std::string());
  return KernelError(env, rc);
}

// reduce(type, swap, view, nkeep, op, outType, ddof, threads, dst): the
// reduction `op` over dims [nkeep, ndim) of the view into `dst`, one
// outType element per kept position (C order).
template <typename Acquire>
Napi::Value RunReduce(const Napi::CallbackInfo& info, size_t first, Acquire&& acquire) {
  Napi::Env env = info.Env();
  memmap::ReduceArgs args = ToReduceArgs(info, first);
  const unsigned __int128 size = ReducedBytes(env, args);
  uint8_t* dst = ToDestination(info[first + 8], size);
  int rc;
  {
    auto bytes = acquire();
    if (Overlaps(bytes.region(), dst, size)) ThrowArg(env, "destination overlaps the source");
    rc = memmap::reduce_view(bytes.region(), args, dst);
  }
  if (rc != 0) throw ReduceError(env, rc, args);
  return env.Undefined();
}

// Async twins: the kernels on the libuv thread pool, returning a Promise.
// Every value is taken from JavaScript and copied into native memory first,
// then the region is pinned until the job has ended; the result is written
// into native memory and becomes a fresh ArrayBuffer on the JS thread, so
// nothing JavaScript does meanwhile (close(), transfer()) reaches the job.

// new Cancel(): a flag an async call shares with its kernel; cancel() sets
// it. A shared_ptr, so a job outliving the JS object is safe. It lives in a
// type-tagged External under kCancelKey rather than napi_wrap: the flag is
// read from an argument, where napi_unwrap could not tell a Cancel from a
// Mapping (instanceof can be faked with a prototype).
constexpr char kCancelKey[] = "memmap.cancel";
// Marks a Mapping object, so sumGrid() can tell one from any other object
// without running user code (instanceof would consult Symbol.hasInstance).
constexpr napi_type_tag kMappingTag = {0x6d656d6d61702e6d, 0x617070696e67746b};
constexpr napi_type_tag kCancelTag = {0x6d656d6d61702e63, 0x616e63656c666c67};
using CancelPtr = std::shared_ptr<memmap::CancelFlag>;

// The flag of a Cancel; undefined gives none. May run user code (a getter, a Proxy).
CancelPtr ToCancel(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (v.IsUndefined()) return nullptr;
  Napi::Value ext = v.IsObject() ? v.As<Napi::Object>().Get(kCancelKey) : env.Undefined();
  bool tagged = false;
  if (ext.IsExternal() && napi_check_object_type_tag(env, ext, &kCancelTag, &tagged) != napi_ok) tagged = false;
  if (!tagged) ThrowArg(env, "cancel must be a Cancel");
  return *ext.As<Napi::External<CancelPtr>>().Data();
}

Napi::Value NewCancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info.IsConstructCall() || !info.This().IsObject()) ThrowArg(env, "Cancel is a constructor: new Cancel()");
  auto ext = Napi::External<CancelPtr>::New(env, new CancelPtr(std::make_shared<memmap::CancelFlag>(false)),
                                            [](Napi::Env, CancelPtr* p) { delete p; });
  if (napi_type_tag_object(env, ext, &kCancelTag) != napi_ok) ThrowArg(env, "cannot make a Cancel");
  info.This().As<Napi::Object>().DefineProperty(Napi::PropertyDescriptor::Value(kCancelKey, ext, napi_default));
  return env.Undefined();
}

// cancel(): idempotent; a job that already ended is not affected.
Napi::Value SetCancel(const Napi::CallbackInfo& info) {
  if (info.This().IsUndefined()) ThrowArg(info.Env(), "cancel() needs a Cancel");
  ToCancel(info.This())->store(true, std::memory_order_relaxed);
  return info.Env().Undefined();
}

Napi::Function CancelClass(Napi::Env env) {
  Napi::Function ctor = Napi::Function::New<NewCancel>(env, "Cancel");
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  proto.DefineProperty(
      Napi::PropertyDescriptor::Value("cancel", Napi::Function::New<SetCancel>(env, "cancel"),
                                      static_cast<napi_property_attributes>(napi_writable | napi_configurable)));
  return ctor;
}

// Native memory a job writes its result into, handed to JavaScript at the
// end as a fresh ArrayBuffer: the memory itself (an external buffer that
// frees it) when large, a copy when small or when the runtime refuses
// external buffers (V8 sandbox builds, e.g. Electron).
class ResultBytes {
 public:
  ResultBytes(Napi::Env env, unsigned __int128 size) {
    if (static_cast<double>(size) > GetEnvData(env)->max_buffer)
      ThrowCode(env, "ERR_TOO_LARGE", "the result exceeds the largest ArrayBuffer this runtime supports");
    size_ = static_cast<size_t>(size);
    if (size_ > 0 && (data_ = static_cast<uint8_t*>(std::malloc(size_))) == nullptr) ThrowErrno(env, -ENOMEM);
  }
  ~ResultBytes() { std::free(data_); }
  ResultBytes(const ResultBytes&) = delete;
  ResultBytes& operator=(const ResultBytes&) = delete;
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  Napi::ArrayBuffer Take(Napi::Env env) {
    constexpr size_t kCopyBelow = 64 * 1024;
    if (size_ >= kCopyBelow) {
      napi_value value = nullptr;
      napi_status status = NewExternalArrayBuffer(
          env, data_, size_, [](napi_env, void* data, void*) { std::free(data); }, nullptr, &value);
      if (status == napi_ok) {
        data_ = nullptr;
        return Napi::ArrayBuffer(env, value);
      }
    }
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, size_);
    if (size_ > 0) std::memcpy(ab.Data(), data_, size_);
    return ab;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// One async kernel call. Made on the JS thread once every input is in native
// memory, with the region pinned (Pin) until the job object is destroyed, on
// the JS thread after its promise settled: a close() meanwhile unmaps then.
class Job : public Napi::AsyncWorker {
 public:
  Job(Napi::Env env, SharedRegion* shared, CancelPtr cancel)
      : Napi::AsyncWorker(env, "memmap"),
        deferred_(Napi::Promise::Deferred::New(env)),
        pin_(shared),
        cancel_(std::move(cancel)) {}

  // Queues the job and gives its promise; the queue owns it from then on.
  static Napi::Value Start(std::unique_ptr<Job> job) {
    job->Queue();
    Napi::Value promise = job->deferred_.Promise();
    job.release();
    return promise;
  }

 protected:
  // On a pool thread: only native memory, no JavaScript. 0 or a negative errno.
  virtual int Run(const Region& region, const memmap::CancelFlag* cancel) = 0;
  // On the JS thread, after Run returned 0.
  virtual Napi::Value Result(Napi::Env env) = 0;
  // The rejection for Run's negative return.
  virtual Napi::Error Failure(Napi::Env env, int rc) { return KernelError(env, rc); }

 private:
  void Execute() override {
    const memmap::CancelFlag* cancel = cancel_.get();
    try {
      rc_ = memmap::cancelled(cancel) ? -ECANCELED : Run(pin_.region(), cancel);
    } catch (...) {
      rc_ = -ENOMEM;  // a kernel's allocation (threads, buffers) failed
    }
  }
  // Settles the promise, then ends the job (dropping the pin). At a worker's
  // teardown JavaScript can no longer run and the napi calls fail: the
  // promise, which nothing can await any more, stays pending, and the job
  // still ends (an exception escaping here would abort the process).
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status != napi_cancelled) {
      try {
        Napi::HandleScope scope(env);
        Settle(env);
      } catch (const Napi::Error&) {
      }
    }
    Destroy();
  }
  void Settle(Napi::Env env) {
    Napi::Value error;
    try {
      if (rc_ == 0) {
        deferred_.Resolve(Result(env));
        return;
      }
      error = Failure(env, rc_).Value();
    } catch (const Napi::Error& e) {
      error = e.Value();
    }
    deferred_.Reject(error);
  }

  Napi::Promise::Deferred deferred_;
  Pin pin_;
  CancelPtr cancel_;
  int rc_ = 0;
};

// Runs `start` (takes the arguments, pins the region, queues a job) and
// returns its promise; any error on the way is a rejected promise instead.
template <typename Start>
Napi::Value AsyncCall(Napi::Env env, Start&& start) {
  Napi::Value error;
  try {
    return start();
  } catch (const Napi::Error& e) {
    error = e.Value();
  } catch (const std::bad_alloc&) {
    error = MakeError(env, Napi::Number::New(env, -ENOMEM), std::strerror(ENOMEM), nullptr, std::string()).Value();
  }
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(error);
  return deferred.Promise();
}

class SumJob : public Job {
 public:
  SumJob(Napi::Env env, SharedRegion* shared, CancelPtr cancel, memmap::ElemType type, bool swap,
         const memmap::StridedView& view, int threads)
      : Job(env, shared, std::move(cancel)), type_(type), swap_(swap), view_(view), threads_(threads) {}

 private:
  int Run(const Region& region, const memmap::CancelFlag* cancel) override {
    return memmap::sum_view(region, type_, swap_, view_, &sum_, threads_, cancel);
  }
  Napi::Value Result(Napi::Env env) override { return SumValue(env, sum_); }
  memmap::ElemType type_;
  bool swap_;
  memmap::StridedView view_;
  int threads_;
  memmap::SumResult sum_;
};

class CopyJob : public Job {
 public:
  CopyJob(Napi::Env env, SharedRegion* shared, CancelPtr cancel, memmap::ElemType type, bool swap,
          const memmap::StridedView& view)
      : Job(env, shared, std::move(cancel)),
        type_(type),
        swap_(swap),
        view_(view),
        dst_(env, ViewBytes(env, type, view)) {}

 private:
  int Run(const Region& region, const memmap::CancelFlag* cancel) override {
    return memmap::copy_view(region, type_, swap_, view_, dst_.data(), cancel);
  }
  Napi::Value Result(Napi::Env env) override { return dst_.Take(env); }
  memmap::ElemType type_;
  bool swap_;
  memmap::StridedView view_;
  ResultBytes dst_;
};

// The coordinates are copied (column d at coords[d * count]) and turned into
// offsets on the pool thread; a bad one resolves to [kind, axis, position] as gather().
class GatherJob : public Job {
 public:
  GatherJob(Napi::Env env, SharedRegion* shared, CancelPtr cancel, memmap::ElemType type, bool swap,
            const memmap::StridedView& view, std::vector<double> coords, uint64_t count)
      : Job(env, shared, std::move(cancel)),
        type_(type),
        swap_(swap),
        view_(view),
        coords_(std::move(coords)),
        offsets_(count),
        dst_(env, static_cast<unsigned __int128>(count) * memmap::elem_size(type)) {}

 private:
  int Run(const Region& region, const memmap::CancelFlag* cancel) override {
    const uint64_t count = offsets_.size();
    const double* columns[memmap::kMaxDims];
    for (int d = 0; d < view_.ndim; d++) columns[d] = coords_.data() + d * count;
    int rc = memmap::coords_to_offsets(columns, view_.ndim, view_.shape, view_.strides, count, offsets_.data(), &bad_,
                                       &bad_axis_);
    if (rc != 0) {
      bad_kind_ = rc == -EINVAL ? 0 : 1;
      return 0;
    }
    for (uint64_t k = 0; k < count; k++) offsets_[k] += view_.offset;
    return memmap::gather(region, type_, swap_, offsets_.data(), count, dst_.data(), cancel);
  }
  Napi::Value Result(Napi::Env env) override {
    if (bad_kind_ < 0) return dst_.Take(env);
    Napi::Float64Array bad_at = Napi::Float64Array::New(env, 3);
    bad_at[0] = bad_kind_;
    bad_at[1] = bad_axis_;
    bad_at[2] = static_cast<double>(bad_);
    return bad_at;
  }
  memmap::ElemType type_;
  bool swap_;
  memmap::StridedView view_;
  std::vector<double> coords_;
  std::vector<uint64_t> offsets_;
  ResultBytes dst_;
  int bad_kind_ = -1;
  uint64_t bad_ = 0;
  int bad_axis_ = 0;
};

class PrefetchJob : public Job {
 public:
  PrefetchJob(Napi::Env env, SharedRegion* shared, CancelPtr cancel, const memmap::StridedView& view, unsigned itemsize)
      : Job(env, shared, std::move(cancel)), view_(view), itemsize_(itemsize) {}

 private:
  int Run(const Region& region, const memmap::CancelFlag* cancel) override {
    return memmap::touch_view(region, view_, itemsize_, cancel);
  }
  Napi::Value Result(Napi::Env env) override { return env.Undefined(); }
  memmap::StridedView view_;
  unsigned itemsize_;
};

class ReduceJob : public Job {
 public:
  ReduceJob(Napi::Env env, SharedRegion* shared, CancelPtr cancel, const memmap::ReduceArgs& args)
      : Job(env, shared, std::move(cancel)), args_(args), dst_(env, ReducedBytes(env, args)) {}

 private:
  int Run(const Region& region, const memmap::CancelFlag* cancel) override {
    args_.cancel = cancel;
    return memmap::reduce_view(region, args_, dst_.data());
  }
  Napi::Value Result(Napi::Env env) override { return dst_.Take(env); }
  Napi::Error Failure(Napi::Env env, int rc) override { return ReduceError(env, rc, args_); }
  memmap::ReduceArgs args_;
  ResultBytes dst_;
};

// Gather's coordinates copied into native memory: column d at [d * count, (d + 1) * count).
std::vector<double> ToCoords(const Napi::Value& v, int ndim, uint64_t* count_out) {
  const double* columns[memmap::kMaxDims];
  const size_t count = ToColumns(v, ndim, columns);
  std::vector<double> out(count * static_cast<size_t>(ndim));
  for (int d = 0; d < ndim; d++) {
    if (count > 0) std::memcpy(out.data() + d * count, columns[d], count * sizeof(double));
  }
  *count_out = count;
  return out;
}

// Every entry point below follows one rule: first take every value it needs
// from JavaScript (which may run user code: getters, Proxies), then look up
// the region (ERR_CLOSED if that code closed it) and pin it for the whole
// kernel. No JavaScript runs between the pin and the kernel's end.
class Mapping : public Napi::ObjectWrap<Mapping> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Mapping",
                       {
                           InstanceMethod<&Mapping::Buffer>("buffer"),
                           InstanceMethod<&Mapping::ReadAt>("readAt"),
                           InstanceMethod<&Mapping::Load>("load"),
                           InstanceMethod<&Mapping::Store>("store"),
                           InstanceMethod<&Mapping::Flush>("flush"),
                           InstanceMethod<&Mapping::Advise>("advise"),
                           InstanceMethod<&Mapping::Willneed>("willneed"),
                           InstanceMethod<&Mapping::Residency>("residency"),
                           InstanceMethod<&Mapping::Close>("close"),
                           InstanceMethod<&Mapping::Share>("share"),
                           InstanceMethod<&Mapping::SumAsync>("sumAsync"),
                           InstanceMethod<&Mapping::CopyAsync>("copyAsync"),
                           InstanceMethod<&Mapping::GatherAsync>("gatherAsync"),
                           InstanceMethod<&Mapping::ReduceAsync>("reduceAsync"),
                           InstanceMethod<&Mapping::Prefetch>("prefetch"),
                           InstanceMethod<&Mapping::Sum>("sum"),
                           InstanceMethod<&Mapping::Copy>("copy"),
                           InstanceMethod<&Mapping::Gather>("gather"),
                           InstanceMethod<&Mapping::Reduce>("reduce"),
                           InstanceAccessor<&Mapping::GetClosed>("closed"),
                           InstanceAccessor<&Mapping::GetLength>("length"),
                           InstanceAccessor<&Mapping::GetMeta>("meta"),
                       });
  }

  // new Mapping(fd, mode, offset, length, flags), or new Mapping("shared", id)
  // to adopt a region another thread shared.
  explicit Mapping(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Mapping>(info) {
    Napi::Env env = info.Env();
    if (info.Length() >= 2 && info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "shared") {
      if (!info[1].IsString()) ThrowCode(env, "ERR_INVALID_TOKEN", "share() token id must be a string");
      SharedRegion* shared = memmap::adopt_shared(info[1].As<Napi::String>().Utf8Value());
      if (shared == nullptr)
        ThrowCode(env, "ERR_INVALID_TOKEN",
                  "no mapping of this process has this share() id (closed by every holder, or from another process)");
      state_ = new HandleState{shared, 1};
      Tag(env, info);
      return;
    }
    if (info.Length() < 5) ThrowArg(env, "Mapping(fd, mode, offset, length, flags, path?)");
    int fd = ToFd(info[0]);
    memmap::Mode mode = ToMode(info[1]);
    uint64_t offset = ToU64(info[2], "offset");
    uint64_t length = ToU64(info[3], "length");
    unsigned flags = static_cast<unsigned>(ToU64(info[4], "flags"));
    std::string path = info.Length() > 5 && !info[5].IsUndefined() ? ToPath(info[5]) : std::string();
    auto* shared = new SharedRegion();
    int rc = memmap::map_region(fd, mode, offset, length, flags, &shared->region);
    if (rc != 0) {
      delete shared;
      ThrowErrno(env, rc);
    }
    if (length > 0) shared->read_path = std::move(path);
    state_ = new HandleState{shared, 1};
    Tag(env, info);
  }

  // The region of `v` if it is a Mapping (ERR_CLOSED if closed), nullptr if it is not one. Runs no user code.
  static SharedRegion* RegionOf(Napi::Env env, const Napi::Value& v) {
    bool tagged = false;
    if (!v.IsObject() || napi_check_object_type_tag(env, v, &kMappingTag, &tagged) != napi_ok || !tagged)
      return nullptr;
    return Unwrap(v.As<Napi::Object>())->Live(env);
  }

  static void Tag(Napi::Env env, const Napi::CallbackInfo& info) {
    if (napi_type_tag_object(env, info.This(), &kMappingTag) != napi_ok) ThrowArg(env, "cannot tag a Mapping");
  }

  ~Mapping() override {
    // GC backstop. Buffers this handle made hold their own references.
    memmap::release_handle(state_);
  }

 private:
  SharedRegion* Live(Napi::Env env) {
    if (state_->shared == nullptr) ThrowCode(env, "ERR_CLOSED", "memmap is closed");
    return state_->shared;
  }

  // buffer(start, length): an external ArrayBuffer over [start, start+length)
  // of the mapped bytes, detached again by close().
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t start = ToU64(info[0], "start");
    uint64_t length = ToU64(info[1], "length");
    SharedRegion* shared = Live(env);
    const Region& r = shared->region;
    if (start > r.length || length > r.length - start) ThrowArg(env, "window out of range");
    if (length == 0) return Napi::ArrayBuffer::New(env, 0);
    if (static_cast<double>(length) > GetEnvData(env)->max_buffer)
      ThrowCode(env, "ERR_TOO_LARGE", "window exceeds the largest ArrayBuffer this runtime supports");

    // The backing store holds this handle and the address range until Node
    // frees it (after close() detached it, or when a transferred copy dies).
    EnvData* data = GetEnvData(env);
    auto* ref = new BufferRef{state_, shared, data};
    {
      std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
      state_->refs++;
      shared->address_refs++;
    }
    napi_value value;
    napi_status status =
        NewExternalArrayBuffer(env, r.data + start, static_cast<size_t>(length), FinalizeBuffer, ref, &value);
    if (status != napi_ok) {
      FinalizeBuffer(env, nullptr, ref);
      // lib/ words the refusal (what to use instead) and stops asking.
      if (status == napi_no_external_buffers_allowed)
        ThrowCode(env, "ERR_NO_EXTERNAL_BUFFERS", "this runtime refuses ArrayBuffers over memory it did not allocate");
      ThrowCode(env, "ERR_TOO_LARGE", "the runtime refused an external ArrayBuffer of this size");
    }
    // JavaScript may write private pages through it from now on: readAt() stops.
    memmap::expose(shared);
    Napi::ArrayBuffer ab(env, value);
    napi_create_reference(env, value, 0, &ref->weak);
    data->live.insert(ref);
    // Drop references to collected buffers, amortized: only when the list doubled.
    if (views_.size() >= prune_at_) {
      views_.erase(std::remove_if(views_.begin(), views_.end(), [](const View& v) { return v.ab.Value().IsEmpty(); }),
                   views_.end());
      prune_at_ = std::max<size_t>(16, views_.size() * 2);
    }
    views_.push_back(View{Napi::Weak(ab), ref});
    return ab;
  }

  // readAt(start, length, dst): true once `length` (at most dst's) bytes at
  // `start` are copied into dst with a read of the file, false (nothing done)
  // once the region is exposed (a buffer or share() made: the mapping may hold
  // private writes), or when its path no longer names the mapped file. A first
  // element read this way costs a pread where touching the mapping costs a
  // page fault and a costlier unmap. No descriptor is kept between calls.
  Napi::Value ReadAt(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t start = ToU64(info[0], "start");
    uint64_t length = ToU64(info[1], "length");
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      ThrowArg(env, "readAt(start, length, dst: Uint8Array)");
    Napi::Uint8Array dst = info[2].As<Napi::Uint8Array>();
    if (length > dst.ByteLength()) ThrowArg(env, "readAt: dst is too short");
    Pin pin(Live(env));
    const Region& r = pin.region();
    if (start > r.length || length > r.length - start) ThrowArg(env, "readAt: range out of the mapping");
    std::string path;
    {
      std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
      path = pin.shared()->read_path;
    }
    if (path.empty()) return Napi::Boolean::New(env, false);
    int rc = memmap::read_file_at(path.c_str(), r.dev, r.ino, r.offset + start, dst.Data(), length);
    if (rc == 1) {
      memmap::expose(pin.shared());  // not this file any more: don't try again
      return Napi::Boolean::New(env, false);
    }
    if (rc == -ERANGE)
      ThrowCode(env, "ERR_SIGBUS",
                "the file is shorter than its mapping (truncated while mapped): these bytes are gone");
    if (rc != 0) ThrowErrno(env, rc);
    return Napi::Boolean::New(env, true);
  }

  // load(start, length, dst) / store(start, length, src): `length` bytes at
  // `start` copied out of / into the mapping, through a Uint8Array the caller
  // owns: element access where the runtime refuses buffers over the mapping
  // (Electron). No user code runs (no coercion); the copy is SIGBUS-guarded.
  Napi::Value Load(const Napi::CallbackInfo& info) { return Transfer(info, false); }
  Napi::Value Store(const Napi::CallbackInfo& info) { return Transfer(info, true); }

  Napi::Value Transfer(const Napi::CallbackInfo& info, bool into_mapping) {
    Napi::Env env = info.Env();
    uint64_t start = ToU64(info[0], "start");
    uint64_t length = ToU64(info[1], "length");
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      ThrowArg(env, into_mapping ? "store(start, length, src: Uint8Array)" : "load(start, length, dst: Uint8Array)");
    TypedBytes bytes = ToTypedBytes(info[2], into_mapping ? "src" : "dst");
    if (length > bytes.length) ThrowArg(env, into_mapping ? "store: src is too short" : "load: dst is too short");
    Pin pin(Live(env));
    const Region& r = pin.region();
    if (start > r.length || length > r.length - start) ThrowArg(env, "range out of the mapping");
    if (length == 0) return env.Undefined();
    if (into_mapping) {
      if (r.mode == memmap::Mode::kReadOnly) ThrowCode(env, "ERR_READ_ONLY", "the mapping is read-only (mode 'r')");
      memmap::expose(pin.shared());  // memory may now differ from the file ('c'): readAt() stops
    }
    struct Copy {
      uint8_t* dst;
      const uint8_t* src;
      size_t n;
    } copy{into_mapping ? r.data + start : bytes.data, into_mapping ? bytes.data : r.data + start,
           static_cast<size_t>(length)};
    // memmove: `bytes` may be a window of this very mapping where buffers are allowed.
    int rc = memmap::guarded(
        [](void* ctx) {
          auto* c = static_cast<Copy*>(ctx);
          std::memmove(c->dst, c->src, c->n);
        },
        &copy);
    if (rc != 0) ThrowKernel(env, rc);
    return env.Undefined();
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    bool has_start = info.Length() > 0, has_length = info.Length() > 1;
    uint64_t start = has_start ? ToU64(info[0], "start") : 0;
    uint64_t length = has_length ? ToU64(info[1], "length") : 0;
    Pin pin(Live(env));
    const Region& r = pin.region();
    if (!has_length) length = r.length - std::min(start, r.length);
    int rc = memmap::flush_region(r, start, length);
    if (rc != 0) ThrowErrno(env, rc);
    return env.Undefined();
  }

  Napi::Value Advise(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t advice = ToU64(info[0], "advice");
    if (advice >= static_cast<uint64_t>(memmap::kAdviceCount)) ThrowArg(env, "advice out of range");
    Pin pin(Live(env));
    int rc = memmap::advise_region(const_cast<Region&>(pin.region()), static_cast<memmap::Advice>(advice));
    if (rc != 0) ThrowErrno(env, rc);
    return env.Undefined();
  }

  // willneed(ranges: Float64Array [start, length, ...]): starts reading exactly
  // these byte ranges into the page cache (MADV_WILLNEED / PrefetchVirtualMemory),
  // whatever the mapping's advice; ranges past the end are clipped. Chunked
  // readers (Zarr) give MADV_RANDOM to the mapping and this the chunks a read touches.
  Napi::Value Willneed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      ThrowArg(env, "willneed(ranges: Float64Array)");
    Napi::Float64Array f = info[0].As<Napi::Float64Array>();
    if (f.ElementLength() % 2 != 0) ThrowArg(env, "willneed: ranges come in [start, length] pairs");
    // Read before the pin: plain numbers from our own JS, but checked all the same.
    std::vector<uint64_t> ranges(f.ElementLength());
    for (size_t i = 0; i < ranges.size(); i++) {
      double v = f[i];
      if (!(v >= 0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<uint64_t>(v)))
        ThrowArg(env, "willneed: ranges must be non-negative integers");
      ranges[i] = static_cast<uint64_t>(v);
    }
    Pin pin(Live(env));
    const Region& r = pin.region();
    for (size_t i = 0; i < ranges.size(); i += 2) {
      uint64_t start = ranges[i], length = ranges[i + 1];
      if (start >= r.length || length == 0) continue;
      memmap::prefetch(r, r.data + start, std::min(length, r.length - start));
    }
    return env.Undefined();
  }

  // residency(): Uint8Array, one byte per page of the mapped range (1 = in RAM).
  Napi::Value Residency(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t pages = memmap::residency_pages(Live(env)->region);
    Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(pages));
    Pin pin(Live(env));
    if (memmap::residency_pages(pin.region()) != pages) ThrowArg(env, "region changed");
    int rc = memmap::residency(pin.region(), out.Data());
    if (rc != 0) ThrowErrno(env, rc);
    return out;
  }

  // close(): detach every view handed out, then release this handle. Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (state_->shared == nullptr) return env.Undefined();
    for (auto& view : views_) {
      if (view.ab.IsEmpty()) continue;
      Napi::Value v = view.ab.Value();
      if (v.IsEmpty() || !v.IsArrayBuffer()) continue;  // collected: its finalizer accounts for it
      Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
      // Already detached: transfer()red, the memory may live on elsewhere.
      if (ab.IsDetached()) {
        std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
        if (!view.ref->released) view.ref->escaped = true;
        continue;
      }
      // Still ours, so the backing store (and `view.ref`) is alive. Once
      // detached nothing can reach the memory: give its address reference
      // back now, so the range is unmapped below instead of kept for a
      // finalizer.
      {
        std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
        view.ref->released = true;
        view.ref->shared->address_refs--;
      }
      ab.Detach();
    }
    views_.clear();
    SharedRegion* shared = nullptr;
    {
      std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
      shared = state_->shared;
      state_->shared = nullptr;
    }
    if (shared != nullptr) memmap::drop_holder(shared);
    return env.Undefined();
  }

  // share(meta): registry id another thread passes to new Mapping("shared", id).
  // `meta` (JSON of what the array is) is kept with the first share and read
  // back by fromShared(), which checks the token against it.
  Napi::Value Share(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) ThrowArg(env, "share(meta)");
    std::string meta = info[0].As<Napi::String>().Utf8Value();
    return Napi::String::New(env, memmap::share_id(Live(env), meta));
  }

  // sum(type, swap, view, threads?), copy(type, swap, view, dst),
  // gather(type, swap, coords, view, dst): the kernels over this mapping (see RunSum).
  Napi::Value Sum(const Napi::CallbackInfo& info) {
    return RunSum(info, 0, [&] { return Pin(Live(info.Env())); });
  }
  Napi::Value Copy(const Napi::CallbackInfo& info) {
    return RunCopy(info, 0, [&] { return Pin(Live(info.Env())); });
  }
  Napi::Value Gather(const Napi::CallbackInfo& info) {
    return RunGather(info, 0, [&] { return Pin(Live(info.Env())); });
  }
  Napi::Value Reduce(const Napi::CallbackInfo& info) {
    return RunReduce(info, 0, [&] { return Pin(Live(info.Env())); });
  }

  // sumAsync(type, swap, view, threads, cancel), copyAsync(type, swap, view,
  // cancel), gatherAsync(type, swap, coords, view, cancel), prefetch(view,
  // itemsize, cancel): Promises of what the sync calls give (copy and gather
  // a fresh ArrayBuffer of the elements). `cancel`: a Cancel or undefined.
  Napi::Value SumAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return AsyncCall(env, [&] {
      memmap::ElemType type = ToElemType(info[0]);
      bool swap = info[1].ToBoolean();
      memmap::StridedView view = ToView(info[2]);
      int threads = ToThreads(info[3]);
      CancelPtr cancel = ToCancel(info[4]);
      return Job::Start(std::make_unique<SumJob>(env, Live(env), std::move(cancel), type, swap, view, threads));
    });
  }
  Napi::Value CopyAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return AsyncCall(env, [&] {
      memmap::ElemType type = ToElemType(info[0]);
      bool swap = info[1].ToBoolean();
      memmap::StridedView view = ToView(info[2]);
      CancelPtr cancel = ToCancel(info[3]);
      return Job::Start(std::make_unique<CopyJob>(env, Live(env), std::move(cancel), type, swap, view));
    });
  }
  Napi::Value GatherAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return AsyncCall(env, [&] {
      memmap::ElemType type = ToElemType(info[0]);
      bool swap = info[1].ToBoolean();
      memmap::StridedView view = ToView(info[3]);
      uint64_t count = 0;
      std::vector<double> coords = ToCoords(info[2], view.ndim, &count);
      CancelPtr cancel = ToCancel(info[4]);
      return Job::Start(
          std::make_unique<GatherJob>(env, Live(env), std::move(cancel), type, swap, view, std::move(coords), count));
    });
  }
  // reduceAsync(type, swap, view, nkeep, op, outType, ddof, threads, cancel):
  // the results (C order over the kept dims) in a fresh ArrayBuffer.
  Napi::Value ReduceAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return AsyncCall(env, [&] {
      memmap::ReduceArgs args = ToReduceArgs(info, 0);
      CancelPtr cancel = ToCancel(info[8]);
      return Job::Start(std::make_unique<ReduceJob>(env, Live(env), std::move(cancel), args));
    });
  }
  Napi::Value Prefetch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return AsyncCall(env, [&] {
      memmap::StridedView view = ToView(info[0]);
      uint64_t itemsize = ToU64(info[1], "itemsize");
      if (itemsize == 0 || itemsize > 65536) ThrowArg(env, "itemsize out of range");
      CancelPtr cancel = ToCancel(info[2]);
      return Job::Start(
          std::make_unique<PrefetchJob>(env, Live(env), std::move(cancel), view, static_cast<unsigned>(itemsize)));
    });
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), state_->shared == nullptr);
  }

  Napi::Value GetLength(const Napi::CallbackInfo& info) {
    SharedRegion* shared = state_->shared;
    return Napi::Number::New(info.Env(), shared ? static_cast<double>(shared->region.length) : 0.0);
  }

  Napi::Value GetMeta(const Napi::CallbackInfo& info) {
    SharedRegion* shared = state_->shared;
    if (shared == nullptr) return info.Env().Undefined();
    std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
    return Napi::String::New(info.Env(), shared->meta);
  }

  struct View {
    Napi::Reference<Napi::ArrayBuffer> ab;  // weak
    BufferRef* ref;                         // valid while `ab` is alive and not detached
  };
  HandleState* state_ = nullptr;
  std::vector<View> views_;
  size_t prune_at_ = 16;
};

// Heap storage: the same kernels over the bytes of a TypedArray (a plain or
// shared ArrayBuffer) instead of a mapping. The bytes are the first argument
// and are taken last, after every other value, so no user code can detach
// them before the kernel ends.
struct HeapBytes {
  Region span;
  const Region& region() const { return span; }
};

HeapBytes ToHeapBytes(const Napi::Value& v) {
  TypedBytes t = ToTypedBytes(v, "bytes");
  HeapBytes h;
  h.span.data = t.data;
  h.span.length = t.length;
  return h;
}

// sumBytes(bytes, type, swap, view, threads?), copyBytes(bytes, type, swap, view, dst),
// gatherBytes(bytes, type, swap, coords, view, dst).
Napi::Value SumBytes(const Napi::CallbackInfo& info) {
  return RunSum(info, 1, [&] { return ToHeapBytes(info[0]); });
}
Napi::Value CopyBytes(const Napi::CallbackInfo& info) {
  return RunCopy(info, 1, [&] { return ToHeapBytes(info[0]); });
}
Napi::Value GatherBytes(const Napi::CallbackInfo& info) {
  return RunGather(info, 1, [&] { return ToHeapBytes(info[0]); });
}
Napi::Value ReduceBytes(const Napi::CallbackInfo& info) {
  return RunReduce(info, 1, [&] { return ToHeapBytes(info[0]); });
}

// sumGrid(sources, blocks, starts, type, squares, meanRe, meanIm, range, threads?):
// part of numpy's float sum over a selection cut into blocks (chunked.h):
// Float64Array [re, im]. `range`: Float64Array [origin, from, to, total,
// buffered, accRe, accIm] (GridRange). `sources`: Mappings and
// TypedArrays; `blocks`: Float64Array, per block in C order of the grid
// [source, byte offset, swap, byte strides...]; `starts`: Float64Array
// [ndim, then per axis: count, its run starts..., the extent].
Napi::Value SumGrid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Every value first: an element read may run a getter (that closes a Mapping).
  if (!info[0].IsArray()) ThrowArg(env, "sources must be an array");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<Napi::Value> sources(list.Length());
  for (uint32_t i = 0; i < sources.size(); i++) sources[i] = list.Get(i);
  auto f64 = [&](const Napi::Value& v, const char* what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      ThrowArg(env, std::string(what) + " must be a Float64Array");
    return v.As<Napi::Float64Array>();
  };
  Napi::Float64Array blocks = f64(info[1], "blocks");
  Napi::Float64Array starts = f64(info[2], "starts");
  memmap::ElemType type = ToElemType(info[3]);
  const bool squares = info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  auto number = [&](const Napi::Value& v) {
    if (!v.IsNumber()) ThrowArg(env, "mean must be a number");
    return v.As<Napi::Number>().DoubleValue();
  };
  const double mre = number(info[5]);
  const double mim = number(info[6]);
  Napi::Float64Array rangeArg = f64(info[7], "range");
  const int threads = ToThreads(info[8]);
  auto index = [&](double x, double limit) {
    if (!(x >= 0) || x > limit || std::floor(x) != x) ThrowArg(env, "bad grid");
    return static_cast<uint64_t>(x);
  };
  memmap::ChunkGrid grid;
  const double* st = starts.Data();
  const size_t nst = starts.ElementLength();
  size_t at = 0;
  auto next = [&]() {
    if (at >= nst) ThrowArg(env, "bad grid");
    return st[at++];
  };
  grid.ndim = static_cast<int>(index(next(), memmap::kMaxDims));
  for (int d = 0; d < grid.ndim; d++) {
    const uint64_t count = index(next(), static_cast<double>(nst));
    for (uint64_t k = 0; k < count; k++) grid.starts[d].push_back(index(next(), kMaxSafeInteger));
  }
  if (at != nst) ThrowArg(env, "bad grid");
  const size_t per = 3 + static_cast<size_t>(grid.ndim);
  const double* bd = blocks.Data();
  if (blocks.ElementLength() % per != 0) ThrowArg(env, "bad grid");
  const size_t nblocks = blocks.ElementLength() / per;
  // Then what keeps the bytes alive: a pin per Mapping, the span of each TypedArray.
  std::vector<std::unique_ptr<Pin>> pins;
  std::vector<Region> spans(sources.size());
  std::vector<const Region*> regions(sources.size());
  for (size_t i = 0; i < sources.size(); i++) {
    if (sources[i].IsTypedArray()) {
      TypedBytes t = ToTypedBytes(sources[i], "source");
      spans[i].data = t.data;
      spans[i].length = t.length;
      regions[i] = &spans[i];
      continue;
    }
    SharedRegion* shared = Mapping::RegionOf(env, sources[i]);
    if (shared == nullptr) ThrowArg(env, "sources must be Mappings or TypedArrays");
    pins.push_back(std::make_unique<Pin>(shared));
    regions[i] = &pins.back()->region();
  }
  grid.blocks.resize(nblocks);
  grid.strides.resize(nblocks * static_cast<size_t>(grid.ndim));
  for (size_t b = 0; b < nblocks; b++) {
    const double* e = bd + b * per;
    memmap::GridBlock& g = grid.blocks[b];
    g.region = regions[index(e[0], static_cast<double>(sources.size()) - 1)];
    g.offset = index(e[1], kMaxSafeInteger);
    g.swap = e[2] != 0;
    int64_t* strides = grid.strides.data() + b * static_cast<size_t>(grid.ndim);
    for (int d = 0; d < grid.ndim; d++) {
      const double s = e[3 + d];
      if (!(std::fabs(s) <= kMaxSafeInteger) || std::floor(s) != s) ThrowArg(env, "bad stride");
      strides[d] = static_cast<int64_t>(s);
    }
    g.strides = strides;
  }
  if (rangeArg.ElementLength() != 7) ThrowArg(env, "bad range");
  const double* ra = rangeArg.Data();
  memmap::GridRange range;
  range.origin = index(ra[0], kMaxSafeInteger);
  range.from = index(ra[1], kMaxSafeInteger);
  range.to = index(ra[2], kMaxSafeInteger);
  range.total = index(ra[3], kMaxSafeInteger);
  range.buffered = ra[4] != 0;
  range.acc_re = ra[5];
  range.acc_im = ra[6];
  const int rc = memmap::sum_grid(grid, type, squares ? memmap::GridSum::kSquares : memmap::GridSum::kSum, mre, mim,
                                  &range, threads);
  pins.clear();
  if (rc == -EINVAL)
    ThrowArg(env,
             "bad grid: blocks that do not tile the selection, a type other than float or complex, or a bad range");
  if (rc != 0) ThrowKernel(env, rc);
  Napi::Float64Array pair = Napi::Float64Array::New(env, 2);
  pair[0] = range.acc_re;
  pair[1] = range.acc_im;
  return pair;
}

// The bytes of a call's sources (an Array of Mappings and TypedArrays, read
// into `values` first): each mapping pinned for the helper's lifetime, then
// the heap bytes taken; none may overlap `dst`. Runs no JavaScript.
class SourceRegions {
 public:
  SourceRegions(Napi::Env env, const std::vector<Napi::Value>& values, const TypedBytes& dst, const char* who)
      : pins_(values.size()), heap_(values.size()) {
    for (size_t i = 0; i < values.size(); i++) {
      if (values[i].IsTypedArray()) continue;
      SharedRegion* shared = Mapping::RegionOf(env, values[i]);
      if (shared == nullptr) ThrowArg(env, std::string(who) + ": a source is neither a Mapping nor a TypedArray");
      pins_[i] = std::make_unique<Pin>(shared);
    }
    for (size_t i = 0; i < values.size(); i++) {
      if (pins_[i] != nullptr) continue;
      TypedBytes t = ToTypedBytes(values[i], "source");
      heap_[i].data = t.data;
      heap_[i].length = t.length;
    }
    for (size_t i = 0; i < values.size(); i++)
      if (Overlaps(region(i), dst.data, dst.length)) ThrowArg(env, "destination overlaps the source");
  }
  const Region& region(size_t i) const { return pins_[i] != nullptr ? pins_[i]->region() : heap_[i]; }
  bool mapped(size_t i) const { return pins_[i] != nullptr; }

 private:
  std::vector<std::unique_ptr<Pin>> pins_;
  std::vector<Region> heap_;
};

// reduceChunks(type, nkeep, op, outType, ddof, threads, sources, blocks, dst):
// reduceBytes() of many blocks in one call, spread over threads (reduce.h
// reduce_blocks): a Zarr array's chunks. `sources`: an Array of Mappings and
// TypedArrays; `blocks`: a Float64Array of records [source, swap, dstOffset,
// offset, ndim, shape[ndim], strides[ndim]] (bytes), one ndim for all; each
// block's results (one outType element per kept position) at dstOffset of
// `dst`. Every value is read first, then each mapping is pinned for the call.
Napi::Value ReduceChunks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  memmap::ReduceArgs args;
  args.type = ToElemType(info[0]);
  const uint64_t nkeep = ToU64(info[1], "nkeep");
  const uint64_t op = ToU64(info[2], "op");
  if (op >= static_cast<uint64_t>(memmap::kReduceOpCount)) ThrowArg(env, "op out of range");
  args.op = static_cast<memmap::ReduceOp>(op);
  args.out_type = ToElemType(info[3]);
  if (!info[4].IsNumber() || std::isnan(info[4].As<Napi::Number>().DoubleValue()))
    ThrowArg(env, "ddof must be a number");
  args.ddof = info[4].As<Napi::Number>().DoubleValue();
  args.threads = ToThreads(info[5]);
  if (!info[6].IsArray()) ThrowArg(env, "reduceChunks: sources must be an Array");
  Napi::Array list = info[6].As<Napi::Array>();
  const uint32_t nsrc = list.Length();
  std::vector<Napi::Value> values(nsrc);
  for (uint32_t i = 0; i < nsrc; i++) values[i] = list.Get(i);
  if (!info[7].IsTypedArray() || info[7].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    ThrowArg(env, "reduceChunks: blocks must be a Float64Array");
  Napi::Float64Array fb = info[7].As<Napi::Float64Array>();
  auto integer = [&](double x, bool sign) {
    if (!(std::fabs(x) <= kMaxSafeInteger) || std::floor(x) != x || (!sign && x < 0))
      ThrowArg(env, "reduceChunks: blocks hold integers");
    return x;
  };
  const size_t total = fb.ElementLength();
  const double ndim_d = total >= 5 ? integer(fb[4], false) : 0;
  if (ndim_d > memmap::kMaxDims) ThrowArg(env, "reduceChunks: too many dimensions");
  const size_t ndim = static_cast<size_t>(ndim_d);
  if (nkeep > ndim) ThrowArg(env, "nkeep out of range");
  const size_t record = 5 + 2 * ndim;
  if (total % record != 0) ThrowArg(env, "reduceChunks: blocks hold whole records");
  const size_t count = total / record;
  const unsigned osize = memmap::elem_size(args.out_type);
  std::vector<uint64_t> shapes(count * ndim);
  std::vector<int64_t> strides(count * ndim);
  std::vector<memmap::ReduceBlock> blocks(count);
  std::vector<uint32_t> which(count);
  std::vector<unsigned __int128> ends(count);
  for (size_t i = 0; i < count; i++) {
    const double* r = fb.Data() + i * record;
    const double source = integer(r[0], false);
    if (source >= nsrc) ThrowArg(env, "reduceChunks: no such source");
    which[i] = static_cast<uint32_t>(source);
    blocks[i].swap = r[1] != 0;
    blocks[i].dst_offset = static_cast<uint64_t>(integer(r[2], false));
    blocks[i].offset = static_cast<uint64_t>(integer(r[3], false));
    if (r[4] != ndim_d) ThrowArg(env, "reduceChunks: blocks of one ndim");
    unsigned __int128 kept = osize;
    memmap::StridedView whole;  // for ViewBytes()' element-count check
    whole.ndim = static_cast<int>(ndim);
    for (size_t k = 0; k < ndim; k++) {
      shapes[i * ndim + k] = static_cast<uint64_t>(integer(r[5 + k], false));
      strides[i * ndim + k] = static_cast<int64_t>(integer(r[5 + ndim + k], true));
      whole.shape[k] = shapes[i * ndim + k];
      if (k < nkeep) kept *= shapes[i * ndim + k];
    }
    ViewBytes(env, args.type, whole);
    blocks[i].shape = shapes.data() + i * ndim;
    blocks[i].strides = strides.data() + i * ndim;
    ends[i] = blocks[i].dst_offset + kept;
  }
  args.nkeep = static_cast<int>(nkeep);
  TypedBytes dst = ToTypedBytes(info[8], "destination");
  for (size_t i = 0; i < count; i++)
    if (ends[i] > dst.length) ThrowArg(env, "reduceChunks: a block's results lie past the destination");
  // No JavaScript runs from here on: pin every mapping, then take the heap bytes.
  std::unique_ptr<SourceRegions> regions = std::make_unique<SourceRegions>(env, values, dst, "reduceChunks");
  for (size_t i = 0; i < count; i++) {
    blocks[i].region = &regions->region(which[i]);
    blocks[i].mapped = regions->mapped(which[i]);
  }
  size_t failed = 0;
  const int rc = memmap::reduce_blocks(blocks.data(), count, static_cast<int>(ndim), args, dst.data, &failed);
  regions.reset();
  if (rc != 0) {
    args.view.ndim = static_cast<int>(ndim);
    for (size_t k = 0; k < ndim; k++) args.view.shape[k] = blocks[failed].shape[k];
    throw ReduceError(env, rc, args);
  }
  return env.Undefined();
}

// copyChunks(type, sources, parts, dstStrides, dst): a selection across
// chunks copied into `dst` in one call (chunk_copy.h). `sources`: an Array of
// Mappings and TypedArrays (heap bytes); `dstStrides`: a Float64Array of the
// destination's byte strides (its length is ndim); `parts`: a Float64Array of
// records [source, swap, src, dst, shape[ndim], srcStrides[ndim]] (byte
// offsets and strides). Every value is read first, then each mapping is
// pinned for the whole copy; the heap bytes are taken last.
Napi::Value CopyChunks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  memmap::ElemType type = ToElemType(info[0]);
  if (!info[1].IsArray()) ThrowArg(env, "copyChunks: sources must be an Array");
  Napi::Array list = info[1].As<Napi::Array>();
  const uint32_t nsrc = list.Length();
  std::vector<Napi::Value> values(nsrc);
  for (uint32_t i = 0; i < nsrc; i++) values[i] = list.Get(i);
  auto floats = [&](const Napi::Value& v, const char* what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      ThrowArg(env, std::string("copyChunks: ") + what + " must be a Float64Array");
    return v.As<Napi::Float64Array>();
  };
  auto integer = [&](double x, bool sign) {
    if (!(std::fabs(x) <= kMaxSafeInteger) || std::floor(x) != x || (!sign && x < 0))
      ThrowArg(env, "copyChunks: parts hold integers");
    return x;
  };
  Napi::Float64Array fs = floats(info[3], "dstStrides");
  const size_t ndim = fs.ElementLength();
  if (ndim > static_cast<size_t>(memmap::kMaxDims)) ThrowArg(env, "copyChunks: too many dimensions");
  std::vector<int64_t> dst_strides(ndim);
  for (size_t k = 0; k < ndim; k++) dst_strides[k] = static_cast<int64_t>(integer(fs[k], true));
  Napi::Float64Array fp = floats(info[2], "parts");
  const size_t record = 4 + 2 * ndim;
  if (fp.ElementLength() % record != 0) ThrowArg(env, "copyChunks: parts hold whole records");
  const size_t count = fp.ElementLength() / record;
  std::vector<uint64_t> shapes(count * ndim);
  std::vector<int64_t> strides(count * ndim);
  std::vector<memmap::ChunkPart> parts(count);
  std::vector<uint32_t> which(count);
  for (size_t i = 0; i < count; i++) {
    const double* r = fp.Data() + i * record;
    const double source = integer(r[0], false);
    if (source >= nsrc) ThrowArg(env, "copyChunks: no such source");
    which[i] = static_cast<uint32_t>(source);
    parts[i].swap = r[1] != 0;
    parts[i].src = static_cast<uint64_t>(integer(r[2], false));
    parts[i].dst = static_cast<uint64_t>(integer(r[3], false));
    for (size_t k = 0; k < ndim; k++) {
      shapes[i * ndim + k] = static_cast<uint64_t>(integer(r[4 + k], false));
      strides[i * ndim + k] = static_cast<int64_t>(integer(r[4 + ndim + k], true));
    }
    parts[i].shape = shapes.data() + i * ndim;
    parts[i].src_strides = strides.data() + i * ndim;
  }
  TypedBytes dst = ToTypedBytes(info[4], "destination");
  // No JavaScript runs from here on: pin every mapping, then take the heap bytes.
  SourceRegions regions(env, values, dst, "copyChunks");
  for (size_t i = 0; i < count; i++) {
    parts[i].region = &regions.region(which[i]);
    parts[i].mapped = regions.mapped(which[i]);
  }
  int rc = memmap::copy_chunk_parts(parts.data(), count, static_cast<int>(ndim), type, dst_strides.data(), dst.data,
                                    dst.length);
  if (rc != 0) ThrowKernel(env, rc);
  return env.Undefined();
}

// The tables the native code is built from, for lib/ to check against its own
// (test/registry.test.js): dtypes [{name, kind, itemsize, code}], modes and
// advice and reductions {name: code}, mapFlags {populate}.
Napi::Object Tables(Napi::Env env) {
  Napi::Object tables = Napi::Object::New(env);
  Napi::Array dtypes = Napi::Array::New(env, memmap::kElemTypeCount);
  for (int t = 0; t < memmap::kElemTypeCount; t++) {
    Napi::Object row = Napi::Object::New(env);
    row.Set("name", memmap::kDTypes[t].name);
    row.Set("kind", std::string(1, memmap::kDTypes[t].kind));
    row.Set("itemsize", memmap::kDTypes[t].itemsize);
    row.Set("code", t);
    dtypes.Set(static_cast<uint32_t>(t), row);
  }
  tables.Set("dtypes", dtypes);
  Napi::Object modes = Napi::Object::New(env);
  for (int m = 0; m < memmap::kModeCount; m++) modes.Set(memmap::kModeNames[m], m);
  tables.Set("modes", modes);
  Napi::Object advice = Napi::Object::New(env);
  for (int a = 0; a < memmap::kAdviceCount; a++) advice.Set(memmap::kAdviceNames[a], a);
  tables.Set("advice", advice);
  Napi::Object reductions = Napi::Object::New(env);
  for (int r = 0; r < memmap::kReduceOpCount; r++) reductions.Set(memmap::kReduceOpNames[r], r);
  tables.Set("reductions", reductions);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("populate", static_cast<double>(memmap::kMapPopulate));
  tables.Set("mapFlags", flags);
  return tables;
}

// init(makeError, maxBufferLength)
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvData* data = GetEnvData(env);
  if (!info[0].IsFunction()) ThrowArg(env, "init(makeError, maxBufferLength)");
  data->make_error = Napi::Persistent(info[0].As<Napi::Function>());
  if (info[1].IsNumber()) {
    double max = info[1].As<Napi::Number>().DoubleValue();
    if (max > 0 && max <= kMaxSafeInteger) data->max_buffer = max;
  }
  return env.Undefined();
}

// A path exactly as the caller gave it: a string (UTF-8) or the bytes of a
// Buffer, like fs. lib/ does no lexical normalisation either.
std::string ToPath(const Napi::Value& v) {
  std::string path;
  if (v.IsString()) {
    path = v.As<Napi::String>().Utf8Value();
  } else if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array bytes = v.As<Napi::Uint8Array>();
    path.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ElementLength());
  } else {
    ThrowArg(v.Env(), "path must be a string or a Buffer");
  }
  if (path.find('\0') != std::string::npos) ThrowArg(v.Env(), "path must not contain NUL bytes");
  return path;
}

// openFile(path, mode) -> [fd, size, atimeSec, atimeNsec, mtimeSec, mtimeNsec]
Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0]);
  memmap::Mode mode = ToMode(info[1]);
  int fd = -1;
  uint64_t size = 0;
  memmap::FileTimes times;
  int rc = memmap::open_file(path.c_str(), mode, &fd, &size, &times);
  if (rc != 0) ThrowErrno(env, rc, path);
  const double values[] = {static_cast<double>(fd),
                           static_cast<double>(size),
                           static_cast<double>(times.atime_sec),
                           static_cast<double>(times.atime_nsec),
                           static_cast<double>(times.mtime_sec),
                           static_cast<double>(times.mtime_nsec)};
  // A Float64Array, not an Array: setting an Array's elements would run
  // accessors someone defined on Array.prototype.
  Napi::Float64Array out = Napi::Float64Array::New(env, 6);
  std::memcpy(out.Data(), values, sizeof values);
  return out;
}

// resizeFile(fd, size, path)
Napi::Value ResizeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = memmap::resize_file(ToFd(info[0]), ToU64(info[1], "size"));
  if (rc != 0) ThrowErrno(env, rc, info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string());
  return env.Undefined();
}

// restoreFile(fd, size, atimeSec, atimeNsec, mtimeSec, mtimeNsec): undoes a
// growth (size and times as openFile reported them).
Napi::Value RestoreFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ToFd(info[0]);
  uint64_t size = ToU64(info[1], "size");
  memmap::FileTimes times;
  times.atime_sec = static_cast<int64_t>(ToU64(info[2], "atime"));
  times.atime_nsec = static_cast<int64_t>(ToU64(info[3], "atime"));
  times.mtime_sec = static_cast<int64_t>(ToU64(info[4], "mtime"));
  times.mtime_nsec = static_cast<int64_t>(ToU64(info[5], "mtime"));
  int rc = memmap::restore_file(fd, size, times);
  if (rc != 0) ThrowErrno(env, rc);
  return env.Undefined();
}

Napi::Value CloseFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = memmap::close_file(ToFd(info[0]));
  if (rc != 0) ThrowErrno(env, rc);
  return env.Undefined();
}

Napi::Value EvictFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0]);
  int rc = memmap::evict_file(path.c_str());
  if (rc != 0) ThrowErrno(env, rc, path);
  return env.Undefined();
}

// guardSigbus(): puts memmap's SIGBUS handler back in front if a
// process.on('SIGBUS') listener (libuv) replaced or reset it.
// scanEscapes(): called when a worker's JS is done ('exit'), before Node
// tears the env down. Pending finalizers have run by then, so a buffer still
// listed whose ArrayBuffer was collected, or is detached without close(),
// has its memory alive in a transfer()red copy: mark it escaped.
Napi::Value ScanEscapes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvData* data = GetEnvData(env);
  std::lock_guard<std::mutex> lock(memmap::g_region_mutex);
  for (BufferRef* ref : data->live) {
    if (ref->released) continue;
    napi_value value = nullptr;
    bool detached = false;
    if (napi_get_reference_value(env, ref->weak, &value) != napi_ok || value == nullptr ||
        (napi_is_detached_arraybuffer(env, value, &detached) == napi_ok && detached))
      ref->escaped = true;
  }
  return env.Undefined();
}

// guardSigbus(true) from the main thread: its hook is in place from now on.
Napi::Value GuardSigbus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = memmap::ensure_bus_handler();
  if (rc != 0) ThrowErrno(env, rc);
  if (info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value()) memmap::watch_bus_handler();
  return env.Undefined();
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* data = new EnvData();
  data->env = env;
  env.SetInstanceData<EnvData>(data);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("openFile", Napi::Function::New<OpenFile>(env, "openFile"));
  exports.Set("resizeFile", Napi::Function::New<ResizeFile>(env, "resizeFile"));
  exports.Set("restoreFile", Napi::Function::New<RestoreFile>(env, "restoreFile"));
  exports.Set("closeFile", Napi::Function::New<CloseFile>(env, "closeFile"));
  exports.Set("evictFile", Napi::Function::New<EvictFile>(env, "evictFile"));
  exports.Set("scanEscapes", Napi::Function::New<ScanEscapes>(env, "scanEscapes"));
  exports.Set("guardSigbus", Napi::Function::New<GuardSigbus>(env, "guardSigbus"));
  exports.Set("sumBytes", Napi::Function::New<SumBytes>(env, "sumBytes"));
  exports.Set("copyBytes", Napi::Function::New<CopyBytes>(env, "copyBytes"));
  exports.Set("gatherBytes", Napi::Function::New<GatherBytes>(env, "gatherBytes"));
  exports.Set("reduceBytes", Napi::Function::New<ReduceBytes>(env, "reduceBytes"));
  exports.Set("sumGrid", Napi::Function::New<SumGrid>(env, "sumGrid"));
  exports.Set("Mapping", Mapping::Init(env));
  exports.Set("Cancel", CancelClass(env));
  exports.Set("tables", Tables(env));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(memmap::page_size())));
  exports.Set("copyChunks", Napi::Function::New<CopyChunks>(env, "copyChunks"));
  exports.Set("reduceChunks", Napi::Function::New<ReduceChunks>(env, "reduceChunks"));
  return exports;
}

}  // namespace

NODE_API_MODULE(memmap, InitModule)
