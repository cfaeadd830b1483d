// One output's queue depth and losses: stats.sinks[] in trace's stats
// lines, `lost` lines with cause sink_full / sink_oversize, and the metrics.
#pragma once

#include <cstdint>
#include <string>

namespace rsthop::output {

// One destination's queue and losses (stats.sinks[], the metrics endpoint).
struct SinkStats {
  std::string name;               // the -o form as given, e.g. "tcp:127.0.0.1:5140"
  uint64_t queued_bytes = 0;      // waiting in the queue, whole lines
  uint64_t capacity_bytes = 0;    // the queue's bound
  uint64_t dropped_full = 0;      // lines dropped because the queue was full (lost.cause sink_full)
  uint64_t dropped_oversize = 0;  // lines longer than the destination's message limit (sink_oversize)
  bool connected = true;          // false while a socket sink is reconnecting
};

}  // namespace rsthop::output
