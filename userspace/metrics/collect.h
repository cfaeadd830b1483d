// What rsthop exposes on /metrics, built from the counters the pipeline
// already keeps (the kernel's, the userspace ones, the verdicts) into
// exposition families.  Names and labels are documented in the README
// ("Metrics"): renaming one breaks dashboards.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "attribution/verdict.h"
#include "metrics/exposition.h"
#include "output/event.h"

namespace rsthop::metrics {

// Resets by verdict: origin x stage x hop bucket.  Updated on the pipeline thread.
class ResetTally {
 public:
  void count(const attribution::Verdict& v);
  // "none" (no hop estimate), "0" (this host), "1", "2", "3", "4-7", "8-15", "16+".
  static const char* hop_bucket(const std::optional<int>& hop);
  using Key = std::tuple<attribution::Origin, attribution::Stage, const char*>;
  const std::map<Key, uint64_t>& counts() const { return counts_; }

 private:
  std::map<Key, uint64_t> counts_;
};

// One output sink's queue, as the sinks report it.
struct SinkStats {
  std::string sink;  // the -o argument that names it ("tcp:10.0.0.1:5140")
  uint64_t queue_depth = 0;
  uint64_t dropped = 0;  // lines dropped because its queue was full (lost.cause sink_full)
};
// Called on the thread that collects (the pipeline's); returns every sink's
// stats.  Until the sinks are wired it returns nothing, and the sink
// families carry no samples.
using SinkStatsSource = std::function<std::vector<SinkStats>()>;

// Everything one scrape shows.
struct RunStats {
  output::KernelCounters kernel{};
  output::UserspaceCounters user{};
  uint64_t malformed = 0;      // ring records userspace could not read
  uint64_t flows_tracked = 0;  // flows open in the userspace timeline
  const ResetTally* resets = nullptr;
  std::vector<SinkStats> sinks;
  std::vector<output::AttachmentInfo> attachments;
};

std::vector<Family> collect(const RunStats& s);

}  // namespace rsthop::metrics
