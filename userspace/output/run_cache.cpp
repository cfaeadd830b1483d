#include "output/run_cache.h"

namespace rsthop::output {

// A multiply-xor over the key's words: a handful of instructions, and the
// tuple's bytes (ports, address tails) spread over the slots.
static_assert(RunCache::kSlots <= 256 && (RunCache::kSlots & (RunCache::kSlots - 1)) == 0,
              "slot_of indexes by the hash's top byte");

size_t RunCache::slot_of(const Key& key) {
  uint64_t h = 0;
  for (size_t i = 0; i < kKeyBytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, key.bytes.data() + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
  }
  return static_cast<size_t>(h >> 56) % kSlots;
}

}  // namespace rsthop::output
