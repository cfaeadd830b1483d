// A memory resource for a pool's chunks that asks for transparent huge pages.
//
// The timeline's records (~1.4 KB each, tens of thousands at once) are read
// in hash order, so with 4 KiB pages nearly every record costs a TLB miss,
// and growing the table costs a page fault per 4 KiB.  HugePageArena hands
// out memory from 2 MiB-aligned regions the kernel is asked to back with huge
// pages (madvise MADV_HUGEPAGE; a no-op when transparent huge pages are
// "never", the 4 KiB pages then as before).
//
// Contract:
//  * a request below kRegion is carved from the current region (bump
//    allocation; the rest of a region too small for it is left unused), and
//    its deallocation is a no-op: the memory returns when the arena is
//    destroyed, never to a later request.  Meant as the upstream of a
//    std::pmr pool resource, which asks for chunks as it grows and returns
//    them only when it is released.  What such a pool passes through (a
//    block above its largest pool size, 4 KiB in libstdc++: a hash table's
//    bucket array) is not reused either once freed: bounded for a table that
//    only grows (the arrays a rehash replaced sum to less than the last one;
//    std::unordered_map never shrinks its buckets), not for a pool user that
//    frees and asks again for large blocks;
//  * a request of kRegion or more gets a mapping of its own, unmapped by its
//    deallocation;
//  * a failed mapping throws std::bad_alloc, as memory_resource requires;
//  * not thread-safe, like std::pmr::unsynchronized_pool_resource.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <vector>

namespace rsthop {

class HugePageArena final : public std::pmr::memory_resource {
 public:
  static constexpr size_t kRegion = size_t{2} << 20;  // one x86-64 / arm64 (4 KiB granule) huge page

  HugePageArena() = default;
  ~HugePageArena() override;
  HugePageArena(const HugePageArena&) = delete;
  HugePageArena& operator=(const HugePageArena&) = delete;

  // Bytes mapped (regions and own mappings), for tests and accounting.
  size_t mapped_bytes() const { return mapped_; }

 private:
  void* do_allocate(size_t bytes, size_t align) override;
  void do_deallocate(void* p, size_t bytes, size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::vector<char*> regions_;  // bump regions, kRegion each
  char* cur_ = nullptr;
  char* end_ = nullptr;
  size_t mapped_ = 0;
};

}  // namespace rsthop
