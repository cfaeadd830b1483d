// `rsthop analyze`: capture files through the kernel's parser and state
// machine (the pcap room), into the same timeline, attribution and output as
// `rsthop trace`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/volume.h"

namespace rsthop::cli {

struct AnalyzeOptions {
  std::vector<std::string> files;   // pcap / pcapng, plain or gzip'd; "-" is standard input
  std::vector<std::string> hosts;   // CIDRs or addresses, as trace --host
  std::vector<uint16_t> ports;      // as trace --port
  std::string filter;               // libpcap filter expression, applied first
  std::string format;               // "json" | "text" | "" (text on a terminal, else json)
  std::vector<std::string> output;  // -o, repeatable (cli/outputs.h); empty = "-"
  uint32_t max_flows = 65536;       // the flow table (the kernel's default size)
  std::string pcap_out;             // --pcap-out: pcapng of the packets behind each reset ("" = none)
  uint16_t community_id_seed = 0;   // --community-id-seed: network.community_id's seed
  std::string control;              // --control: a capture whose ladders are the controls of the files' ("" = none)
  VolumeOptions volume;             // --events, --origin, --min-confidence, --incidents
};

// Returns the process exit code: 0, or 1 when a file could not be opened or
// read to its end, or the output could not be written.
int run_analyze(const AnalyzeOptions& opt);

}  // namespace rsthop::cli
