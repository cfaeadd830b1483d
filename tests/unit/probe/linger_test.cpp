// probe::linger_deadline: when a trigger step whose ICMP time-exceeded the capture showed ends.
#include <gtest/gtest.h>

#include <chrono>

#include "probe/probe.h"

namespace rsthop::probe {
namespace {

using std::chrono::milliseconds;
using Tp = std::chrono::steady_clock::time_point;

const Tp kIcmp = Tp(std::chrono::seconds(100));

TEST(Linger, EndsTheStepSoonAfterTheIcmp) {
  const Tp deadline = kIcmp + milliseconds(600);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(1), 50, deadline), kIcmp + milliseconds(50));
}

TEST(Linger, ALongRoundTripLingersTwiceIt) {
  // A device beside hop k answers about when hop k does; on a slow path give it two round trips.
  const Tp deadline = kIcmp + milliseconds(600);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(120), 50, deadline), kIcmp + milliseconds(240));
}

TEST(Linger, NeverPastTheStepTimeout) {
  const Tp deadline = kIcmp + milliseconds(20);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(1), 50, deadline), deadline);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(400), 50, deadline), deadline);
}

TEST(Linger, NoLingerEndsAtTheIcmp) {
  const Tp deadline = kIcmp + milliseconds(600);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(0), 0, deadline), kIcmp);
  EXPECT_EQ(linger_deadline(kIcmp, milliseconds(0), -5, deadline), kIcmp);
}

}  // namespace
}  // namespace rsthop::probe
