// Periodic recalibration of the kernel-to-wall clock for long runs.  WallClock
// holds one REALTIME - MONOTONIC offset; over days NTP slews the wall clock,
// so an offset measured at start drifts.  ClockDiscipline takes a fresh
// measurement now and then (trace: every 10 s) and moves the offset towards
// it the way ntpd does: a small difference is slewed at most kMaxSlewPpm
// (so @timestamps stay in order: the offset never changes faster than time
// passes), a large one (an NTP step, a suspended VM) is stepped at once.
#pragma once

#include <cstdint>

#include "common/clock.h"

namespace rsthop {

class ClockDiscipline {
 public:
  static constexpr int64_t kMaxSlewPpm = 500;               // ntpd's limit
  static constexpr int64_t kStepThresholdNs = 128'000'000;  // ntpd's step threshold

  ClockDiscipline(WallClock start, uint64_t mono_now) : from_(start.offset_ns()), target_(from_), since_(mono_now) {}

  // A new measurement at `mono_now`: slews towards it from the offset in use then, or steps.
  void observe(WallClock measured, uint64_t mono_now);
  // The clock to stamp events with at `mono_now` (not before the last observe()).
  WallClock at(uint64_t mono_now) const;
  int64_t target_offset_ns() const { return target_; }

 private:
  int64_t from_, target_;  // offsets: in use at since_, measured
  uint64_t since_;
};

}  // namespace rsthop
