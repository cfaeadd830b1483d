// Kernel time to wall time.  BPF stamps events with bpf_ktime_get_ns()
// (CLOCK_MONOTONIC); people and log pipelines want UTC.  WallClock holds one
// offset, measured at start-up; a long trace measures it again every 10 s and
// slews towards it (common/clock_discipline.h), so ordering is preserved
// while the lines follow NTP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rsthop {

class WallClock {
 public:
  // Samples CLOCK_REALTIME between two CLOCK_MONOTONIC reads a few times and
  // keeps the tightest bracket, so a preemption during one sample does not
  // skew the offset.
  static WallClock calibrate();
  // For tests and offline replays: a known REALTIME - MONOTONIC offset.
  static WallClock fixed(int64_t realtime_minus_monotonic_ns) { return WallClock(realtime_minus_monotonic_ns); }

  int64_t to_unix_ns(uint64_t mono_ns) const { return static_cast<int64_t>(mono_ns) + offset_ns_; }
  int64_t offset_ns() const { return offset_ns_; }

 private:
  explicit WallClock(int64_t offset_ns) : offset_ns_(offset_ns) {}
  int64_t offset_ns_ = 0;
};

// CLOCK_MONOTONIC now, in the same domain as bpf_ktime_get_ns().
uint64_t monotonic_now_ns();

// "2026-11-26T02:33:38.123456Z": UTC, exactly six fractional digits,
// truncated (not rounded) so an event never appears to come from the future.
// Times before the epoch render correctly; times gmtime cannot represent
// render as the epoch rather than failing, since a timestamp is never worth
// dropping an event for.
std::string rfc3339_us(int64_t unix_ns);
// The same text written to `out` (no NUL); returns kRfc3339UsLen.  The date
// and time of day are cached per thread for the last second seen, so a
// stream of events formats only the microseconds.
inline constexpr size_t kRfc3339UsLen = 27;
size_t format_rfc3339_us(char* out /*[kRfc3339UsLen]*/, int64_t unix_ns);

}  // namespace rsthop
