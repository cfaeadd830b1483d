// Rows about the in-kernel --host / --port filter, the filter itself, and the
// loaded instances the tests share (default and filtered):
// port 443 only, hosts in 10.0.0.0/24 or 2001:db8::/64, set once as Cidrs and
// ports so the kernel's rodata and the offline Tracker get the same filter.
#include <gtest/gtest.h>

#include <cstring>

#include "case_table.h"
#include "rsthop.skel.h"

namespace rsthop::test {

std::vector<Cidr> filter_hosts() { return {parse_cidr("10.0.0.0/24").value(), parse_cidr("2001:db8::/64").value()}; }

std::vector<uint16_t> filter_ports() { return {kServerPort}; }

void configure_filter(struct ::rsthop_bpf* s) {
  s->rodata->cfg_filter_ports = 1;
  for (uint16_t p : filter_ports()) s->rodata->cfg_port_bitmap[p / 64] |= 1ull << (p % 64);
  const std::vector<Cidr> hosts = filter_hosts();
  s->rodata->cfg_filter_hosts = 1;
  s->rodata->cfg_n_cidrs = static_cast<uint32_t>(hosts.size());
  for (size_t i = 0; i < hosts.size(); i++) {
    std::memcpy(s->rodata->cfg_cidrs[i].addr, hosts[i].addr.data(), 16);
    std::memcpy(s->rodata->cfg_cidrs[i].mask, hosts[i].mask.data(), 16);
  }
}

std::vector<Case> filter_cases() {
  using C = std::map<int, uint64_t>;
  std::vector<Case> out;
  const C filtered{{RH_C_TCP, 1}, {RH_C_FILTERED, 1}};
  auto no_flow = [](BpfHarness& h) { EXPECT_TRUE(h.flow_keys().empty()) << "a filtered packet creates no flow"; };
  for (const Net* n : {&net_v4(), &net_v6()}) {
    std::string f = n->name;
    out.push_back({f + "_match_syn",
                   {},
                   base_syn(*n),
                   tcp_event(*n, true, RH_EV_SYN),
                   C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}},
                   {}});
    // The reply matches by its source port.
    out.push_back({f + "_match_synack_by_sport",
                   {},
                   base_synack(*n),
                   tcp_event(*n, false, RH_EV_SYNACK),
                   C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_FLOW_MIDSTREAM, 0}, {RH_C_EVENTS, 1}},
                   {}});
    out.push_back({f + "_other_port",
                   {},
                   tcp_frame(*n, true, kSyn).tcp(kClientPort, 80).build(),
                   std::nullopt,
                   filtered,
                   no_flow});
    Net away = *n;
    away.client = n->family == 4 ? "192.168.7.1" : "2001:db9::1";
    away.server = n->family == 4 ? "192.168.7.2" : "2001:db9::2";
    out.push_back({f + "_other_hosts", {}, base_syn(away), std::nullopt, filtered, no_flow});
    out.push_back({f + "_other_hosts_rst", {}, tcp_frame(away, false, kRst).build(), std::nullopt, filtered, no_flow});
    // One end inside the CIDR is enough.
    Net half = away;
    half.server = n->server;
    out.push_back({f + "_one_host_matches",
                   {},
                   base_syn(half),
                   tcp_event(half, true, RH_EV_SYN),
                   C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}},
                   {}});
  }
  return out;
}

// Loading verifies six programs (seconds on a busy machine), so each
// configuration is loaded once per process and tests reset the flow table
// and ring buffer.
BpfHarness* shared_harness(bool filter, std::string& error) {
  static std::unique_ptr<BpfHarness> slots[2];
  static std::string errs[2];
  if (!slots[filter] && errs[filter].empty())
    slots[filter] = BpfHarness::load(filter ? BpfHarness::Configure(configure_filter) : nullptr, &errs[filter]);
  error = errs[filter];
  return slots[filter].get();
}

}  // namespace rsthop::test
