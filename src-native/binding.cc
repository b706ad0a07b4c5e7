// Node-API glue: turns the mapping core into JS values and coded errors.
// All argument validation that users see happens in lib/; the checks here only
// make sure no call from JavaScript can crash the process.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"
#include "mapping.h"

namespace {

using memmap::Region;

constexpr double kMaxSafeInteger = 9007199254740991.0;

struct EnvData {
  Napi::FunctionReference make_error;        // (code|errno, message, syscall?, path?) => Error
  double max_buffer = 4294967296.0;          // largest external ArrayBuffer this runtime accepts
  Napi::Reference<Napi::Symbol> keep_alive;  // hidden key: view -> handle
};

EnvData* GetEnvData(Napi::Env env) { return env.GetInstanceData<EnvData>(); }

// Builds the error through the JS factory so users get MemmapError instances.
Napi::Error MakeError(Napi::Env env, Napi::Value code, const std::string& message, const char* syscall,
                      const std::string& path) {
  EnvData* data = GetEnvData(env);
  if (data == nullptr || data->make_error.IsEmpty()) return Napi::Error::New(env, message);
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

// Reads a non-negative integer (Number up to 2^53 - 1 or BigInt) as uint64.
uint64_t ToU64(const Napi::Value& v, const char* what) {
  Napi::Env env = v.Env();
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw Napi::RangeError::New(env, std::string(what) + " is out of range");
    return r;
  }
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d)
    throw Napi::RangeError::New(env, std::string(what) + " must be a non-negative safe integer");
  return static_cast<uint64_t>(d);
}

memmap::Mode ToMode(const Napi::Value& v) {
  uint64_t m = ToU64(v, "mode");
  if (m > 3) throw Napi::RangeError::New(v.Env(), "mode out of range");
  return static_cast<memmap::Mode>(m);
}

int ToFd(const Napi::Value& v) {
  uint64_t fd = ToU64(v, "fd");
  if (fd > 0x7fffffff) throw Napi::RangeError::New(v.Env(), "fd out of range");
  return static_cast<int>(fd);
}

// One mmap() shared by every Mapping handle over it, in any thread. Each handle
// (a JS Mapping object, one per thread that opened or adopted the region) is a
// holder; the region is unmapped when the last holder closes or is collected.
// Views (ArrayBuffers) keep their handle alive through a hidden property, and
// close() detaches them, so no live view ever outlives the memory it shows.
struct SharedRegion {
  Region region;
  int64_t holders = 1;  // guarded by g_registry_mutex
  uint64_t id = 0;      // registry id once shared, 0 before
};

std::mutex g_registry_mutex;
std::unordered_map<uint64_t, SharedRegion*> g_registry;
uint64_t g_next_id = 1;

void DropHolder(SharedRegion* shared) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  if (--shared->holders > 0) return;
  if (shared->id != 0) g_registry.erase(shared->id);
  memmap::unmap_region(&shared->region);
  delete shared;
}

// Adds a holder to a shared region by id; nullptr if it is gone.
SharedRegion* AdoptShared(uint64_t id) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto it = g_registry.find(id);
  if (it == g_registry.end()) return nullptr;
  it->second->holders++;
  return it->second;
}

uint64_t ShareId(SharedRegion* shared) {
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  if (shared->id == 0) {
    shared->id = g_next_id++;
    g_registry.emplace(shared->id, shared);
  }
  return shared->id;
}

class Mapping : public Napi::ObjectWrap<Mapping> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Mapping",
                       {
                           InstanceMethod<&Mapping::Buffer>("buffer"),
                           InstanceMethod<&Mapping::Flush>("flush"),
                           InstanceMethod<&Mapping::Advise>("advise"),
                           InstanceMethod<&Mapping::Residency>("residency"),
                           InstanceMethod<&Mapping::Close>("close"),
                           InstanceMethod<&Mapping::Share>("share"),
                           InstanceMethod<&Mapping::Sum>("sum"),
                           InstanceMethod<&Mapping::Copy>("copy"),
                           InstanceMethod<&Mapping::Gather>("gather"),
                           InstanceAccessor<&Mapping::GetClosed>("closed"),
                           InstanceAccessor<&Mapping::GetLength>("length"),
                       });
  }

  // new Mapping(fd, mode, offset, length, flags), or new Mapping("shared", id)
  // to adopt a region another thread shared.
  explicit Mapping(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Mapping>(info) {
    Napi::Env env = info.Env();
    if (info.Length() >= 2 && info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "shared") {
      shared_ = AdoptShared(ToU64(info[1], "id"));
      if (shared_ == nullptr) ThrowCode(env, "ERR_CLOSED", "the shared mapping was closed by every holder");
      return;
    }
    if (info.Length() < 5) throw Napi::TypeError::New(env, "Mapping(fd, mode, offset, length, flags)");
    int fd = ToFd(info[0]);
    memmap::Mode mode = ToMode(info[1]);
    uint64_t offset = ToU64(info[2], "offset");
    uint64_t length = ToU64(info[3], "length");
    unsigned flags = static_cast<unsigned>(ToU64(info[4], "flags"));
    auto* shared = new SharedRegion();
    int rc = memmap::map_region(fd, mode, offset, length, flags, &shared->region);
    if (rc != 0) {
      delete shared;
      ThrowErrno(env, rc);
    }
    shared_ = shared;
  }

  ~Mapping() override {
    // GC backstop. Views reference this object, so none is alive any more.
    if (shared_ != nullptr) DropHolder(shared_);
  }

 private:
  SharedRegion* Live(Napi::Env env) {
    if (shared_ == nullptr) ThrowCode(env, "ERR_CLOSED", "memmap is closed");
    return shared_;
  }

  // buffer(start, length): an external ArrayBuffer over [start, start+length)
  // of the mapped bytes, detached again by close().
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    uint64_t start = ToU64(info[0], "start");
    uint64_t length = ToU64(info[1], "length");
    const Region& r = shared->region;
    if (start > r.length || length > r.length - start) throw Napi::RangeError::New(env, "window out of range");
    if (length == 0) return Napi::ArrayBuffer::New(env, 0);
    if (static_cast<double>(length) > GetEnvData(env)->max_buffer)
      ThrowCode(env, "ERR_TOO_LARGE", "window exceeds the largest ArrayBuffer this runtime supports");

    napi_value value;
    // No finalizer: the memory belongs to the region, which this handle keeps
    // mapped for as long as the view can reach it (kept alive below).
    napi_status status =
        napi_create_external_arraybuffer(env, r.data + start, static_cast<size_t>(length), nullptr, nullptr, &value);
    if (status != napi_ok) ThrowCode(env, "ERR_TOO_LARGE", "the runtime refused an external ArrayBuffer of this size");
    Napi::ArrayBuffer ab(env, value);
    napi_property_descriptor keep = {
        nullptr, GetEnvData(env)->keep_alive.Value(), nullptr, nullptr, nullptr, Value(), napi_default, nullptr};
    ab.DefineProperties({Napi::PropertyDescriptor(keep)});
    // Drop references to collected buffers, amortized: only when the list doubled.
    if (views_.size() >= prune_at_) {
      views_.erase(std::remove_if(views_.begin(), views_.end(),
                                  [](const Napi::Reference<Napi::ArrayBuffer>& ref) { return ref.Value().IsEmpty(); }),
                   views_.end());
      prune_at_ = std::max<size_t>(16, views_.size() * 2);
    }
    views_.push_back(Napi::Weak(ab));
    return ab;
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    uint64_t start = info.Length() > 0 ? ToU64(info[0], "start") : 0;
    uint64_t length =
        info.Length() > 1 ? ToU64(info[1], "length") : shared->region.length - std::min(start, shared->region.length);
    int rc = memmap::flush_region(shared->region, start, length);
    if (rc != 0) ThrowErrno(env, rc);
    return env.Undefined();
  }

  Napi::Value Advise(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    uint64_t advice = ToU64(info[0], "advice");
    if (advice > 4) throw Napi::RangeError::New(env, "advice out of range");
    int rc = memmap::advise_region(shared->region, static_cast<memmap::Advice>(advice));
    if (rc != 0) ThrowErrno(env, rc);
    return env.Undefined();
  }

  // residency(): Uint8Array, one byte per page of the mapped range (1 = in RAM).
  Napi::Value Residency(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    uint64_t pages = memmap::residency_pages(shared->region);
    Napi::Uint8Array out = Napi::Uint8Array::New(env, static_cast<size_t>(pages));
    int rc = memmap::residency(shared->region, out.Data());
    if (rc != 0) ThrowErrno(env, rc);
    return out;
  }

  // close(): detach every view handed out, then unmap. Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (shared_ == nullptr) return env.Undefined();
    for (auto& ref : views_) {
      if (ref.IsEmpty()) continue;
      Napi::Value v = ref.Value();
      if (!v.IsEmpty() && v.IsArrayBuffer()) {
        Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
        if (!ab.IsDetached()) ab.Detach();
      }
    }
    views_.clear();
    SharedRegion* shared = shared_;
    shared_ = nullptr;
    DropHolder(shared);
    return env.Undefined();
  }

  // share(): registry id another thread passes to new Mapping("shared", id).
  Napi::Value Share(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Number::New(env, static_cast<double>(ShareId(Live(env))));
  }

  // sum(type, swap, offset, shape, strides): number, bigint (64-bit ints) or [re, im].
  Napi::Value Sum(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    memmap::ElemType type = ToElemType(info[0]);
    memmap::StridedView view = ToView(info, 2);
    memmap::SumResult r;
    int rc = memmap::sum_view(shared->region, type, info[1].ToBoolean(), view, &r);
    if (rc != 0) ThrowKernel(env, rc);
    switch (type) {
      case memmap::ElemType::kFloat16:
      case memmap::ElemType::kFloat32:
      case memmap::ElemType::kFloat64:
        return Napi::Number::New(env, r.re);
      case memmap::ElemType::kComplex64:
      case memmap::ElemType::kComplex128: {
        Napi::Array pair = Napi::Array::New(env, 2);
        pair.Set(0u, Napi::Number::New(env, r.re));
        pair.Set(1u, Napi::Number::New(env, r.im));
        return pair;
      }
      case memmap::ElemType::kInt64:
        return Napi::BigInt::New(env, r.i);
      case memmap::ElemType::kUint64:
        return Napi::BigInt::New(env, r.u);
      default:
        return Napi::Number::New(env, static_cast<double>(r.i));
    }
  }

  // copy(type, swap, offset, shape, strides, dst): the view's elements in C
  // order into the ArrayBuffer view `dst`, which must hold exactly them.
  Napi::Value Copy(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    memmap::ElemType type = ToElemType(info[0]);
    memmap::StridedView view = ToView(info, 2);
    unsigned __int128 bytes = memmap::elem_size(type);
    for (int k = 0; k < view.ndim; k++) bytes *= view.shape[k];
    uint8_t* dst = ToDestination(info[5], bytes);
    int rc = memmap::copy_view(shared->region, type, info[1].ToBoolean(), view, dst);
    if (rc != 0) ThrowKernel(env, rc);
    return env.Undefined();
  }

  // gather(type, swap, coords: Float64Array[], shape, byteStrides, dst): element
  // k of dst is the element at (coords[0][k], coords[1][k], ...). Coordinates
  // are checked here; a bad one returns [kind, axis, position] instead.
  Napi::Value Gather(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SharedRegion* shared = Live(env);
    memmap::ElemType type = ToElemType(info[0]);
    if (!info[2].IsArray() || !info[3].IsArray() || !info[4].IsArray())
      throw Napi::TypeError::New(env, "coords, shape and strides must be arrays");
    Napi::Array coords = info[2].As<Napi::Array>();
    Napi::Array shape = info[3].As<Napi::Array>();
    Napi::Array strides = info[4].As<Napi::Array>();
    const uint32_t ndim = coords.Length();
    if (ndim > static_cast<uint32_t>(memmap::kMaxDims) || shape.Length() != ndim || strides.Length() != ndim)
      throw Napi::RangeError::New(env, "bad shape or strides");
    uint64_t dims[memmap::kMaxDims];
    int64_t steps[memmap::kMaxDims];
    const double* columns[memmap::kMaxDims];
    size_t count = 1;
    for (uint32_t d = 0; d < ndim; d++) {
      Napi::Value c = coords.Get(d);
      if (!c.IsTypedArray() || c.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
        throw Napi::TypeError::New(env, "coords must be Float64Arrays");
      Napi::Float64Array f = c.As<Napi::Float64Array>();
      if (d == 0) count = f.ElementLength();
      if (f.ElementLength() != count) throw Napi::RangeError::New(env, "coords differ in length");
      columns[d] = f.Data();
      dims[d] = ToU64(shape.Get(d), "shape");
      steps[d] = ToStride(strides.Get(d));
    }
    std::vector<uint64_t> at(count);
    uint64_t bad = 0;
    int bad_axis = 0;
    int rc = memmap::coords_to_offsets(columns, static_cast<int>(ndim), dims, steps, count, at.data(), &bad, &bad_axis);
    if (rc != 0) {
      // [kind, axis, position]: lib/ throws the error with its class and code.
      Napi::Array bad_at = Napi::Array::New(env, 3);
      bad_at.Set(0u, Napi::String::New(env, rc == -EINVAL ? "integer" : "range"));
      bad_at.Set(1u, Napi::Number::New(env, bad_axis));
      bad_at.Set(2u, Napi::Number::New(env, static_cast<double>(bad)));
      return bad_at;
    }
    uint8_t* dst = ToDestination(info[5], static_cast<unsigned __int128>(count) * memmap::elem_size(type));
    rc = memmap::gather(shared->region, type, info[1].ToBoolean(), at.data(), count, dst);
    if (rc != 0) ThrowKernel(env, rc);
    return env.Undefined();
  }

  static memmap::ElemType ToElemType(const Napi::Value& v) {
    uint64_t t = ToU64(v, "type");
    if (t >= static_cast<uint64_t>(memmap::kElemTypeCount)) throw Napi::RangeError::New(v.Env(), "type out of range");
    return static_cast<memmap::ElemType>(t);
  }

  // info[at] = byte offset, info[at+1] = shape[], info[at+2] = byte strides[].
  static memmap::StridedView ToView(const Napi::CallbackInfo& info, size_t at) {
    Napi::Env env = info.Env();
    memmap::StridedView view;
    view.offset = ToU64(info[at], "offset");
    if (!info[at + 1].IsArray() || !info[at + 2].IsArray())
      throw Napi::TypeError::New(env, "shape and strides must be arrays");
    Napi::Array shape = info[at + 1].As<Napi::Array>();
    Napi::Array strides = info[at + 2].As<Napi::Array>();
    if (shape.Length() != strides.Length() || shape.Length() > static_cast<uint32_t>(memmap::kMaxDims))
      throw Napi::RangeError::New(env, "bad shape or strides");
    view.ndim = static_cast<int>(shape.Length());
    for (uint32_t k = 0; k < shape.Length(); k++) {
      view.shape[k] = ToU64(shape.Get(k), "shape");
      view.strides[k] = ToStride(strides.Get(k));
    }
    return view;
  }

  // A byte stride: an integer Number of magnitude up to 2^53 - 1.
  static int64_t ToStride(const Napi::Value& v) {
    if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "strides must be numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(std::fabs(d) <= kMaxSafeInteger) || std::floor(d) != d) throw Napi::RangeError::New(v.Env(), "bad stride");
    return static_cast<int64_t>(d);
  }

  // The bytes of a TypedArray that must be exactly `bytes` long.
  static uint8_t* ToDestination(const Napi::Value& v, unsigned __int128 bytes) {
    if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), "destination must be a TypedArray");
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    if (static_cast<unsigned __int128>(t.ByteLength()) != bytes)
      throw Napi::RangeError::New(v.Env(), "destination has the wrong size");
    if (bytes == 0) return nullptr;
    return static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset();
  }

  static void ThrowKernel(Napi::Env env, int rc) {
    if (rc == memmap::kBusError)
      ThrowCode(env, "ERR_SIGBUS",
                "a page of the mapping could not be read (SIGBUS): the file shrank while mapped, or an I/O error");
    if (rc == -ERANGE) throw Napi::RangeError::New(env, "view outside the mapping");
    ThrowErrno(env, rc);
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), shared_ == nullptr); }

  Napi::Value GetLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), shared_ ? static_cast<double>(shared_->region.length) : 0.0);
  }

  SharedRegion* shared_ = nullptr;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> views_;
  size_t prune_at_ = 16;
};

// init(makeError, maxBufferLength)
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvData* data = GetEnvData(env);
  if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "init(makeError, maxBufferLength)");
  data->make_error = Napi::Persistent(info[0].As<Napi::Function>());
  if (info[1].IsNumber()) {
    double max = info[1].As<Napi::Number>().DoubleValue();
    if (max > 0 && max <= kMaxSafeInteger) data->max_buffer = max;
  }
  return env.Undefined();
}

std::string ToPath(const Napi::Value& v) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), "path must be a string");
  std::string path = v.As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) throw Napi::TypeError::New(v.Env(), "path must not contain NUL bytes");
  return path;
}

// openFile(path, mode) -> [fd, size]
Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToPath(info[0]);
  memmap::Mode mode = ToMode(info[1]);
  int fd = -1;
  uint64_t size = 0;
  int rc = memmap::open_file(path.c_str(), mode, &fd, &size);
  if (rc != 0) ThrowErrno(env, rc, path);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fd));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(size)));
  return out;
}

// resizeFile(fd, size, path)
Napi::Value ResizeFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int rc = memmap::resize_file(ToFd(info[0]), ToU64(info[1], "size"));
  if (rc != 0) ThrowErrno(env, rc, info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string());
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

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  auto* data = new EnvData();
  data->keep_alive = Napi::Persistent(Napi::Symbol::New(env, "memmap.handle"));
  env.SetInstanceData<EnvData>(data);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("openFile", Napi::Function::New<OpenFile>(env, "openFile"));
  exports.Set("resizeFile", Napi::Function::New<ResizeFile>(env, "resizeFile"));
  exports.Set("closeFile", Napi::Function::New<CloseFile>(env, "closeFile"));
  exports.Set("evictFile", Napi::Function::New<EvictFile>(env, "evictFile"));
  exports.Set("Mapping", Mapping::Init(env));
  exports.Set("pageSize", Napi::Number::New(env, static_cast<double>(memmap::page_size())));
  return exports;
}

}  // namespace

NODE_API_MODULE(memmap, InitModule)
