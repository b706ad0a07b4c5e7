// Mapping core: plain C++, no Node-API. Every call returns 0 or a negative
// errno; sizes and offsets are 64-bit throughout.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace memmap {

// The modes and advice values, each listed once: the enums, the range checks
// and the names the addon reports to lib/ at load all come from these lists.
// X(enumerator, numpy name) for modes.
#define MEMMAP_MODES(X)                                                              \
  X(kReadOnly, "r")    /* mapped private + writable, so stray writes cannot fault */ \
  X(kReadWrite, "r+")  /* shared */                                                  \
  X(kCreate, "w+")     /* shared, file created or truncated */                       \
  X(kCopyOnWrite, "c") /* private */

// X(enumerator, name, POSIX token: MADV_<token>).
#define MEMMAP_ADVICE(X)                   \
  X(kNormal, "normal", NORMAL)             \
  X(kSequential, "sequential", SEQUENTIAL) \
  X(kRandom, "random", RANDOM)             \
  X(kWillNeed, "willneed", WILLNEED)       \
  X(kDontNeed, "dontneed", DONTNEED)

#define MEMMAP_ENUMERATOR(e, ...) e,
enum class Mode : int { MEMMAP_MODES(MEMMAP_ENUMERATOR) };
enum class Advice : int { MEMMAP_ADVICE(MEMMAP_ENUMERATOR) };
#define MEMMAP_COUNT(...) +1
constexpr int kModeCount = 0 MEMMAP_MODES(MEMMAP_COUNT);
constexpr int kAdviceCount = 0 MEMMAP_ADVICE(MEMMAP_COUNT);
#define MEMMAP_NAME(e, name, ...) name,
constexpr const char* kModeNames[] = {MEMMAP_MODES(MEMMAP_NAME)};
constexpr const char* kAdviceNames[] = {MEMMAP_ADVICE(MEMMAP_NAME)};
#undef MEMMAP_NAME

enum MapFlags : unsigned {
  kMapPopulate = 1u << 0,  // prefault pages at map time (MAP_POPULATE)
};

// Name of the system call behind the last negative return on this thread.
const char* failed_syscall();

// Page size of the machine (cached).
uint64_t page_size();

// Opens `path` for `mode` and reports its size. Refuses anything that is not
// a regular file (-EISDIR for directories, -ENODEV otherwise). kCreate creates
// or truncates the file to 0 bytes.
// Access and modification times (seconds, nanoseconds) of a file.
struct FileTimes {
  int64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
};
// `times_out` (optional) gets the file's times as they were at open.
int open_file(const char* path, Mode mode, int* fd_out, uint64_t* size_out, FileTimes* times_out = nullptr);
// Puts a file back as it was before we grew it: `size` bytes and `times`.
int restore_file(int fd, uint64_t size, const FileTimes& times);
// Grows or shrinks the file to exactly `size` bytes.
int resize_file(int fd, uint64_t size);
int close_file(int fd);
// Reads exactly `length` bytes at file position `pos` of the file at `path`,
// if the path still names the file a region was mapped from (`dev`, `ino`):
// 0; 1 (nothing read) if it does not or cannot be opened; -ERANGE if the file
// ends first (it was truncated); a negative errno if the read fails.
int read_file_at(const char* path, uint64_t dev, uint64_t ino, uint64_t pos, void* dst, uint64_t length);

// One mapped window of a file. `base`/`map_length` are the page-aligned
// region handed to mmap; `data` = base + (offset - aligned offset) is the first
// byte the caller asked for, `length` the bytes the caller asked for.
struct Region {
  void* base = nullptr;
  uint64_t map_length = 0;
  uint8_t* data = nullptr;
  uint64_t length = 0;
  // File position of `data`, and which file (read_file_at checks it).
  uint64_t offset = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  Mode mode = Mode::kReadOnly;
  // Last advice given (an Advice value); read with advice_of(). Scans use it.
  int advice = 0;
  // Whether huge_pages() asked for huge pages since the last advise_region(); read with huge_pages_of().
  mutable int huge = 0;
#ifdef __APPLE__
  // A descriptor of the file for F_FULLFSYNC in flush_region() (shared modes;
  // -1 otherwise): msync alone leaves the writes in the drive's cache.
  int sync_fd = -1;
#endif
};

inline bool huge_pages_of(const Region& region) { return __atomic_load_n(&region.huge, __ATOMIC_RELAXED) != 0; }

// The advice last given for the region (relaxed: any recent value will do).
inline Advice advice_of(const Region& region) {
  return static_cast<Advice>(__atomic_load_n(&region.advice, __ATOMIC_RELAXED));
}

// Maps [offset, offset + length) of the open file. length == 0 maps nothing and
// succeeds (data == nullptr). The fd may be closed afterwards. Refuses
// (-EINVAL) an fd that is not a regular file and (-ERANGE) a range past the
// end of the file: such pages would fault on first touch.
int map_region(int fd, Mode mode, uint64_t offset, uint64_t length, unsigned flags, Region* out);
// Unmaps the region. No view of it may be used afterwards.
int unmap_region(Region* region);
// Replaces the region's file pages by private anonymous zero pages at the same
// addresses, releasing the file while views over the memory stay valid (they
// read zeros; writes land in private memory). The region stays reserved until
// unmap_region().
int release_file(Region* region);
// msync(MS_SYNC) of [start, start + length) relative to region->data.
int flush_region(const Region& region, uint64_t start, uint64_t length);
int advise_region(Region& region, Advice advice);
// Asks the kernel to start reading [from, from + length) of the region in the
// background (MADV_WILLNEED), clipped to the region. Best effort: no errors.
void prefetch(const Region& region, const uint8_t* from, uint64_t length);
// Maps the pages of [from, from + length) of the region into this process
// (reading them first if needed) in one call instead of a fault per page:
// MADV_POPULATE_READ on Linux 5.14+; prefetch() elsewhere. Best effort: no
// errors (a page the file lost stays unmapped, for the guarded loop to meet).
void populate(const Region& region, const uint8_t* from, uint64_t length);
// Asks for huge pages for the whole region (MADV_HUGEPAGE on Linux): a fault
// then reads the file in PMD-sized folios and maps each with one entry. Scans
// ask for it; advise_region() with other advice than sequential turns it off
// again (MADV_NOHUGEPAGE: under 'random' a fault would read a whole 2 MiB
// folio). Whether the kernel took it (false elsewhere, or without THP).
bool huge_pages(const Region& region);

// Fills out[0..n) with bytes from the OS's cryptographic generator, holding no
// descriptor open afterwards (libc++'s std::random_device keeps /dev/urandom
// open for its lifetime): getrandom() on Linux, arc4random_buf() on macOS,
// the C++ runtime's rand_s() on Windows.
void random_bytes(void* out, size_t n);

// prefetch()'s range: [from, from + length) clipped to the mapped region and
// widened down to a page boundary. False if nothing of it is mapped.
inline bool clip_prefetch(const Region& region, const uint8_t* from, uint64_t length, void** addr_out,
                          uint64_t* length_out) {
  if (region.base == nullptr) return false;
  const uint8_t* begin = static_cast<const uint8_t*>(region.base);
  const uint8_t* end = begin + region.map_length;
  if (from < begin) from = begin;
  if (from >= end) return false;
  if (length > static_cast<uint64_t>(end - from)) length = static_cast<uint64_t>(end - from);
  const uintptr_t ps = static_cast<uintptr_t>(page_size());
  const uintptr_t addr = reinterpret_cast<uintptr_t>(from);
  const uintptr_t aligned = addr - (addr % ps);
  *addr_out = reinterpret_cast<void*>(aligned);
  *length_out = length + (addr - aligned);
  return true;
}
// Fills `out` (one byte per page, 1 = resident) for the pages covering
// [data, data + length); `out` must hold residency_pages(region) bytes.
uint64_t residency_pages(const Region& region);
int residency(const Region& region, uint8_t* out);

// Returned by guarded() when the call touched a mapped page the kernel could
// not provide (SIGBUS: the file shrank under the mapping, or an I/O error;
// macOS raises SIGBUS or SIGSEGV for it, Windows EXCEPTION_IN_PAGE_ERROR).
constexpr int kBusError = -EFAULT;

// Runs fn(ctx) so that a SIGBUS (on macOS also a SIGSEGV) raised on this
// thread while it runs returns kBusError instead of killing the process; 0
// otherwise. fn must not own
// resources (no destructors, no locks): a fault abandons it mid-way.
// Outside guarded(), a bus error the kernel raises (a lost page) kills the
// process as with no handler; a SIGBUS sent with kill() goes to whatever
// handler was there before (the application's, e.g. libuv's for a
// process.on('SIGBUS') listener).
int guarded(void (*fn)(void* ctx), void* ctx);
// (Re)installs the SIGBUS handler if another one replaced it (libuv does when
// a process.on('SIGBUS') listener is added, and resets it to SIG_DFL when the
// last is removed), keeping the replacement as the one to chain to. guarded()
// calls it only once; whoever changes the disposition later calls it again
// (lib/binding.ts does on every SIGBUS listener change).
int ensure_bus_handler();
// Tells guarded() that every later change of the SIGBUS disposition by
// process.on('SIGBUS') is undone through ensure_bus_handler() (the main
// thread's JS hook is in place). Until then guarded() checks on every call.
void watch_bus_handler();

// Drops a file's pages from the page cache without root: fdatasync, then
// posix_fadvise(DONTNEED) (macOS: fsync, then msync(MS_INVALIDATE) of a
// shared mapping of the file). Pages still mapped by someone stay resident.
int evict_file(const char* path);

// MAP_POPULATE's equivalent where there is none (macOS, Windows): read one
// byte of every page of [begin, begin + length). Reads do not copy the pages
// of a private mapping. Guarded: a file shrunk meanwhile ends it early, as a
// best effort.
inline void touch_pages(const uint8_t* begin, uint64_t length) {
  struct Touch {
    const uint8_t* begin;
    uint64_t length;
  } t{begin, length};
  guarded(
      [](void* ctx) {
        const Touch& t = *static_cast<const Touch*>(ctx);
        const uint64_t ps = page_size();
        uint8_t sink = 0;
        for (uint64_t i = 0; i < t.length; i += ps) sink ^= *static_cast<const volatile uint8_t*>(t.begin + i);
        (void)sink;
      },
      &t);
}

}  // namespace memmap
