// The choice between verifying the programs at once or one after the other: the variable
// decides when set, else the tasks running now (not the 1-minute load average) on our CPUs.
#include "cli/parallel_load.h"

#include <gtest/gtest.h>

#include <vector>

namespace rsthop::cli {
namespace {

TEST(ParallelLoad, ReadsTheRunningFieldOfLoadavg) {
  EXPECT_EQ(runnable_tasks("1.64 0.51 0.18 4/92 6587"), 4);
  EXPECT_EQ(runnable_tasks("0.00 0.00 0.00 1/80 12\n"), 1);
  EXPECT_EQ(runnable_tasks("3.00 3.00 3.00 0/80 12"), 0);
}

TEST(ParallelLoad, RefusesAMalformedLine) {
  EXPECT_FALSE(runnable_tasks(nullptr));
  EXPECT_FALSE(runnable_tasks(""));
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0"));
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 x/80 1"));
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 9/8 1"));  // more running than exist
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 -1/8 1"));
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 99999999999/99999999999 1"));  // out of int's range
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 2/ 1"));
  EXPECT_FALSE(runnable_tasks("1.0 1.0 1.0 2x/8 1"));
}

TEST(ParallelLoad, NeedsACoreFreeBesidesOurs) {
  EXPECT_TRUE(second_core_free(2, 1));   // only us: the second core is idle
  EXPECT_FALSE(second_core_free(2, 2));  // one other task runs: it would share a core
  EXPECT_FALSE(second_core_free(1, 1));  // one CPU: never
  EXPECT_TRUE(second_core_free(4, 3));
  EXPECT_FALSE(second_core_free(4, 4));
  EXPECT_TRUE(second_core_free(2, 0));  // a sample taken between our own runs
}

TEST(ParallelLoad, TheVariableDecides) {
  auto on = parallel_load("1");
  ASSERT_TRUE(on);
  EXPECT_TRUE(on.value());
  auto off = parallel_load("0");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off.value());
}

TEST(ParallelLoad, ABadValueIsAnError) {
  for (const char* v : {"yes", "2", "1 ", "true"}) {
    auto r = parallel_load(v);
    ASSERT_FALSE(r) << v;
    EXPECT_NE(r.error().message.find("RSTHOP_PARALLEL_LOAD"), std::string::npos);
  }
}

// Three samples, the least decides: one sample may catch a task passing through.
TEST(ParallelLoad, TheLeastOfThreeSamplesDecides) {
  auto samples = [](std::vector<std::optional<int>> v) {
    return [v, i = size_t{0}]() mutable { return i < v.size() ? v[i++] : std::nullopt; };
  };
  EXPECT_TRUE(decide_parallel(2, samples({3, 1, 4})));   // one look finds only us running
  EXPECT_FALSE(decide_parallel(2, samples({2, 3, 2})));  // another task runs in every look
  EXPECT_TRUE(decide_parallel(2, samples({std::nullopt, 1, std::nullopt})));
  EXPECT_FALSE(decide_parallel(2, samples({std::nullopt, std::nullopt, std::nullopt})));  // unreadable: serial
  EXPECT_FALSE(decide_parallel(1, samples({1, 1, 1})));
  int calls = 0;
  decide_parallel(4, [&]() -> std::optional<int> {
    calls++;
    return 1;
  });
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace rsthop::cli
