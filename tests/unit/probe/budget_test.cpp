// probe::Budget: the hard limits every probe and ladder step of a diagnose run draw from.
#include "probe/budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace rsthop::probe {
namespace {

TEST(Budget, RefusesOnceSpentAndSaysSo) {
  Budget b(3, 1000);
  EXPECT_FALSE(b.refused());
  for (int i = 0; i < 3; i++) EXPECT_TRUE(b.take()) << i;
  EXPECT_EQ(b.left(), 0);
  EXPECT_FALSE(b.refused());
  EXPECT_FALSE(b.take());
  EXPECT_TRUE(b.refused());
}

TEST(Budget, ConcurrentTakersNeverOverspend) {
  Budget b(50, 1e6);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&] {
      for (int i = 0; i < 40; i++)
        if (b.take()) granted++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 50);
}

TEST(Budget, SpacesTakesByTheRateAcrossThreads) {
  Budget b(100, 20);  // 50 ms apart
  const auto t0 = std::chrono::steady_clock::now();
  std::thread other([&] { b.take(), b.take(); });
  b.take();
  b.take();
  other.join();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(145)) << "four takes at 20/s span at least three gaps";
}

TEST(Budget, StopsWhenAsked) {
  bool stop = false;
  Budget b(10, 1000, [&] { return stop; });
  EXPECT_TRUE(b.take());
  stop = true;
  EXPECT_FALSE(b.take());
  EXPECT_FALSE(b.refused()) << "a stop is not the budget being spent";
  EXPECT_EQ(b.left(), 9);
}

}  // namespace
}  // namespace rsthop::probe
