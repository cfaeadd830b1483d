#include "common/huge_arena.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace rsthop {

namespace {

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// p moved up to the next multiple of `align` (a power of two), as pointer arithmetic.
char* align_up(char* p, size_t align) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  return p + (round_up(at, align) - at);
}

// `len` bytes (a multiple of kRegion) at a kRegion-aligned address, marked
// for huge pages: a larger mapping, its unaligned head and tail unmapped.
char* map_aligned(size_t len) {
  constexpr size_t kAlign = HugePageArena::kRegion;
  void* raw = mmap(nullptr, len + kAlign, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(raw);
  char* aligned = align_up(base, kAlign);
  if (size_t head = static_cast<size_t>(aligned - base)) munmap(base, head);
  if (size_t tail = kAlign - static_cast<size_t>(aligned - base)) munmap(aligned + len, tail);
  // Advice only: without transparent huge pages the region is 4 KiB pages.
  madvise(aligned, len, MADV_HUGEPAGE);
  return aligned;
}

}  // namespace

HugePageArena::~HugePageArena() {
  for (char* r : regions_) munmap(r, kRegion);
}

void* HugePageArena::do_allocate(size_t bytes, size_t align) {
  if (bytes >= kRegion || align > kRegion) {
    const size_t len = round_up(bytes, kRegion);
    char* p = map_aligned(len);
    mapped_ += len;
    return p;
  }
  char* p = cur_ ? align_up(cur_, align) : nullptr;
  if (!p || p + bytes > end_) {
    regions_.reserve(regions_.size() + 1);  // before the mapping: a throw here leaks nothing
    p = map_aligned(kRegion);
    regions_.push_back(p);
    mapped_ += kRegion;
    end_ = p + kRegion;
  }
  cur_ = p + bytes;
  return p;
}

void HugePageArena::do_deallocate(void* p, size_t bytes, size_t align) {
  if (bytes >= kRegion || align > kRegion) {
    const size_t len = round_up(bytes, kRegion);
    munmap(p, len);
    mapped_ -= len;
  }
  // Smaller blocks stay in their region until the arena goes.
}

}  // namespace rsthop
