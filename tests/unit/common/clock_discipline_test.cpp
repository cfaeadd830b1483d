#include "common/clock_discipline.h"

#include <gtest/gtest.h>

namespace rsthop {
namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;
constexpr uint64_t kT0 = 1000 * kSec;

TEST(ClockDiscipline, SmallDifferencesAreSlewedAt500Ppm) {
  ClockDiscipline d(WallClock::fixed(0), kT0);
  d.observe(WallClock::fixed(10'000'000), kT0);  // 10 ms ahead: slewed
  EXPECT_EQ(d.at(kT0).offset_ns(), 0);
  EXPECT_EQ(d.at(kT0 + kSec).offset_ns(), 500'000);  // 0.5 ms per second
  EXPECT_EQ(d.at(kT0 + 10 * kSec).offset_ns(), 5'000'000);
  EXPECT_EQ(d.at(kT0 + 20 * kSec).offset_ns(), 10'000'000);
  EXPECT_EQ(d.at(kT0 + 100 * kSec).offset_ns(), 10'000'000);  // no overshoot
}

TEST(ClockDiscipline, TimestampsStayInOrderWhileSlewingBack) {
  ClockDiscipline d(WallClock::fixed(50'000'000), kT0);
  d.observe(WallClock::fixed(0), kT0);
  int64_t last = d.at(kT0).to_unix_ns(kT0);
  for (uint64_t t = kT0; t < kT0 + 200 * kSec; t += kSec / 1000) {
    int64_t now = d.at(t).to_unix_ns(t);
    ASSERT_GE(now, last) << t;
    last = now;
  }
  EXPECT_EQ(d.at(kT0 + 200 * kSec).offset_ns(), 0);
}

TEST(ClockDiscipline, ANewMeasurementSlewsFromTheOffsetInUse) {
  ClockDiscipline d(WallClock::fixed(0), kT0);
  d.observe(WallClock::fixed(10'000'000), kT0);
  d.observe(WallClock::fixed(10'000'000), kT0 + 10 * kSec);  // halfway there
  EXPECT_EQ(d.at(kT0 + 10 * kSec).offset_ns(), 5'000'000);
  EXPECT_EQ(d.at(kT0 + 20 * kSec).offset_ns(), 10'000'000);
  d.observe(WallClock::fixed(9'000'000), kT0 + 30 * kSec);  // NTP slewed back a little
  EXPECT_EQ(d.at(kT0 + 31 * kSec).offset_ns(), 9'500'000);
  EXPECT_EQ(d.at(kT0 + 40 * kSec).offset_ns(), 9'000'000);
}

TEST(ClockDiscipline, LargeDifferencesAreSteppedAtOnce) {
  ClockDiscipline d(WallClock::fixed(0), kT0);
  d.observe(WallClock::fixed(3600 * static_cast<int64_t>(kSec)), kT0 + kSec);  // the wall clock jumped an hour
  EXPECT_EQ(d.at(kT0 + kSec).offset_ns(), 3600 * static_cast<int64_t>(kSec));
  d.observe(WallClock::fixed(3600 * static_cast<int64_t>(kSec) - 200'000'000), kT0 + 2 * kSec);
  EXPECT_EQ(d.at(kT0 + 2 * kSec).offset_ns(), 3600 * static_cast<int64_t>(kSec) - 200'000'000);
}

TEST(ClockDiscipline, AMeasuredClockIsCloseToTheCalibratedOne) {
  uint64_t now = monotonic_now_ns();
  ClockDiscipline d(WallClock::calibrate(), now);
  d.observe(WallClock::calibrate(), monotonic_now_ns());
  EXPECT_LT(std::abs(d.at(monotonic_now_ns()).offset_ns() - WallClock::calibrate().offset_ns()), 100'000'000);
}

}  // namespace
}  // namespace rsthop
