// `rsthop trace`: live, passive capture of TCP control packets and resets.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/auto_options.h"
#include "cli/volume.h"
#include "common/result.h"

namespace rsthop::cli {

struct TraceOptions {
  std::string metrics;             // --metrics ADDR:PORT: the Prometheus endpoint ("" = none)
  std::string pcap_out;            // --pcap-out: pcapng of the packets behind each reset (\"\" = none)
  uint16_t community_id_seed = 0;  // --community-id-seed: network.community_id's seed
  std::vector<std::string> interfaces;
  std::vector<std::string> hosts;  // CIDRs or addresses
  std::vector<uint16_t> ports;
  double duration_s = 0;            // 0: until SIGINT / SIGTERM
  std::string format;               // "json" | "text" | "" (text on a terminal, else json)
  std::vector<std::string> output;  // -o, repeatable (cli/outputs.h); empty = "-"
  std::string xdp = "auto";         // auto | native | generic | off
  std::string tc = "auto";          // auto (tcx, else clsact) | clsact
  bool packets = false;
  bool verbose = false;
  double stats_interval_s = 10;
  uint32_t ring_mb = 16;
  uint32_t max_flows = 65536;
  VolumeOptions volume;               // --events, --origin, --min-confidence, --incidents
  AutoDiagnoseOptions auto_diagnose;  // --auto-diagnose*
};

// What rereading the configuration (cli/config.h) gave: the options, and the
// long names of those whose values differ from the ones the run started with.
struct Reread {
  TraceOptions options;
  std::vector<std::string> changed;
};
// Empty: SIGHUP changes nothing.
using TraceReloader = std::function<Result<Reread>()>;

// Returns the process exit code.
int run_trace(const TraceOptions& opt, const TraceReloader& reload = {});

}  // namespace rsthop::cli
