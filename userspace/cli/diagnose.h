// `rsthop diagnose HOST[:PORT]`: active probes and the kernel capture, one verdict.
#pragma once

#include <cstdint>

#include <string>
#include <vector>

namespace rsthop::cli {

struct DiagnoseOptions {
  std::string pcap_out;            // --pcap-out: pcapng of the packets behind each reset (\"\" = none)
  uint16_t community_id_seed = 0;  // --community-id-seed: network.community_id's seed
  std::string target;              // HOST[:PORT]
  std::string sni;                 // default: HOST
  std::string control_sni = "rsthop-control.invalid";
  int max_hops = 32;
  int concurrency = 8;
  std::string interface;            // default: the route's
  std::string format;               // json | text | "" (text on a terminal)
  std::vector<std::string> output;  // -o, repeatable (cli/outputs.h); empty = "-"
  double timeout_s = 3;
  double step_timeout_s = 0.6;
  double hold_s = 4;
  int family = 0;  // 0, 4 or 6
  bool always_ladder = false;
  int budget = 200;   // connections to the target, all probes together
  double rate = 200;  // connections per second at most
  bool verbose = false;
};

int run_diagnose(const DiagnoseOptions& opt);

}  // namespace rsthop::cli
