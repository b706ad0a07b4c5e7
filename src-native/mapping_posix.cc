// POSIX implementation of the mapping core (Linux, macOS, BSD). macOS has no
// MAP_POPULATE, fdatasync or posix_fadvise, and may report a lost page as
// SIGSEGV: those differences are the #ifdef __APPLE__ blocks.
#include "mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#if defined(__linux__)
#include <sys/random.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#if defined(__linux__) && !defined(MADV_POPULATE_READ)
// Linux 5.14's value; the prebuilds' glibc 2.28 headers predate it. Older
// kernels refuse it (EINVAL) and get read-ahead instead.
#define MADV_POPULATE_READ 22
#endif

namespace memmap {

namespace {
thread_local const char* g_failed_syscall = "";

int fail(const char* syscall) {
  g_failed_syscall = syscall;
  return -errno;
}

bool is_private(Mode mode) { return mode == Mode::kReadOnly || mode == Mode::kCopyOnWrite; }

void times_of(const struct stat& st, FileTimes* out) {
#ifdef __APPLE__
  out->atime_sec = st.st_atimespec.tv_sec;
  out->atime_nsec = st.st_atimespec.tv_nsec;
  out->mtime_sec = st.st_mtimespec.tv_sec;
  out->mtime_nsec = st.st_mtimespec.tv_nsec;
#else
  out->atime_sec = st.st_atim.tv_sec;
  out->atime_nsec = st.st_atim.tv_nsec;
  out->mtime_sec = st.st_mtim.tv_sec;
  out->mtime_nsec = st.st_mtim.tv_nsec;
#endif
}
}  // namespace

const char* failed_syscall() { return g_failed_syscall; }

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}

int open_file(const char* path, Mode mode, int* fd_out, uint64_t* size_out, FileTimes* times_out) {
  // O_NONBLOCK: opening a FIFO must fail below (not a regular file), not wait
  // for a writer. It changes nothing for regular files.
  int flags = O_CLOEXEC | O_NONBLOCK;
  switch (mode) {
    case Mode::kReadOnly:
    case Mode::kCopyOnWrite:
      flags |= O_RDONLY;
      break;
    case Mode::kReadWrite:
      flags |= O_RDWR;
      break;
    case Mode::kCreate:
      flags |= O_RDWR | O_CREAT;
      break;
    default:
      g_failed_syscall = "open";
      return -EINVAL;
  }
  int fd;
  do {
    fd = ::open(path, flags, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return fail("open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = fail("fstat");
    ::close(fd);
    return err;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    g_failed_syscall = "open";
    return S_ISDIR(st.st_mode) ? -EISDIR : -ENODEV;
  }
  // Truncate only after we know it is a regular file we may write.
  if (mode == Mode::kCreate && st.st_size != 0) {
    if (::ftruncate(fd, 0) != 0) {
      int err = fail("ftruncate");
      ::close(fd);
      return err;
    }
    st.st_size = 0;
  }
  *fd_out = fd;
  *size_out = static_cast<uint64_t>(st.st_size);
  if (times_out != nullptr) times_of(st, times_out);
  return 0;
}

int restore_file(int fd, uint64_t size, const FileTimes& times) {
  int rc = resize_file(fd, size);
  if (rc != 0) return rc;
  struct timespec ts[2];
  ts[0].tv_sec = static_cast<time_t>(times.atime_sec);
  ts[0].tv_nsec = static_cast<long>(times.atime_nsec);
  ts[1].tv_sec = static_cast<time_t>(times.mtime_sec);
  ts[1].tv_nsec = static_cast<long>(times.mtime_nsec);
  return ::futimens(fd, ts) == 0 ? 0 : fail("futimens");
}

int resize_file(int fd, uint64_t size) {
  if (size > static_cast<uint64_t>(INT64_MAX)) {
    g_failed_syscall = "ftruncate";
    return -EFBIG;
  }
  int rc;
  do {
    rc = ::ftruncate(fd, static_cast<off_t>(size));
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : fail("ftruncate");
}

int close_file(int fd) { return ::close(fd) == 0 ? 0 : fail("close"); }

namespace {
// The file at `path` opened for reads if it is still the one mapped (dev, ino), else -1.
int open_for_reads(const char* path, uint64_t dev, uint64_t ino) {
  int fd;
  do {
    fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return -1;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_dev) != dev ||
      static_cast<uint64_t>(st.st_ino) != ino) {
    ::close(fd);
    return -1;  // renamed, replaced or gone: the mapping is the only way to its bytes
  }
  return fd;
}

int read_at(int fd, uint64_t pos, void* dst, uint64_t length) {
  auto* p = static_cast<uint8_t*>(dst);
  while (length > 0) {
    if (pos > static_cast<uint64_t>(INT64_MAX)) return -ERANGE;
    ssize_t n = ::pread(fd, p, static_cast<size_t>(std::min<uint64_t>(length, SSIZE_MAX)), static_cast<off_t>(pos));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("pread");
    }
    if (n == 0) return -ERANGE;
    p += n;
    pos += static_cast<uint64_t>(n);
    length -= static_cast<uint64_t>(n);
  }
  return 0;
}

}  // namespace

int read_file_at(const char* path, uint64_t dev, uint64_t ino, uint64_t pos, void* dst, uint64_t length) {
  const int fd = open_for_reads(path, dev, ino);
  if (fd < 0) return 1;
  const int rc = read_at(fd, pos, dst, length);
  ::close(fd);
  return rc;
}

int map_region(int fd, Mode mode, uint64_t offset, uint64_t length, unsigned flags, Region* out) {
  *out = Region();
  out->mode = mode;
  if (length == 0) return 0;
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail("fstat");
  if (!S_ISREG(st.st_mode)) {
    g_failed_syscall = "mmap";
    return -EINVAL;
  }
  if (offset > static_cast<uint64_t>(st.st_size) || length > static_cast<uint64_t>(st.st_size) - offset) {
    g_failed_syscall = "mmap";
    return -ERANGE;
  }
  const uint64_t ps = page_size();
  const uint64_t aligned = offset - (offset % ps);
  const uint64_t delta = offset - aligned;
  if (length > UINT64_MAX - delta || aligned > static_cast<uint64_t>(INT64_MAX)) {
    g_failed_syscall = "mmap";
    return -EOVERFLOW;
  }
  const uint64_t map_length = length + delta;
  if (map_length > SIZE_MAX) {
    g_failed_syscall = "mmap";
    return -ENOMEM;
  }
  // 'r' is mapped private and writable: a stray write from JavaScript (which
  // cannot make a TypedArray read-only) lands in a private page instead of
  // faulting the process, and never reaches the file.
  int prot = PROT_READ | PROT_WRITE;
  int mflags = is_private(mode) ? (MAP_PRIVATE | MAP_NORESERVE) : MAP_SHARED;
  const bool populate = (flags & kMapPopulate) != 0;
#ifdef MAP_POPULATE
  // MAP_POPULATE write-faults a private writable mapping, copying every page
  // into anonymous memory; private mappings are read-populated below instead.
  if (populate && !is_private(mode)) mflags |= MAP_POPULATE;
#endif
  void* base = ::mmap(nullptr, static_cast<size_t>(map_length), prot, mflags, fd, static_cast<off_t>(aligned));
  if (base == MAP_FAILED) return fail("mmap");
#ifdef __APPLE__
  if (!is_private(mode)) {
    out->sync_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (out->sync_fd < 0) {
      int err = fail("fcntl");
      ::munmap(base, static_cast<size_t>(map_length));
      return err;
    }
  }
  if (populate) {
    ::madvise(base, static_cast<size_t>(map_length), MADV_WILLNEED);
    touch_pages(static_cast<const uint8_t*>(base), map_length);
  }
#else
  if (populate && is_private(mode)) {
    // Best effort, like MAP_POPULATE: MADV_POPULATE_READ (Linux 5.14+) faults
    // the file pages in read-only; older kernels get read-ahead instead.
#ifdef MADV_POPULATE_READ
    if (::madvise(base, static_cast<size_t>(map_length), MADV_POPULATE_READ) != 0)
#endif
      ::madvise(base, static_cast<size_t>(map_length), MADV_WILLNEED);
  }
#endif
  out->base = base;
  out->map_length = map_length;
  out->data = static_cast<uint8_t*>(base) + delta;
  out->length = length;
  out->offset = offset;
  out->dev = static_cast<uint64_t>(st.st_dev);
  out->ino = static_cast<uint64_t>(st.st_ino);
  return 0;
}

#ifdef __APPLE__
namespace {
void close_sync_fd(Region* region) {
  if (region->sync_fd >= 0) ::close(region->sync_fd);
  region->sync_fd = -1;
}
}  // namespace
#endif

int unmap_region(Region* region) {
#ifdef __APPLE__
  close_sync_fd(region);
#endif
  if (region->base == nullptr) return 0;
  int rc = ::munmap(region->base, static_cast<size_t>(region->map_length));
  region->base = nullptr;
  region->data = nullptr;
  region->map_length = 0;
  region->length = 0;
  return rc == 0 ? 0 : fail("munmap");
}

int release_file(Region* region) {
#ifdef __APPLE__
  close_sync_fd(region);
#endif
  if (region->base == nullptr) return 0;
  void* p = ::mmap(region->base, static_cast<size_t>(region->map_length), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? fail("mmap") : 0;
}

int flush_region(const Region& region, uint64_t start, uint64_t length) {
  if (region.base == nullptr || length == 0 || is_private(region.mode)) return 0;
  if (start > region.length || length > region.length - start) {
    g_failed_syscall = "msync";
    return -EINVAL;
  }
  const uint64_t ps = page_size();
  uint8_t* from = region.data + start;
  uintptr_t addr = reinterpret_cast<uintptr_t>(from);
  uintptr_t aligned = addr - (addr % ps);
  size_t len = static_cast<size_t>(length + (addr - aligned));
  if (::msync(reinterpret_cast<void*>(aligned), len, MS_SYNC) != 0) return fail("msync");
#ifdef __APPLE__
  // msync and fsync leave the writes in the drive's cache on macOS;
  // F_FULLFSYNC flushes it. Filesystems without it (some network ones) get fsync.
  if (region.sync_fd >= 0 && ::fcntl(region.sync_fd, F_FULLFSYNC) != 0 && ::fsync(region.sync_fd) != 0)
    return fail("fsync");
#endif
  return 0;
}

int advise_region(Region& region, Advice advice) {
  if (region.base == nullptr) return 0;
#define MEMMAP_MADVISE(e, name, token) MADV_##token,
  static constexpr int kMadvise[] = {MEMMAP_ADVICE(MEMMAP_MADVISE)};
#undef MEMMAP_MADVISE
  const int index = static_cast<int>(advice);
  if (index < 0 || index >= kAdviceCount) {
    g_failed_syscall = "madvise";
    return -EINVAL;
  }
  const int a = kMadvise[index];
  if (::madvise(region.base, static_cast<size_t>(region.map_length), a) != 0) return fail("madvise");
#if defined(MADV_NOHUGEPAGE)
  if (advice != Advice::kSequential && __atomic_exchange_n(&region.huge, 0, __ATOMIC_RELAXED) != 0)
    ::madvise(region.base, static_cast<size_t>(region.map_length), MADV_NOHUGEPAGE);
#endif
  __atomic_store_n(&region.advice, static_cast<int>(advice), __ATOMIC_RELAXED);
  return 0;
}

void prefetch(const Region& region, const uint8_t* from, uint64_t length) {
  void* addr;
  uint64_t len;
  if (clip_prefetch(region, from, length, &addr, &len)) ::madvise(addr, static_cast<size_t>(len), MADV_WILLNEED);
}

void populate(const Region& region, const uint8_t* from, uint64_t length) {
#if defined(__linux__)
  void* addr;
  uint64_t len;
  if (clip_prefetch(region, from, length, &addr, &len) &&
      ::madvise(addr, static_cast<size_t>(len), MADV_POPULATE_READ) == 0)
    return;
#endif
  prefetch(region, from, length);
}

bool huge_pages(const Region& region) {
#if defined(MADV_HUGEPAGE)
  if (region.base == nullptr || ::madvise(region.base, static_cast<size_t>(region.map_length), MADV_HUGEPAGE) != 0)
    return false;
  __atomic_store_n(&region.huge, 1, __ATOMIC_RELAXED);
  return true;
#else
  (void)region;
  return false;
#endif
}

void random_bytes(void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
#if defined(__APPLE__)
  arc4random_buf(p, n);
#else
  while (n > 0) {
    const ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      abort();  // no kernel entropy (Linux < 3.17): a token must never be guessable
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
#endif
}

uint64_t residency_pages(const Region& region) {
  const uint64_t ps = page_size();
  return (region.map_length + ps - 1) / ps;
}

int residency(const Region& region, uint8_t* out) {
  if (region.base == nullptr) return 0;
#ifdef __APPLE__
  // macOS: a char vector of per-page bits (referenced, modified, ...); only
  // MINCORE_INCORE says the page is in memory.
  char* vec = reinterpret_cast<char*>(out);
  constexpr uint8_t kIncore = MINCORE_INCORE;
#else
  unsigned char* vec = out;
  constexpr uint8_t kIncore = 1;
#endif
  if (::mincore(region.base, static_cast<size_t>(region.map_length), vec) != 0) return fail("mincore");
  const uint64_t pages = residency_pages(region);
  for (uint64_t i = 0; i < pages; i++) out[i] = (out[i] & kIncore) != 0 ? 1 : 0;
  return 0;
}

int evict_file(const char* path) {
  int fd;
  uint64_t size;
  int rc = open_file(path, Mode::kReadOnly, &fd, &size);
  if (rc != 0) return rc;
#ifdef __APPLE__
  // No fdatasync and no posix_fadvise: write the dirty pages back, then
  // invalidate a shared mapping of the whole file, which drops its cached pages.
  if (::fsync(fd) != 0) {
    rc = fail("fsync");
  } else if (size > 0 && size <= SIZE_MAX) {
    void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      rc = fail("mmap");
    } else {
      if (::msync(p, static_cast<size_t>(size), MS_INVALIDATE) != 0) rc = fail("msync");
      ::munmap(p, static_cast<size_t>(size));
    }
  }
  if (rc == 0) {
#else
  if (::fdatasync(fd) != 0) {
    rc = fail("fdatasync");
  } else {
#endif
#if defined(POSIX_FADV_DONTNEED)
    int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (err != 0) {
      g_failed_syscall = "posix_fadvise";
      rc = -err;
    }
#endif
  }
  ::close(fd);
  return rc;
}

namespace {
// initial-exec: reading it in the signal handler must not allocate.
#if defined(__GNUC__)
__attribute__((tls_model("initial-exec")))
#endif
thread_local sigjmp_buf* t_bus_jump = nullptr;

// The signals a lost page arrives as: SIGBUS, and on macOS also SIGSEGV
// (which one depends on the access and the release).
#ifdef __APPLE__
constexpr int kFaultSignals[] = {SIGBUS, SIGSEGV};
#else
constexpr int kFaultSignals[] = {SIGBUS};
#endif
constexpr int kFaultSignalCount = sizeof kFaultSignals / sizeof kFaultSignals[0];
int index_of(int sig) { return sig == SIGBUS ? 0 : 1; }

// Per signal, the handler we replaced (or that replaced us), for signals sent
// with kill(). Two slots so the handler never reads one being written:
// writers (under g_bus_mutex) fill the idle slot, then publish its index.
struct sigaction g_prev_bus[kFaultSignalCount][2];
std::atomic<int> g_prev_slot[kFaultSignalCount];
std::mutex g_bus_mutex;
std::atomic<bool> g_bus_installed{false};
std::atomic<bool> g_bus_watched{false};

// Every copy of memmap in the process (nested node_modules load several)
// installs its handler with this signature in sa_mask, so each recognises
// the others and hands them faults it did not cause: the guarded call may be
// theirs. Blocking these two rarely-used signals while the handler runs is
// harmless.
void add_signature(sigset_t* set) {
  sigaddset(set, SIGURG);
  sigaddset(set, SIGWINCH);
}

bool has_signature(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction != nullptr && sigismember(&sa.sa_mask, SIGURG) == 1 &&
         sigismember(&sa.sa_mask, SIGWINCH) == 1;
}

void on_sigbus(int sig, siginfo_t* info, void* uctx) {
  // si_code > 0: the kernel raised it for this thread's memory access.
  const bool fault = info != nullptr && info->si_code > 0;
  sigjmp_buf* jump = t_bus_jump;
  if (fault && jump != nullptr) siglongjmp(*jump, 1);
  const int s = index_of(sig);
  const struct sigaction& prev = g_prev_bus[s][g_prev_slot[s].load(std::memory_order_acquire)];
  if (fault) {
    // Not our guarded call: maybe another memmap copy's.
    if (has_signature(prev)) {
      prev.sa_sigaction(sig, info, uctx);
      return;
    }
#ifdef __APPLE__
    // Node's handler (V8's WebAssembly trap handler: SIGBUS and SIGSEGV on
    // macOS) handles its own faults and crashes on the others.
    if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, uctx);
      return;
    }
#endif
  }
  if (!fault) {
    // Sent with kill()/raise(): the application's handler (a JS listener
    // through libuv) gets it.
    if ((prev.sa_flags & SA_SIGINFO) != 0 && prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, uctx);
      return;
    }
    if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler == SIG_IGN) return;
    if ((prev.sa_flags & SA_SIGINFO) == 0 && prev.sa_handler != SIG_DFL) {
      prev.sa_handler(sig);
      return;
    }
  }
  // A lost page outside guarded() (or a default-disposition kill): die of
  // the signal as with no handler. A handler that returns (libuv's) would
  // make the faulting access repeat forever.
  ::signal(sig, SIG_DFL);
  if (!fault) ::raise(sig);
}

bool is_ours(const struct sigaction& sa) { return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == on_sigbus; }
}  // namespace

namespace {
int ensure_handler(int sig) {
  struct sigaction cur;
  if (::sigaction(sig, nullptr, &cur) != 0) return fail("sigaction");
  if (is_ours(cur)) return 0;
  std::lock_guard<std::mutex> lock(g_bus_mutex);
  if (::sigaction(sig, nullptr, &cur) != 0) return fail("sigaction");
  if (is_ours(cur)) return 0;
  const int s = index_of(sig);
  const int idle = 1 - g_prev_slot[s].load(std::memory_order_relaxed);
  g_prev_bus[s][idle] = cur;
  g_prev_slot[s].store(idle, std::memory_order_release);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sigemptyset(&sa.sa_mask);
  add_signature(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  if (::sigaction(sig, &sa, nullptr) != 0) return fail("sigaction");
  return 0;
}
}  // namespace

int ensure_bus_handler() {
  for (int sig : kFaultSignals) {
    int rc = ensure_handler(sig);
    if (rc != 0) return rc;
  }
  g_bus_installed.store(true, std::memory_order_release);
  return 0;
}

void watch_bus_handler() { g_bus_watched.store(true, std::memory_order_release); }

int guarded(void (*fn)(void* ctx), void* ctx) {
  // Once the main thread's JS hook undoes process.on('SIGBUS') changes, the
  // handler is installed once here; before that (memmap loaded only in
  // workers) it is checked on every call: a sigaction() read, a system call.
  if (!g_bus_watched.load(std::memory_order_acquire) || !g_bus_installed.load(std::memory_order_acquire)) {
    int rc = ensure_bus_handler();
    if (rc != 0) return rc;
  }
  sigjmp_buf jump;
  sigjmp_buf* volatile outer = t_bus_jump;  // guarded() may nest
  // No signal mask saved (that is a system call per call): only the fault
  // path needs it, and there SIGBUS, blocked while the handler ran, is
  // unblocked by hand.
  if (sigsetjmp(jump, 0) != 0) {
    t_bus_jump = outer;
    sigset_t bus;
    sigemptyset(&bus);
    for (int sig : kFaultSignals) sigaddset(&bus, sig);
    pthread_sigmask(SIG_UNBLOCK, &bus, nullptr);
    g_failed_syscall = "mmap access";
    return kBusError;
  }
  t_bus_jump = &jump;
  fn(ctx);
  t_bus_jump = outer;
  return 0;
}

}  // namespace memmap
