// Volume control options shared by `trace` and `analyze` (--events, --origin,
// --min-confidence, --incidents, --incident-destinations): registered on a
// CLI11 command, then checked and turned into pipeline options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli_fwd.h"
#include "common/result.h"
#include "pipeline/pipeline.h"
#include "pipeline/volume.h"

namespace rsthop::cli {

struct VolumeOptions {
  std::vector<std::string> events;   // --events words; empty: the defaults
  std::vector<std::string> origins;  // --origin words; empty: every origin
  double min_confidence = 0;
  double incidents_s = 0;  // --incidents SEC; 0: one reset line per reset
  uint32_t incident_destinations = 1024;
};

void add_volume_options(CLI::App* cmd, VolumeOptions& v);

// What the options ask for, checked (an unknown event type or origin, or
// --incidents without `incident` in --events, is a one-sentence error).
struct Volume {
  pipeline::EventSet events;
  pipeline::ResetFilter filter;
  uint64_t incident_interval_ns = 0;
  size_t incident_destinations = 1024;
};
Result<Volume> parse_volume(const VolumeOptions& v);

// Sets the pipeline's line switches, filter and aggregation from `v`.  The
// periodic stats lines go with `stats`; the final one is always written.
void apply_volume(const Volume& v, pipeline::Pipeline::Options& po);

}  // namespace rsthop::cli
