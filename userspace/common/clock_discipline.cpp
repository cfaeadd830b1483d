#include "common/clock_discipline.h"

#include <algorithm>

namespace rsthop {

void ClockDiscipline::observe(WallClock measured, uint64_t mono_now) {
  const int64_t current = at(mono_now).offset_ns();
  const int64_t target = measured.offset_ns();
  const int64_t diff = target - current;
  from_ = diff > kStepThresholdNs || diff < -kStepThresholdNs ? target : current;
  target_ = target;
  since_ = std::max(since_, mono_now);
}

WallClock ClockDiscipline::at(uint64_t mono_now) const {
  const uint64_t elapsed = mono_now > since_ ? mono_now - since_ : 0;
  // At most kMaxSlewPpm ns of correction per ms of elapsed time (elapsed / 1e6 * ppm), without overflow.
  const int64_t room = static_cast<int64_t>(std::min<uint64_t>(elapsed / 1'000'000, 1ULL << 40)) * kMaxSlewPpm;
  const int64_t diff = target_ - from_;
  return WallClock::fixed(from_ + std::clamp(diff, -room, room));
}

}  // namespace rsthop
