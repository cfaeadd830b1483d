// HugePageArena: regions carved bump-wise, large requests mapped apart, the
// huge-page advice applied, and a std::pmr pool on top of it.
#include "common/huge_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory_resource>
#include <sstream>
#include <string>
#include <vector>

namespace rsthop {
namespace {

constexpr size_t kRegion = HugePageArena::kRegion;

// The VmFlags of the mapping that holds `p` (/proc/self/smaps), "" when none does.
std::string vm_flags_of(const void* p) {
  std::ifstream in("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = at >= lo && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(HugePageArena, SmallBlocksShareOneAlignedRegion) {
  HugePageArena arena;
  std::vector<char*> blocks;
  blocks.reserve(1000);
  for (int i = 0; i < 1000; i++) {
    auto* p = static_cast<char*>(arena.allocate(1536, 16));
    ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    std::memset(p, i & 0xff, 1536);  // writable, and no block overlaps another (checked below)
    blocks.push_back(p);
  }
  EXPECT_EQ(arena.mapped_bytes(), kRegion);  // 1.5 MB in one 2 MiB region
  EXPECT_EQ(reinterpret_cast<uintptr_t>(blocks[0]) % kRegion, 0u);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(static_cast<unsigned char>(blocks[i][1535]), i & 0xff) << i;
  // The next block past the region's end starts a second region.
  for (int i = 0; i < 400; i++) ASSERT_NE(arena.allocate(1536, 16), nullptr);
  EXPECT_EQ(arena.mapped_bytes(), 2 * kRegion);
}

TEST(HugePageArena, AlignmentIsKeptInsideARegion) {
  HugePageArena arena;
  ASSERT_NE(arena.allocate(24, 8), nullptr);
  void* p = arena.allocate(64, 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  void* q = arena.allocate(4096, 4096);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % 4096, 0u);
  EXPECT_EQ(arena.mapped_bytes(), kRegion);
}

TEST(HugePageArena, ASmallBlockFreedIsNotHandedOutAgain) {
  // The contract a pool's pass-through blocks rely on being bounded by growth only.
  HugePageArena arena;
  void* a = arena.allocate(64 * 1024, 8);
  arena.deallocate(a, 64 * 1024, 8);
  void* b = arena.allocate(64 * 1024, 8);
  EXPECT_NE(a, b);
  EXPECT_EQ(static_cast<char*>(b) - static_cast<char*>(a), 64 * 1024);
  EXPECT_EQ(arena.mapped_bytes(), kRegion);
}

TEST(HugePageArena, ARegionOrMoreIsMappedApartAndUnmappedOnDeallocate) {
  HugePageArena arena;
  ASSERT_NE(arena.allocate(100, 8), nullptr);
  void* big = arena.allocate(kRegion + 1, 8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % kRegion, 0u);
  EXPECT_EQ(arena.mapped_bytes(), 3 * kRegion);  // a region, and two for the big block
  static_cast<char*>(big)[kRegion] = 1;
  arena.deallocate(big, kRegion + 1, 8);
  EXPECT_EQ(arena.mapped_bytes(), kRegion);
  EXPECT_EQ(vm_flags_of(big), "");  // gone
}

TEST(HugePageArena, RegionsAreAdvisedForHugePages) {
  // MADV_HUGEPAGE shows as "hg" in the mapping's VmFlags wherever the kernel
  // has transparent huge pages (whatever its enabled mode).
  if (!std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) GTEST_SKIP() << "kernel without THP";
  HugePageArena arena;
  void* p = arena.allocate(64, 8);
  EXPECT_NE(vm_flags_of(p).find(" hg"), std::string::npos) << vm_flags_of(p);
}

TEST(HugePageArena, UpstreamOfAPoolServesAndReusesBlocks) {
  HugePageArena arena;
  {
    std::pmr::unsynchronized_pool_resource pool(&arena);
    std::vector<void*> v;
    v.reserve(5000);
    for (int i = 0; i < 5000; i++) v.push_back(pool.allocate(1376, 8));
    const size_t grown = arena.mapped_bytes();
    EXPECT_GE(grown, 5000u * 1376);
    for (void* p : v) pool.deallocate(p, 1376, 8);
    v.clear();
    for (int i = 0; i < 5000; i++) v.push_back(pool.allocate(1376, 8));
    EXPECT_EQ(arena.mapped_bytes(), grown);  // the pool's freed blocks, not more regions
    for (void* p : v) pool.deallocate(p, 1376, 8);
  }
  // The pool released its chunks; the arena keeps its regions until it goes.
  EXPECT_GT(arena.mapped_bytes(), 0u);
}

}  // namespace
}  // namespace rsthop
