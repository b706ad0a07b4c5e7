// Shared regions and the share() registry (see regions.h).
#include "regions.h"

#include <unordered_map>

namespace memmap {

std::mutex g_region_mutex;

namespace {

std::unordered_map<std::string, SharedRegion*> g_registry;  // guarded by g_region_mutex

// 128 random bits, hex.
std::string random_id() {
  uint8_t bytes[16];
  random_bytes(bytes, sizeof bytes);
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (uint8_t b : bytes) {
    id.push_back(hex[b >> 4]);
    id.push_back(hex[b & 15]);
  }
  return id;
}

}  // namespace

void drop_address_ref_locked(SharedRegion* shared) {
  if (--shared->address_refs > 0) return;
  unmap_region(&shared->region);
  delete shared;
}

void expose(SharedRegion* shared) {
  std::lock_guard<std::mutex> lock(g_region_mutex);
  std::string().swap(shared->read_path);
}

void drop_holder(SharedRegion* shared) {
  std::lock_guard<std::mutex> lock(g_region_mutex);
  if (--shared->holders > 0) return;
  if (!shared->id.empty()) g_registry.erase(shared->id);
  // Buffers still alive: release the file, keep the addresses readable.
  if (shared->address_refs > 1) release_file(&shared->region);
  drop_address_ref_locked(shared);
}

void add_holder(SharedRegion* shared) {
  std::lock_guard<std::mutex> lock(g_region_mutex);
  shared->holders++;
}

SharedRegion* adopt_shared(const std::string& id) {
  std::lock_guard<std::mutex> lock(g_region_mutex);
  auto it = g_registry.find(id);
  if (it == g_registry.end()) return nullptr;
  it->second->holders++;
  return it->second;
}

const std::string& share_id(SharedRegion* shared, const std::string& meta) {
  expose(shared);
  std::lock_guard<std::mutex> lock(g_region_mutex);
  if (shared->id.empty()) {
    std::string id;
    do id = random_id();
    while (g_registry.count(id) != 0);
    shared->id = id;
    shared->meta = meta;
    g_registry.emplace(shared->id, shared);
  }
  return shared->id;
}

void release_handle(HandleState* state) {
  SharedRegion* drop = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_region_mutex);
    if (--state->refs > 0) return;
    drop = state->shared;
    state->shared = nullptr;
  }
  if (drop != nullptr) drop_holder(drop);
  delete state;
}

}  // namespace memmap
