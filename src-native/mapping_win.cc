// Win32 implementation of the mapping core (built with MSVC or mingw-w64).
// Differences from POSIX, documented in docs/development.md (Windows): views
// start at the 64 KiB allocation granularity, a mapped file cannot be shrunk
// or deleted while a view exists, advice other than willneed does nothing,
// residency is this process's working set, evict_file() can only ask.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef PSAPI_VERSION
#define PSAPI_VERSION 2  // QueryWorkingSetEx from kernel32 (K32QueryWorkingSetEx)
#endif
#include <windows.h>
// windows.h first: psapi.h needs its types.
#include <psapi.h>

#include <errno.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "mapping.h"

namespace memmap {

namespace {
thread_local const char* g_failed_syscall = "";

// The errno a Win32 error stands for (the names Node's fs uses for it).
int errno_of(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_INVALID_NAME:
    case ERROR_DIRECTORY:
      return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_CANT_ACCESS_FILE:
    case ERROR_INVALID_ACCESS:
      return EACCES;
    case ERROR_INVALID_FUNCTION:
      return EISDIR;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_BUSY:
      return EBUSY;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return EEXIST;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NO_SYSTEM_RESOURCES:
      return ENOMEM;
    case ERROR_USER_MAPPED_FILE:  // 1224: shrinking a file some view still maps
      return EPERM;
    case ERROR_INVALID_HANDLE:
      return EBADF;
    case ERROR_TOO_MANY_OPEN_FILES:
      return EMFILE;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return ENOSPC;
    case ERROR_FILE_TOO_LARGE:
      return EFBIG;
    case ERROR_WRITE_PROTECT:
      return EROFS;
    case ERROR_FILENAME_EXCED_RANGE:
      return ENAMETOOLONG;
    case ERROR_INVALID_PARAMETER:
    case ERROR_MAPPED_ALIGNMENT:
    case ERROR_NEGATIVE_SEEK:
    case ERROR_NO_UNICODE_TRANSLATION:
      return EINVAL;
    default:
      return EIO;
  }
}

int fail(const char* syscall) {
  const DWORD err = GetLastError();
  g_failed_syscall = syscall;
  return -errno_of(err);
}

bool is_private(Mode mode) { return mode == Mode::kReadOnly || mode == Mode::kCopyOnWrite; }

const SYSTEM_INFO& system_info() {
  static const SYSTEM_INFO info = [] {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si;
  }();
  return info;
}

uint64_t granularity() { return system_info().dwAllocationGranularity; }

// Descriptors are the C runtime's of the process (Node's, statically linked
// into node.exe), so lib/ can use them with fs.readSync/writeSync. node.exe
// exports libuv, which wraps that runtime; elsewhere (no libuv exported) the
// descriptor is the HANDLE itself, which Windows keeps below 2^31.
struct Uv {
  int (*open_osfhandle)(HANDLE) = nullptr;
  HANDLE (*get_osfhandle)(int) = nullptr;
  void* (*default_loop)() = nullptr;
  size_t (*req_size)(int) = nullptr;
  int (*fs_close)(void*, void*, int, void*) = nullptr;
  void (*fs_req_cleanup)(void*) = nullptr;
  bool ok = false;
};

template <typename T>
void load(HMODULE m, const char* name, T* out) {
  *out = reinterpret_cast<T>(reinterpret_cast<void*>(GetProcAddress(m, name)));
}

const Uv& uv() {
  static const Uv api = [] {
    Uv u;
    HMODULE exe = GetModuleHandleW(nullptr);
    load(exe, "uv_open_osfhandle", &u.open_osfhandle);
    load(exe, "uv_get_osfhandle", &u.get_osfhandle);
    load(exe, "uv_default_loop", &u.default_loop);
    load(exe, "uv_req_size", &u.req_size);
    load(exe, "uv_fs_close", &u.fs_close);
    load(exe, "uv_fs_req_cleanup", &u.fs_req_cleanup);
    u.ok = u.open_osfhandle && u.get_osfhandle && u.default_loop && u.req_size && u.fs_close && u.fs_req_cleanup;
    return u;
  }();
  return api;
}

constexpr int kUvFsReq = 6;  // UV_FS in libuv's uv_req_type

HANDLE handle_of(int fd) {
  if (fd < 0) return INVALID_HANDLE_VALUE;
  if (uv().ok) return uv().get_osfhandle(fd);
  return reinterpret_cast<HANDLE>(static_cast<intptr_t>(fd));
}

// Takes ownership of h: on failure it is closed.
int fd_of(HANDLE h, int* fd_out) {
  if (uv().ok) {
    int fd = uv().open_osfhandle(h);
    if (fd < 0) {
      CloseHandle(h);
      g_failed_syscall = "_open_osfhandle";
      return -EMFILE;
    }
    *fd_out = fd;
    return 0;
  }
  const intptr_t v = reinterpret_cast<intptr_t>(h);
  if (v < 0 || v > INT32_MAX) {
    CloseHandle(h);
    g_failed_syscall = "CreateFileW";
    return -EMFILE;
  }
  *fd_out = static_cast<int>(v);
  return 0;
}

bool to_wide(const char* utf8, std::vector<wchar_t>* out) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, nullptr, 0);
  if (n <= 0) return false;
  out->resize(static_cast<size_t>(n));
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out->data(), n) == n;
}

// 100 ns ticks since 1601 <-> Unix seconds + nanoseconds.
constexpr int64_t kEpochTicks = 116444736000000000LL;
void unix_time(const FILETIME& ft, int64_t* sec, int64_t* nsec) {
  const int64_t t =
      static_cast<int64_t>((static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime) - kEpochTicks;
  int64_t s = t / 10000000, r = t % 10000000;
  if (r < 0) {
    r += 10000000;
    s -= 1;
  }
  *sec = s;
  *nsec = r * 100;
}
FILETIME file_time(int64_t sec, int64_t nsec) {
  const uint64_t t = static_cast<uint64_t>(sec * 10000000 + nsec / 100 + kEpochTicks);
  FILETIME ft;
  ft.dwLowDateTime = static_cast<DWORD>(t);
  ft.dwHighDateTime = static_cast<DWORD>(t >> 32);
  return ft;
}

// Volume serial and file index: Windows' st_dev and st_ino.
bool identity_of(HANDLE h, uint64_t* dev, uint64_t* ino) {
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) return false;
  *dev = info.dwVolumeSerialNumber;
  *ino = (static_cast<uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
  return (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

// The file handle each shared view was made from (a duplicate: the caller's
// descriptor may be closed), for FlushFileBuffers; and which regions now hold
// anonymous memory after release_file(). Keyed by the view's base.
struct ViewInfo {
  HANDLE file = nullptr;
  bool released = false;
};
std::mutex g_views_mutex;
std::unordered_map<void*, ViewInfo>& views() {
  static auto* map = new std::unordered_map<void*, ViewInfo>();
  return *map;
}

using PrefetchFn = BOOL(WINAPI*)(HANDLE, ULONG_PTR, PWIN32_MEMORY_RANGE_ENTRY, ULONG);
// Windows 8+; absent on older systems and a stub under wine: then a no-op.
PrefetchFn prefetch_fn() {
  static const PrefetchFn fn = [] {
    PrefetchFn f = nullptr;
    load(GetModuleHandleW(L"kernel32.dll"), "PrefetchVirtualMemory", &f);
    return f;
  }();
  return fn;
}

void prefetch_range(void* addr, uint64_t length) {
  PrefetchFn fn = prefetch_fn();
  if (fn == nullptr || length == 0) return;
  WIN32_MEMORY_RANGE_ENTRY range;
  range.VirtualAddress = addr;
  range.NumberOfBytes = static_cast<SIZE_T>(length);
  fn(GetCurrentProcess(), 1, &range, 0);
}

// The error of a CreateFileW that failed (call right after it).
int open_error(const wchar_t* wpath) {
  const DWORD err = GetLastError();
  const DWORD attrs = GetFileAttributesW(wpath);
  g_failed_syscall = "CreateFileW";
  // Directories refuse CreateFileW without FILE_FLAG_BACKUP_SEMANTICS.
  if (err == ERROR_ACCESS_DENIED && attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0)
    return -EISDIR;
  return -errno_of(err);
}
}  // namespace

const char* failed_syscall() { return g_failed_syscall; }

uint64_t page_size() { return system_info().dwPageSize; }

int open_file(const char* path, Mode mode, int* fd_out, uint64_t* size_out, FileTimes* times_out) {
  DWORD access = GENERIC_READ;
  DWORD disposition = OPEN_EXISTING;
  switch (mode) {
    case Mode::kReadOnly:
    case Mode::kCopyOnWrite:
      break;
    case Mode::kReadWrite:
      access |= GENERIC_WRITE;
      break;
    case Mode::kCreate:
      access |= GENERIC_WRITE;
      disposition = OPEN_ALWAYS;  // truncated below, once known to be a regular file
      break;
    default:
      g_failed_syscall = "CreateFileW";
      return -EINVAL;
  }
  std::vector<wchar_t> wpath;
  if (!to_wide(path, &wpath)) {
    g_failed_syscall = "MultiByteToWideChar";
    return -EINVAL;
  }
  // Share everything, as Node's fs does: other handles may read, write,
  // rename or delete the file while we hold it.
  HANDLE h = CreateFileW(wpath.data(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return open_error(wpath.data());
  BY_HANDLE_FILE_INFORMATION info;
  if (GetFileType(h) != FILE_TYPE_DISK) {
    CloseHandle(h);
    g_failed_syscall = "CreateFileW";
    return -ENODEV;  // a pipe, a console, NUL
  }
  if (!GetFileInformationByHandle(h, &info)) {
    int err = fail("GetFileInformationByHandle");
    CloseHandle(h);
    return err;
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    CloseHandle(h);
    g_failed_syscall = "CreateFileW";
    return -EISDIR;
  }
  uint64_t size = (static_cast<uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (mode == Mode::kCreate && size != 0) {
    FILE_END_OF_FILE_INFO eof;
    eof.EndOfFile.QuadPart = 0;
    if (!SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof)) {
      int err = fail("SetEndOfFile");
      CloseHandle(h);
      return err;
    }
    size = 0;
  }
  if (times_out != nullptr) {
    unix_time(info.ftLastAccessTime, &times_out->atime_sec, &times_out->atime_nsec);
    unix_time(info.ftLastWriteTime, &times_out->mtime_sec, &times_out->mtime_nsec);
  }
  int rc = fd_of(h, fd_out);
  if (rc != 0) return rc;
  *size_out = size;
  return 0;
}

int restore_file(int fd, uint64_t size, const FileTimes& times) {
  int rc = resize_file(fd, size);
  if (rc != 0) return rc;
  const FILETIME atime = file_time(times.atime_sec, times.atime_nsec);
  const FILETIME mtime = file_time(times.mtime_sec, times.mtime_nsec);
  return SetFileTime(handle_of(fd), nullptr, &atime, &mtime) ? 0 : fail("SetFileTime");
}

int resize_file(int fd, uint64_t size) {
  if (size > static_cast<uint64_t>(INT64_MAX)) {
    g_failed_syscall = "SetEndOfFile";
    return -EFBIG;
  }
  // By handle information, not SetFilePointerEx + SetEndOfFile: the
  // descriptor's file position (which fs.writeSync may use) stays put.
  FILE_END_OF_FILE_INFO eof;
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  return SetFileInformationByHandle(handle_of(fd), FileEndOfFileInfo, &eof, sizeof eof) ? 0 : fail("SetEndOfFile");
}

int close_file(int fd) {
  if (!uv().ok) return CloseHandle(handle_of(fd)) ? 0 : fail("CloseHandle");
  // A synchronous uv_fs_close: the runtime's _close() frees the descriptor.
  void* req = std::calloc(1, uv().req_size(kUvFsReq));
  if (req == nullptr) {
    g_failed_syscall = "close";
    return -ENOMEM;
  }
  int rc = uv().fs_close(uv().default_loop(), req, fd, nullptr);
  uv().fs_req_cleanup(req);
  std::free(req);
  if (rc < 0) {
    g_failed_syscall = "close";
    return -EBADF;
  }
  return 0;
}

int read_file_at(const char* path, uint64_t dev, uint64_t ino, uint64_t pos, void* dst, uint64_t length) {
  std::vector<wchar_t> wpath;
  if (!to_wide(path, &wpath)) return 1;
  HANDLE h = CreateFileW(wpath.data(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return 1;
  uint64_t d = 0, i = 0;
  if (GetFileType(h) != FILE_TYPE_DISK || !identity_of(h, &d, &i) || d != dev || i != ino) {
    CloseHandle(h);
    return 1;  // renamed, replaced or gone: the mapping is the only way to its bytes
  }
  auto* p = static_cast<uint8_t*>(dst);
  int rc = 0;
  while (length > 0) {
    OVERLAPPED at = {};
    at.Offset = static_cast<DWORD>(pos);
    at.OffsetHigh = static_cast<DWORD>(pos >> 32);
    const DWORD want = length > 0x40000000u ? 0x40000000u : static_cast<DWORD>(length);
    DWORD n = 0;
    const bool ok = ReadFile(h, p, want, &n, &at) != 0;
    if (!ok && GetLastError() != ERROR_HANDLE_EOF) {
      rc = fail("ReadFile");
      break;
    }
    if (n == 0) {
      rc = -ERANGE;  // the file ends first: it was truncated
      break;
    }
    p += n;
    pos += n;
    length -= n;
  }
  CloseHandle(h);
  return rc;
}

int map_region(int fd, Mode mode, uint64_t offset, uint64_t length, unsigned flags, Region* out) {
  *out = Region();
  out->mode = mode;
  if (length == 0) return 0;
  HANDLE file = handle_of(fd);
  if (file == INVALID_HANDLE_VALUE || GetFileType(file) != FILE_TYPE_DISK) {
    g_failed_syscall = "CreateFileMappingW";
    return -EINVAL;
  }
  LARGE_INTEGER fsize;
  if (!GetFileSizeEx(file, &fsize)) return fail("GetFileSizeEx");
  uint64_t dev = 0, ino = 0;
  if (!identity_of(file, &dev, &ino)) return fail("GetFileInformationByHandle");
  const uint64_t size = static_cast<uint64_t>(fsize.QuadPart);
  if (offset > size || length > size - offset) {
    g_failed_syscall = "MapViewOfFile";
    return -ERANGE;
  }
  // Views start at a multiple of the allocation granularity (64 KiB), not of
  // the page size (error 1132 otherwise).
  const uint64_t aligned = offset - (offset % granularity());
  const uint64_t delta = offset - aligned;
  const uint64_t map_length = length + delta;
  if (map_length > SIZE_MAX) {
    g_failed_syscall = "MapViewOfFile";
    return -ENOMEM;
  }
  // 'r' is a copy-on-write view, as it is private on POSIX: a stray write
  // from JavaScript lands in a private page and never reaches the file.
  const bool priv = is_private(mode);
  HANDLE section = CreateFileMappingW(file, nullptr, priv ? PAGE_WRITECOPY : PAGE_READWRITE, 0, 0, nullptr);
  if (section == nullptr) return fail("CreateFileMappingW");
  void* base = MapViewOfFile(section, priv ? FILE_MAP_COPY : FILE_MAP_WRITE, static_cast<DWORD>(aligned >> 32),
                             static_cast<DWORD>(aligned), static_cast<SIZE_T>(map_length));
  int rc = base == nullptr ? fail("MapViewOfFile") : 0;
  CloseHandle(section);  // the view keeps the section alive
  if (rc != 0) return rc;
  ViewInfo info;
  if (!priv &&
      !DuplicateHandle(GetCurrentProcess(), file, GetCurrentProcess(), &info.file, 0, FALSE, DUPLICATE_SAME_ACCESS)) {
    rc = fail("DuplicateHandle");
    UnmapViewOfFile(base);
    return rc;
  }
  try {
    std::lock_guard<std::mutex> lock(g_views_mutex);
    views()[base] = info;
  } catch (...) {
    if (info.file != nullptr) CloseHandle(info.file);
    UnmapViewOfFile(base);
    g_failed_syscall = "MapViewOfFile";
    return -ENOMEM;
  }
  if ((flags & kMapPopulate) != 0) touch_pages(static_cast<uint8_t*>(base), map_length);
  out->base = base;
  out->map_length = map_length;
  out->data = static_cast<uint8_t*>(base) + delta;
  out->length = length;
  out->offset = offset;
  out->dev = dev;
  out->ino = ino;
  return 0;
}

int unmap_region(Region* region) {
  if (region->base == nullptr) return 0;
  ViewInfo info;
  {
    std::lock_guard<std::mutex> lock(g_views_mutex);
    auto it = views().find(region->base);
    if (it != views().end()) {
      info = it->second;
      views().erase(it);
    }
  }
  if (info.file != nullptr) CloseHandle(info.file);
  BOOL ok = info.released ? VirtualFree(region->base, 0, MEM_RELEASE) : UnmapViewOfFile(region->base);
  int rc = ok ? 0 : fail(info.released ? "VirtualFree" : "UnmapViewOfFile");
  region->base = nullptr;
  region->data = nullptr;
  region->map_length = 0;
  region->length = 0;
  return rc;
}

int release_file(Region* region) {
  if (region->base == nullptr) return 0;
  std::lock_guard<std::mutex> lock(g_views_mutex);
  auto it = views().find(region->base);
  if (it == views().end() || it->second.released) return 0;
  // No atomic replace as MAP_FIXED: unmap, then take the same addresses as
  // anonymous zero pages. Another thread may reserve them in between; then
  // this fails and buffers over the region must not be touched again.
  if (!UnmapViewOfFile(region->base)) return fail("UnmapViewOfFile");
  if (it->second.file != nullptr) {
    CloseHandle(it->second.file);
    it->second.file = nullptr;
  }
  void* p =
      VirtualAlloc(region->base, static_cast<SIZE_T>(region->map_length), MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
  if (p != region->base) {
    int rc = fail("VirtualAlloc");
    views().erase(it);
    region->base = nullptr;  // nothing left to unmap
    region->data = nullptr;
    return rc == 0 ? -ENOMEM : rc;
  }
  it->second.released = true;
  return 0;
}

int flush_region(const Region& region, uint64_t start, uint64_t length) {
  if (region.base == nullptr || length == 0 || is_private(region.mode)) return 0;
  if (start > region.length || length > region.length - start) {
    g_failed_syscall = "FlushViewOfFile";
    return -EINVAL;
  }
  if (!FlushViewOfFile(region.data + start, static_cast<SIZE_T>(length))) return fail("FlushViewOfFile");
  // FlushViewOfFile only starts the writes; FlushFileBuffers waits for them
  // and the metadata, as msync(MS_SYNC).
  HANDLE file = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_views_mutex);
    auto it = views().find(region.base);
    if (it != views().end()) file = it->second.file;
    if (file != nullptr && !FlushFileBuffers(file)) return fail("FlushFileBuffers");
  }
  return 0;
}

int advise_region(Region& region, Advice advice) {
  if (region.base == nullptr) return 0;
  const int index = static_cast<int>(advice);
  if (index < 0 || index >= kAdviceCount) {
    g_failed_syscall = "PrefetchVirtualMemory";
    return -EINVAL;
  }
  // Windows has no madvise: willneed prefetches, the other hints only set
  // what the scans read (advice_of).
  if (advice == Advice::kWillNeed) prefetch_range(region.base, region.map_length);
  __atomic_store_n(&region.advice, index, __ATOMIC_RELAXED);
  return 0;
}

void prefetch(const Region& region, const uint8_t* from, uint64_t length) {
  void* addr;
  uint64_t len;
  if (clip_prefetch(region, from, length, &addr, &len)) prefetch_range(addr, len);
}

// mingw's libstdc++ random_device is rand_s(): no descriptor to keep.
void random_bytes(void* out, size_t n) {
  static std::random_device device;
  auto* p = static_cast<uint8_t*>(out);
  for (size_t k = 0; k < n; k++) p[k] = static_cast<uint8_t>(device());
}

// No batch mapping call on Windows: read ahead, the loop's faults map.
void populate(const Region& region, const uint8_t* from, uint64_t length) { prefetch(region, from, length); }

// Large pages for file views need SeLockMemoryPrivilege and SEC_LARGE_PAGES at creation: nothing to ask for here.
bool huge_pages(const Region&) { return false; }

namespace {
// The view starts up to 64 KiB before data: residency covers the pages of
// [data, data + length) only, as on POSIX.
uint8_t* first_page(const Region& region) {
  const uintptr_t ps = static_cast<uintptr_t>(page_size());
  const uintptr_t addr = reinterpret_cast<uintptr_t>(region.data);
  return reinterpret_cast<uint8_t*>(addr - addr % ps);
}
}  // namespace

uint64_t residency_pages(const Region& region) {
  if (region.base == nullptr) return 0;
  const uint64_t ps = page_size();
  const uint64_t span = static_cast<uint64_t>(region.data - first_page(region)) + region.length;
  return (span + ps - 1) / ps;
}

int residency(const Region& region, uint8_t* out) {
  if (region.base == nullptr) return 0;
  // Resident = in this process's working set (there is no page-cache query).
  const uint64_t pages = residency_pages(region);
  const uint64_t ps = page_size();
  constexpr uint64_t kBatch = 1024;
  std::vector<PSAPI_WORKING_SET_EX_INFORMATION> batch;
  try {
    batch.resize(static_cast<size_t>(pages < kBatch ? pages : kBatch));
  } catch (...) {
    g_failed_syscall = "QueryWorkingSetEx";
    return -ENOMEM;
  }
  uint8_t* base = first_page(region);
  for (uint64_t first = 0; first < pages; first += kBatch) {
    const uint64_t n = pages - first < kBatch ? pages - first : kBatch;
    for (uint64_t i = 0; i < n; i++) {
      batch[i] = PSAPI_WORKING_SET_EX_INFORMATION();
      batch[i].VirtualAddress = base + (first + i) * ps;
    }
    if (!QueryWorkingSetEx(GetCurrentProcess(), batch.data(),
                           static_cast<DWORD>(n * sizeof(PSAPI_WORKING_SET_EX_INFORMATION))))
      return fail("QueryWorkingSetEx");
    for (uint64_t i = 0; i < n; i++) out[first + i] = batch[i].VirtualAttributes.Valid ? 1 : 0;
  }
  return 0;
}

int evict_file(const char* path) {
  // No unprivileged call drops a file's cached pages. Best effort instead:
  // write dirty pages back, then open the file unbuffered, which makes the
  // file system flush and purge its cache for the file unless someone maps it.
  std::vector<wchar_t> wpath;
  if (!to_wide(path, &wpath)) {
    g_failed_syscall = "MultiByteToWideChar";
    return -EINVAL;
  }
  const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
  HANDLE h = CreateFileW(wpath.data(), GENERIC_READ | GENERIC_WRITE, share, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h != INVALID_HANDLE_VALUE) {
    FlushFileBuffers(h);  // best effort: a read-only file cannot be opened for it
    CloseHandle(h);
  }
  h = CreateFileW(wpath.data(), GENERIC_READ, share, nullptr, OPEN_EXISTING, FILE_FLAG_NO_BUFFERING, nullptr);
  if (h == INVALID_HANDLE_VALUE) return open_error(wpath.data());
  int rc = 0;
  if (GetFileType(h) != FILE_TYPE_DISK) {
    g_failed_syscall = "CreateFileW";
    rc = -ENODEV;
  }
  CloseHandle(h);
  return rc;
}

// The ERR_SIGBUS guard. A page the file can no longer provide raises
// EXCEPTION_IN_PAGE_ERROR; wine raises an access violation instead, so one
// inside a file view counts too. A vectored handler (GCC has no __try) sends
// the faulting thread to bus_recover(), which jumps back into guarded(): the
// jump starts from a resumed thread context, not from inside the handler.
namespace {
DWORD g_tls = TLS_OUT_OF_INDEXES;  // per thread: the jump buffer of the innermost guarded()
std::once_flag g_veh_once;
int g_veh_error = 0;

// __builtin_setjmp's buffer: five words, no unwinding on the way back.
struct Jump {
  void* buf[5];
};

[[noreturn]] __attribute__((noinline)) void bus_recover() {
  auto* jump = static_cast<Jump*>(TlsGetValue(g_tls));
  __builtin_longjmp(jump->buf, 1);
}

bool in_file_view(const void* addr) {
  MEMORY_BASIC_INFORMATION mbi;
  return VirtualQuery(addr, &mbi, sizeof mbi) == sizeof mbi && mbi.Type == MEM_MAPPED;
}

LONG CALLBACK on_exception(EXCEPTION_POINTERS* ep) {
  const DWORD code = ep->ExceptionRecord->ExceptionCode;
  if (code != EXCEPTION_IN_PAGE_ERROR && code != EXCEPTION_ACCESS_VIOLATION) return EXCEPTION_CONTINUE_SEARCH;
  if (TlsGetValue(g_tls) == nullptr) return EXCEPTION_CONTINUE_SEARCH;  // not in guarded() on this thread
  if (code == EXCEPTION_ACCESS_VIOLATION) {
    if (ep->ExceptionRecord->NumberParameters < 2) return EXCEPTION_CONTINUE_SEARCH;
    const void* addr = reinterpret_cast<const void*>(ep->ExceptionRecord->ExceptionInformation[1]);
    if (!in_file_view(addr)) return EXCEPTION_CONTINUE_SEARCH;  // a real bug: crash as usual
  }
#if defined(_M_X64) || defined(__x86_64__)
  // Resume in bus_recover() below the faulting frame, stack aligned as after a call.
  CONTEXT* ctx = ep->ContextRecord;
  ctx->Rsp = ((ctx->Rsp - 512) & ~static_cast<DWORD64>(15)) - 8;
  ctx->Rip = reinterpret_cast<DWORD64>(&bus_recover);
  return EXCEPTION_CONTINUE_EXECUTION;
#else
  return EXCEPTION_CONTINUE_SEARCH;
#endif
}
}  // namespace

int ensure_bus_handler() {
  std::call_once(g_veh_once, [] {
    g_tls = TlsAlloc();
    if (g_tls == TLS_OUT_OF_INDEXES) {
      g_veh_error = fail("TlsAlloc");
      return;
    }
    // First in line: other handlers (V8's) see only what is not ours.
    if (AddVectoredExceptionHandler(1, on_exception) == nullptr) g_veh_error = fail("AddVectoredExceptionHandler");
  });
  if (g_veh_error != 0) g_failed_syscall = "AddVectoredExceptionHandler";
  return g_veh_error;
}

// There is no signal disposition for process.on('SIGBUS') to change.
void watch_bus_handler() {}

int guarded(void (*fn)(void* ctx), void* ctx) {
  int rc = ensure_bus_handler();
  if (rc != 0) return rc;
  void* volatile outer = TlsGetValue(g_tls);  // guarded() may nest
  Jump jump;
  if (__builtin_setjmp(jump.buf) != 0) {
    TlsSetValue(g_tls, outer);
    g_failed_syscall = "mmap access";
    return kBusError;
  }
  TlsSetValue(g_tls, &jump);
  fn(ctx);
  TlsSetValue(g_tls, outer);
  return 0;
}

}  // namespace memmap
