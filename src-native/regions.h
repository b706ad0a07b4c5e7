// Mapped regions shared between threads and handles: reference counts and the
// process-wide registry behind share()/fromShared(). Plain C++, no Node-API;
// binding.cc adds the JavaScript handles and buffers on top.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "mapping.h"

namespace memmap {

// One mmap() shared by every handle over it, in any thread.
//
// Two counts keep it safe from anything JavaScript does:
// - `holders` keep the FILE mapped: each open handle (one per thread that
//   opened or adopted the region), each native call in flight (a pin), and
//   each handle that was never closed but still has ArrayBuffers alive.
// - `address_refs` keep the ADDRESS RANGE reserved: the file side (1 while
//   holders > 0) plus one per live ArrayBuffer backing store. A buffer can
//   outlive every handle (ArrayBuffer.prototype.transfer() moves it out of
//   close()'s reach), so when the last holder goes the file pages are replaced
//   by anonymous zero pages at the same address, and the range is unmapped only
//   when the last backing store is freed.
struct SharedRegion {
  Region region;
  int64_t holders = 1;       // guarded by g_region_mutex
  int64_t address_refs = 1;  // guarded by g_region_mutex
  std::string id;            // registry id once shared, empty before
  std::string meta;          // what share() was told the region is (JSON, set once)
  // The file's path for small reads (read_file_at) while no JavaScript memory
  // over the region and no other thread exists: then the file's bytes are the
  // mapping's (private pages are written only through buffers). Empty once
  // exposed. Guarded by g_region_mutex.
  std::string read_path;
};

// The region is about to be reachable from memory other than the mapping
// itself (a buffer, another thread): no more reads of the file for it.
void expose(SharedRegion* shared);

// Guards the counts above, the registry, HandleState::refs and the glue's
// per-buffer flags.
extern std::mutex g_region_mutex;

// Call with g_region_mutex held. Unmaps and frees the region with the last reference.
void drop_address_ref_locked(SharedRegion* shared);
// Releases a holder; the last one releases the file (release_file() while
// buffers are alive) and the file side's address reference.
void drop_holder(SharedRegion* shared);
void add_holder(SharedRegion* shared);
// Adds a holder to a shared region by id; nullptr if it is gone (or never was).
SharedRegion* adopt_shared(const std::string& id);
// The region's registry id (128 random bits, hex), registering it on first
// call with `meta`: a token names one mapping of this process and cannot be
// guessed or carried over from another process.
const std::string& share_id(SharedRegion* shared, const std::string& meta);

// What one handle holds. Owned by the JS object and by every backing store it
// handed out, so a buffer that outlives its (uncollected, unclosed) handle
// keeps the file mapped; close() releases the file at once.
struct HandleState {
  SharedRegion* shared = nullptr;  // nullptr once closed
  int64_t refs = 1;                // guarded by g_region_mutex
};

// Drops one reference to the handle state; the last drops its holder and frees it.
void release_handle(HandleState* state);

}  // namespace memmap
