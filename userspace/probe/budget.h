// The connections one diagnose run may open to its target, and how fast.
//
// One Budget is shared (through Target::budget) by every probe and every
// ladder step of a run, including ladders running at once on other threads:
// each connect() first takes one unit, waiting for the rate, and a probe or
// step that gets none is not sent.  Both limits are hard: at most `total`
// connection attempts (SYNs; the kernel's retransmissions of one attempt are
// that attempt), at least 1/per_second seconds apart.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

namespace rsthop::probe {

class Budget {
 public:
  // `stopped`, when set, is asked at every take(): once true (SIGINT), nothing more is sent.
  Budget(int total, double per_second, std::function<bool()> stopped = {});
  // One connection: waits until the rate allows it, then true; false (at
  // once) when the budget is spent.
  bool take();
  int left() const;
  int total() const { return total_; }
  // Whether a take() was refused: the run stopped early for the budget.
  bool refused() const;

 private:
  using Clock = std::chrono::steady_clock;
  const int total_;
  const Clock::duration gap_;
  const std::function<bool()> stopped_;
  mutable std::mutex mu_;
  int spent_ = 0;
  bool refused_ = false;
  std::optional<Clock::time_point> next_;  // the earliest the next connection may start
};

}  // namespace rsthop::probe
