#include "output/run_cache.h"

#include <gtest/gtest.h>

namespace rsthop::output {
namespace {

struct Inputs {
  uint32_t a;
  uint16_t b, c;
};

RunCache::Key key(uint32_t a, uint16_t b = 0, uint16_t c = 0) { return RunCache::key_of(Inputs{a, b, c}); }

TEST(RunCache, FindsWhatWasPutForTheSameInputs) {
  RunCache cache;
  EXPECT_EQ(cache.find(key(1, 2, 3), "eth0"), nullptr);
  cache.put(key(1, 2, 3), "eth0", ",\"n\":1");
  const std::string* run = cache.find(key(1, 2, 3), "eth0");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(*run, ",\"n\":1");
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(RunCache, AnyInputChangedIsAMiss) {
  RunCache cache;
  cache.put(key(1, 2, 3), "eth0", "x");
  EXPECT_EQ(cache.find(key(1, 2, 4), "eth0"), nullptr);  // a key byte
  EXPECT_EQ(cache.find(key(1, 2, 3), "eth1"), nullptr);  // the name (an interface renamed)
  EXPECT_EQ(cache.find(key(1, 2, 3), ""), nullptr);
  EXPECT_NE(cache.find(key(1, 2, 3), "eth0"), nullptr);
}

TEST(RunCache, ASlotTakenByAnotherKeyHoldsOnlyThatKeysRun) {
  // More keys than slots: those that share a slot replace each other, and
  // a find() returns its own inputs' run or nothing.
  RunCache cache;
  for (uint32_t i = 0; i < 4 * RunCache::kSlots; i++) cache.put(key(i), "", std::to_string(i));
  size_t found = 0;
  for (uint32_t i = 0; i < 4 * RunCache::kSlots; i++) {
    if (const std::string* run = cache.find(key(i), "")) {
      ASSERT_EQ(*run, std::to_string(i));
      found++;
    }
  }
  EXPECT_GT(found, 0u);
  EXPECT_LE(found, RunCache::kSlots);  // bounded: one run per slot
}

}  // namespace
}  // namespace rsthop::output
