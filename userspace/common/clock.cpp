#include "common/clock.h"

#include <time.h>

#include <cstdio>
#include <cstring>
#include <limits>

#include "common/decimal.h"

namespace rsthop {

namespace {

int64_t read_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr int64_t kNsPerSec = 1'000'000'000;

}  // namespace

WallClock WallClock::calibrate() {
  constexpr int kSamples = 5;
  int64_t best_gap = std::numeric_limits<int64_t>::max();
  int64_t best_offset = 0;
  for (int i = 0; i < kSamples; i++) {
    int64_t m1 = read_ns(CLOCK_MONOTONIC);
    int64_t r = read_ns(CLOCK_REALTIME);
    int64_t m2 = read_ns(CLOCK_MONOTONIC);
    int64_t gap = m2 - m1;
    if (gap < best_gap) {
      best_gap = gap;
      // The REALTIME read happened somewhere in [m1, m2]; the midpoint
      // bounds the error by half the gap.
      best_offset = r - (m1 + gap / 2);
    }
  }
  return WallClock(best_offset);
}

uint64_t monotonic_now_ns() { return static_cast<uint64_t>(read_ns(CLOCK_MONOTONIC)); }

std::string rfc3339_us(int64_t unix_ns) {
  char buf[kRfc3339UsLen];
  return std::string(buf, format_rfc3339_us(buf, unix_ns));
}

size_t format_rfc3339_us(char* out, int64_t unix_ns) {
  // Floor division, so -1 ns is 23:59:59.999999 of the day before, not
  // a negative fraction.
  int64_t secs = unix_ns / kNsPerSec;
  int64_t rem = unix_ns % kNsPerSec;
  if (rem < 0) {
    secs -= 1;
    rem += kNsPerSec;
  }
  // "YYYY-MM-DDTHH:MM:SS" of the last seconds formatted on this thread, two
  // slots by parity so a flow's start and end in neighbouring seconds, or
  // events straddling a second, do not evict each other.
  struct Slot {
    int64_t secs = std::numeric_limits<int64_t>::min();
    bool valid = false;
    char prefix[20] = {};
  };
  thread_local Slot slots[2];
  Slot& cache = slots[secs & 1];
  if (secs != cache.secs) {
    time_t t = static_cast<time_t>(secs);
    tm utc{};
    cache.secs = secs;
    cache.valid = gmtime_r(&t, &utc) != nullptr && utc.tm_year + 1900 >= 0 && utc.tm_year + 1900 <= 9999;
    if (cache.valid) {
      char buf[96];  // sized for the widest int fields, to keep -Wformat-truncation quiet
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                    utc.tm_hour, utc.tm_min, utc.tm_sec);
      std::memcpy(cache.prefix, buf, 19);
    }
  }
  if (!cache.valid) {
    std::memcpy(out, "1970-01-01T00:00:00.000000Z", kRfc3339UsLen);
    return kRfc3339UsLen;
  }
  std::memcpy(out, cache.prefix, 19);
  out[19] = '.';
  format_six_digits(out + 20, static_cast<uint32_t>(rem / 1000));
  out[26] = 'Z';
  return kRfc3339UsLen;
}

}  // namespace rsthop
