#include "probe/budget.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace rsthop::probe {

Budget::Budget(int total, double per_second, std::function<bool()> stopped)
    : total_(std::max(total, 0)),
      gap_(
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / std::max(per_second, 1e-3)))),
      stopped_(std::move(stopped)) {}

bool Budget::take() {
  if (stopped_ && stopped_()) return false;
  Clock::time_point at;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spent_ >= total_) {
      refused_ = true;
      return false;
    }
    spent_++;
    // Reserve the slot under the lock, sleep outside it: concurrent ladders
    // queue up one gap apart instead of bursting.
    const auto now = Clock::now();
    at = next_ ? std::max(now, *next_) : now;
    next_ = at + gap_;
  }
  std::this_thread::sleep_until(at);
  return true;
}

int Budget::left() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_ - spent_;
}

bool Budget::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

}  // namespace rsthop::probe
