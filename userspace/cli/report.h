// What `trace` and `analyze` report alike: the host name and `lost` events.
#pragma once

#include <cstdint>
#include <string>

#include "output/event.h"
#include "common/result.h"
#include "output/sink.h"

namespace rsthop::cli {

// gethostname(), or "unknown".
std::string host_name();

// Reports, as `lost` events, every loss counter that moved since last time.
class LossReporter {
 public:
  Result<void> report(output::Writer& w, const output::Context& ctx, uint64_t now,
                      const output::KernelCounters& k, uint64_t malformed);

 private:
  output::KernelCounters last_{};
  uint64_t last_malformed_ = 0;
};

}  // namespace rsthop::cli
