// `lost` lines: every loss counter that moved since the previous report.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "output/event.h"
#include "output/sink.h"

namespace rsthop::pipeline {

class LossReporter {
 public:
  // Writes one `lost` line per loss counter that grew since last time (none
  // when `w` is null: the losses are then only counted in total()).
  Result<void> report(output::Writer* w, const output::Context& ctx, uint64_t now, const output::KernelCounters& k,
                      uint64_t malformed);
  // Everything lost since start, all causes together.
  uint64_t total() const { return total_; }

 private:
  output::KernelCounters last_{};
  uint64_t last_malformed_ = 0;
  uint64_t total_ = 0;
};

}  // namespace rsthop::pipeline
