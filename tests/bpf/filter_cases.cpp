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
  for (uint16_t p : filter_ports()) rh_port_bitmap_set(s->rodata->cfg_port_bitmap, p);
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
    // The kernel rejects a clean untagged IPv4 frame before its global call (ports__reject_early); these rows
    // are the frames that must still take the full path and count what it counts.
    out.push_back({f + "_other_port_vlan",
                   {},
                   tcp_frame(*n, true, kSyn).vlan(100).tcp(kClientPort, 80).build(),
                   std::nullopt,
                   filtered,
                   no_flow});
    Bytes cut = tcp_frame(*n, true, kSyn).tcp(kClientPort, 80).mss(1460).sack_perm().timestamps(1, 0).build();
    cut.resize(cut.size() - 4);  // the capture ends inside the TCP options
    out.push_back({f + "_other_port_cut_in_tcp_options", {}, cut, std::nullopt, C{{RH_C_TRUNC_L4, 1}}, no_flow});
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
  const Net& v4 = net_v4();
  out.push_back({"v4_other_port_ip_options",
                 {},
                 tcp_frame(v4, true, kSyn).ip_options(Bytes{1, 1, 1, 0}).tcp(kClientPort, 80).build(),
                 std::nullopt,
                 filtered,
                 no_flow});
  // The ports behind the options pass.  Read 4 bytes early (IHL ignored), the options would be ports 257 / 256
  // and the ack number's top byte (0x50, no ACK flag) a whole 20-byte TCP header: rejected by mistake.
  out.push_back({"v4_match_with_ip_options",
                 {},
                 tcp_frame(v4, true, kSyn).ip_options(Bytes{1, 1, 1, 0}).ack(0x50000000).build(),
                 tcp_event(v4, true, RH_EV_SYN),
                 C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}},
                 {}});
  out.push_back({"v4_other_port_first_fragment",
                 {},
                 tcp_frame(v4, true, kSyn).df(false).frag(0, true).tcp(kClientPort, 80).build(),
                 std::nullopt,
                 C{{RH_C_FRAGMENTS, 1}, {RH_C_TCP, 1}, {RH_C_FILTERED, 1}},
                 no_flow});
  out.push_back({"v4_other_port_ihl_4_malformed",
                 {},
                 tcp_frame(v4, true, kSyn).override_ihl(4).tcp(kClientPort, 80).build(),
                 std::nullopt,
                 C{{RH_C_MALFORMED_L3, 1}},
                 no_flow});
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
