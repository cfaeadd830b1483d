#include "diagnose/await_records.h"

#include <gtest/gtest.h>

#include <vector>

using rsthop::diagnose::await_records;
using std::chrono::milliseconds;

namespace {

// A capture whose ring hands over one more queued RST per read (a record committed late).
struct LateRing {
  std::vector<uint16_t> queued;
  std::set<uint16_t> seen;
  int reads = 0;
  void pump() {
    reads++;
    if (!queued.empty()) {
      seen.insert(queued.front());
      queued.erase(queued.begin());
    }
  }
};

}  // namespace

TEST(AwaitRecords, ReadsAgainUntilEveryResetStepHasItsRst) {
  LateRing ring{{1002, 1003}, {}, 0};
  const std::set<uint16_t> want = {1002, 1003};
  EXPECT_TRUE(await_records(
      want, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(5000),
      milliseconds(0)));
  EXPECT_EQ(ring.reads, 2);  // one read would have fused without 1003's RST
  EXPECT_EQ(ring.seen, want);
}

TEST(AwaitRecords, ReadsOnceWhenNothingIsAwaited) {
  LateRing ring;
  EXPECT_TRUE(await_records(
      {}, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(5000)));
  EXPECT_EQ(ring.reads, 1);
}

TEST(AwaitRecords, GivesUpAfterItsBudget) {
  LateRing ring;  // the RST never comes (lost to a full ring, or filtered)
  EXPECT_FALSE(await_records(
      {1002}, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(20),
      milliseconds(1)));
  EXPECT_GE(ring.reads, 2);
}
