#include "common/clock.h"

#include <gtest/gtest.h>

#include <limits>
#include <regex>

namespace rsthop {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(Rfc3339, FormatsUtcWithSixFractionalDigits) {
  // 1795660418 = 2026-11-26T02:33:38Z (python3 calendar.timegm).
  EXPECT_EQ(rfc3339_us(1795660418 * kSec + 123'456'789), "2026-11-26T02:33:38.123456Z");
  EXPECT_EQ(rfc3339_us(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339_us(951868799 * kSec), "2000-02-29T23:59:59.000000Z");
  EXPECT_EQ(rfc3339_us(1000), "1970-01-01T00:00:00.000001Z");
}

TEST(Rfc3339, TruncatesSubMicrosecond) {
  EXPECT_EQ(rfc3339_us(999), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(rfc3339_us(kSec - 1), "1970-01-01T00:00:00.999999Z");
}

TEST(Rfc3339, PreEpochFloorsInsteadOfNegativeFraction) {
  EXPECT_EQ(rfc3339_us(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(rfc3339_us(-kSec), "1969-12-31T23:59:59.000000Z");
}

TEST(Rfc3339, ExtremesDoNotCrash) {
  const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(rfc3339_us(std::numeric_limits<int64_t>::max()), shape));
  EXPECT_TRUE(std::regex_match(rfc3339_us(std::numeric_limits<int64_t>::min()), shape));
}

TEST(Rfc3339, CachedSecondsNeverLeakIntoOthers) {
  // Alternating seconds, days and the fallback: every call must read its own
  // second, whatever the per-thread cache held before.
  const int64_t times[] = {1795660418 * kSec + 5,
                           1795660417 * kSec,
                           1795660418 * kSec + 999'999'999,
                           0,
                           -1,
                           1795660418 * kSec + 86'400 * kSec,
                           std::numeric_limits<int64_t>::max(),
                           1795660418 * kSec};
  const char* expected[] = {"2026-11-26T02:33:38.000000Z",
                            "2026-11-26T02:33:37.000000Z",
                            "2026-11-26T02:33:38.999999Z",
                            "1970-01-01T00:00:00.000000Z",
                            "1969-12-31T23:59:59.999999Z",
                            "2026-11-27T02:33:38.000000Z",
                            nullptr,
                            "2026-11-26T02:33:38.000000Z"};
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < std::size(times); i++) {
      char buf[kRfc3339UsLen];
      std::string s(buf, format_rfc3339_us(buf, times[i]));
      EXPECT_EQ(s, rfc3339_us(times[i]));
      if (expected[i] != nullptr) {
        EXPECT_EQ(s, expected[i]) << i;
      }
    }
  }
}

TEST(WallClock, FixedOffsetConverts) {
  WallClock c = WallClock::fixed(1795660418 * kSec - 5 * kSec);
  EXPECT_EQ(c.to_unix_ns(5 * kSec + 42'000), 1795660418 * kSec + 42'000);
  EXPECT_EQ(rfc3339_us(c.to_unix_ns(5 * kSec + 123'456'000)), "2026-11-26T02:33:38.123456Z");
}

TEST(WallClock, CalibrateMatchesRealtime) {
  WallClock c = WallClock::calibrate();
  timespec rt{};
  uint64_t mono = monotonic_now_ns();
  clock_gettime(CLOCK_REALTIME, &rt);
  int64_t real = static_cast<int64_t>(rt.tv_sec) * kSec + rt.tv_nsec;
  // Both reads are microseconds apart; 50 ms leaves room for a loaded CI box
  // while still catching a sign error or a missing offset (decades).
  EXPECT_LT(std::llabs(c.to_unix_ns(mono) - real), 50'000'000);
}

TEST(WallClock, MonotonicNowAdvances) {
  uint64_t a = monotonic_now_ns();
  uint64_t b = monotonic_now_ns();
  EXPECT_GT(a, 0u);
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace rsthop
