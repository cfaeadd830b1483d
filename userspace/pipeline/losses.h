// `lost` lines: every loss counter that moved since the previous report.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "output/event.h"
#include "output/sink.h"

namespace rsthop::pipeline {

class LossReporter {
 public:
  // Writes one `lost` line per loss counter that grew since last time (none
  // when `w` is null: the losses are then only counted in total()), and one
  // per output whose drops grew (sink_full, sink_oversize, with lost.sink).
  Result<void> report(output::Writer* w, const output::Context& ctx, uint64_t now, const output::KernelCounters& k,
                      uint64_t malformed, std::span<const output::SinkStats> sinks = {});
  // Everything lost since start, all causes together.
  uint64_t total() const { return total_; }

 private:
  output::KernelCounters last_{};
  uint64_t last_malformed_ = 0;
  std::vector<output::SinkStats> last_sinks_;  // by position: the outputs do not change during a run
  uint64_t total_ = 0;
};

}  // namespace rsthop::pipeline
