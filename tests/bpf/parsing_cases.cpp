// Rows about parsing: encapsulations (VLAN, QinQ), IPv4 options, IPv6
// extension headers, fragments, ICMP errors quoting TCP, and everything that
// is not TCP.  Each row says which counter the frame must move.
#include <gtest/gtest.h>

#include <cstring>

#include "bpf/parse.h"
#include "case_table.h"

namespace rsthop::test {
namespace {

using C = std::map<int, uint64_t>;

const C kSynEvent{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}};

PacketBuilder syn_builder(const Net& n) {
  return tcp_frame(n, true, kSyn).window(64240).mss(1460).sack_perm().timestamps(100, 0).nop().wscale(7);
}

// The SYN event, with the fields that prove the L4 header was found where it is.
EventExpect syn_event(const Net& n, uint8_t vlan_depth, uint8_t ip_flags, uint16_t ip_len) {
  EventExpect e = tcp_event(n, true, RH_EV_SYN);
  e.more = [=](const RawEvent& r) {
    EXPECT_EQ(r.ev().vlan_depth, vlan_depth);
    EXPECT_EQ(r.ev().ip_flags, ip_flags);
    EXPECT_EQ(r.ev().ip_len, ip_len);
    EXPECT_EQ(r.ev().seq, 1000u);
    EXPECT_EQ(r.ev().mss, 1460);
    EXPECT_EQ(r.ev().wscale, 7);
    EXPECT_EQ(r.ev().tsval, 100u);
  };
  return e;
}

// An ICMP error from the router to the client quoting the client's SYN.
Bytes icmp_error(const Net& n, bool time_exceeded, uint8_t code, size_t quote_tcp_bytes, bool udp = false) {
  PacketBuilder inner;
  if (n.family == 4)
    inner.ipv4(n.client, n.server);
  else
    inner.ipv6(n.client, n.server);
  inner.ttl(1);
  if (udp)
    inner.udp(kClientPort, kServerPort);
  else
    inner.tcp(kClientPort, kServerPort).flags(kSyn).seq(1000).mss(1460);
  Bytes quote = truncate(inner.build_l3(), (n.family == 4 ? 20 : 40) + quote_tcp_bytes);
  PacketBuilder outer;
  outer.eth(kServerMac, kClientMac);
  if (n.family == 4)
    outer.ipv4(n.router, n.client);
  else
    outer.ipv6(n.router, n.client);
  outer.ttl(250);
  if (time_exceeded)
    outer.icmp_time_exceeded(quote, code);
  else
    outer.icmp_dest_unreachable(quote, code);
  return outer.build();
}

EventExpect icmp_event(const Net& n, uint8_t type, uint8_t code, bool flow_known) {
  EventExpect e;
  e.kind = RH_EV_ICMP;
  e.saddr = n.router;  // who complained
  e.daddr = n.client;
  e.key = canonical_key(n.client, kClientPort, n.server, kServerPort, &e.side);
  e.smac = kServerMac;
  e.dmac = kClientMac;
  e.more = [=](const RawEvent& r) {
    const rh_event& ev = r.ev();
    EXPECT_EQ(ev.icmp_type, type);
    EXPECT_EQ(ev.icmp_code, code);
    EXPECT_EQ(ev.ttl, 250);
    EXPECT_EQ(ev.inner_ttl, 1);
    auto s = addr16(n.client), d = addr16(n.server);
    EXPECT_EQ(std::memcmp(ev.inner_saddr, s.data(), 16), 0);
    EXPECT_EQ(std::memcmp(ev.inner_daddr, d.data(), 16), 0);
    EXPECT_EQ(ev.inner_sport, kClientPort);
    EXPECT_EQ(ev.inner_dport, kServerPort);
    EXPECT_EQ(ev.inner_seq, 1000u);
    EXPECT_EQ(ev.tcp_flags, 0);
    if (flow_known)
      EXPECT_NE(ev.flow.ts_syn, 0u) << "the event carries the quoted flow's state";
    else
      EXPECT_EQ(ev.flow.ts_syn, 0u);
  };
  return e;
}

void add_family(std::vector<Case>& out, const Net& n) {
  const std::string f = n.name;
  const bool v4 = n.family == 4;
  const uint16_t syn_ip_len = v4 ? 60 : 80;
  const uint8_t df = v4 ? RH_IPF_DF : 0;

  out.push_back({f + "_vlan_syn",
                 {},
                 syn_builder(n).vlan(100).build(),
                 syn_event(n, 1, df | RH_IPF_VLAN, syn_ip_len),
                 kSynEvent,
                 {}});
  out.push_back({f + "_qinq_syn",
                 {},
                 syn_builder(n).vlan(100, kTpid8021ad).vlan(200).build(),
                 syn_event(n, 2, df | RH_IPF_VLAN, syn_ip_len),
                 kSynEvent,
                 {}});
  out.push_back({f + "_triple_tag_unsupported",
                 {},
                 syn_builder(n).vlan(100, kTpid8021ad).vlan(200).vlan(300).build(),
                 std::nullopt,
                 C{{RH_C_UNSUPPORTED_ENCAP, 1}},
                 [](BpfHarness& h) { EXPECT_TRUE(h.flow_keys().empty()); }});
  out.push_back({f + "_tcp_data_offset_4_malformed",
                 {},
                 syn_builder(n).override_data_offset(4).build(),
                 std::nullopt,
                 C{{RH_C_MALFORMED_L4, 1}},
                 {}});
  out.push_back({f + "_bad_ip_version_malformed",
                 {},
                 syn_builder(n).override_ip_version(v4 ? 5 : 7).build(),
                 std::nullopt,
                 C{{RH_C_MALFORMED_L3, 1}},
                 {}});

  // ICMP errors quoting TCP: the router is the outer source, the key is the quoted flow's.
  uint8_t te_type = v4 ? 11 : 3, du_type = v4 ? 3 : 1, admin = v4 ? 13 : 1;
  const C icmp_counted{{RH_C_ICMP_ERRORS, 1}, {RH_C_EVENTS, 1}};
  out.push_back({f + "_icmp_time_exceeded_quoting_tcp",
                 {base_syn(n)},
                 icmp_error(n, true, 0, 8),
                 icmp_event(n, te_type, 0, true),
                 icmp_counted,
                 {}});
  out.push_back({f + "_icmp_unreachable_full_quote",
                 {},
                 icmp_error(n, false, admin, 24),
                 icmp_event(n, du_type, admin, false),
                 icmp_counted,
                 [](BpfHarness& h) { EXPECT_TRUE(h.flow_keys().empty()) << "ICMP creates no flow"; }});
  out.push_back(
      {f + "_icmp_quote_cut_before_seq", {}, icmp_error(n, true, 0, 4), std::nullopt, C{{RH_C_TRUNC_L4, 1}}, {}});
  out.push_back(
      {f + "_icmp_error_quoting_udp", {}, icmp_error(n, true, 0, 8, true), std::nullopt, C{{RH_C_NON_TCP, 1}}, {}});

  PacketBuilder echo;
  echo.eth();
  if (v4)
    echo.ipv4(n.client, n.server);
  else
    echo.ipv6(n.client, n.server);
  out.push_back(
      {f + "_icmp_echo_not_tcp", {}, echo.icmp_echo().payload("ping").build(), std::nullopt, C{{RH_C_NON_TCP, 1}}, {}});
  PacketBuilder udp;
  udp.eth();
  if (v4)
    udp.ipv4(n.client, n.server);
  else
    udp.ipv6(n.client, n.server);
  out.push_back(
      {f + "_udp_not_tcp", {}, udp.udp(5353, 53).payload("query").build(), std::nullopt, C{{RH_C_NON_TCP, 1}}, {}});
}

void add_ipv4_only(std::vector<Case>& out) {
  const Net& n = net_v4();
  // IHL 6..15: the TCP header moves, and the parser must follow.
  for (int ihl = 6; ihl <= 15; ihl++) {
    Bytes opts(static_cast<size_t>((ihl - 5) * 4), 1);  // NOPs
    opts.back() = 0;                                    // EOL
    out.push_back({"v4_ip_options_ihl" + std::to_string(ihl),
                   {},
                   syn_builder(n).ip_options(opts).build(),
                   syn_event(n, 0, RH_IPF_DF, static_cast<uint16_t>(ihl * 4 + 40)),
                   kSynEvent,
                   {}});
  }
  out.push_back(
      {"v4_ihl_4_malformed", {}, syn_builder(n).override_ihl(4).build(), std::nullopt, C{{RH_C_MALFORMED_L3, 1}}, {}});
  out.push_back({"v4_first_fragment",
                 {},
                 syn_builder(n).df(false).frag(0, true).build(),
                 syn_event(n, 0, RH_IPF_FRAG_FIRST, 60),
                 C{{RH_C_FRAGMENTS, 1}, {RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}},
                 {}});
  out.push_back(
      {"v4_non_first_fragment",
       {},
       PacketBuilder().eth().ipv4(n.client, n.server).frag(185, false).protocol(6).payload(Bytes(64, 0x42)).build(),
       std::nullopt,
       C{{RH_C_FRAGMENTS, 1}},
       [](BpfHarness& h) { EXPECT_TRUE(h.flow_keys().empty()); }});
  out.push_back({"arp_not_tcp",
                 {},
                 PacketBuilder().eth().arp("10.0.0.1", "10.0.0.2").build(),
                 std::nullopt,
                 C{{RH_C_NON_TCP, 1}},
                 {}});
}

void add_ipv6_only(std::vector<Case>& out) {
  const Net& n = net_v6();
  // Hop-by-hop (router alert), destination options and a first fragment: 24 bytes of chain.
  out.push_back({"v6_ext_hbh_dstopts_frag0",
                 {},
                 syn_builder(n).hop_by_hop({5, 2, 0, 0}).dest_opts({}).fragment6(0, true).build(),
                 syn_event(n, 0, RH_IPF_FRAG_FIRST, 40 + 24 + 40),
                 C{{RH_C_FRAGMENTS, 1}, {RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}},
                 {}});
  // An atomic fragment (offset 0, M=0) is no fragment; a routing header is walked over.
  out.push_back(
      {"v6_ext_routing_atomic_frag_longer_dstopts",
       {},
       syn_builder(n).hop_by_hop({}).routing(4, 0, Bytes(20, 0)).fragment6(0, false).dest_opts(Bytes(20, 0)).build(),
       syn_event(n, 0, 0, 40 + 8 + 24 + 8 + 24 + 40),
       kSynEvent,
       {}});
  out.push_back(
      {"v6_non_first_fragment",
       {},
       PacketBuilder().eth().ipv6(n.client, n.server).fragment6(100, true).protocol(6).payload(Bytes(64, 0x42)).build(),
       std::nullopt,
       C{{RH_C_FRAGMENTS, 1}},
       [](BpfHarness& h) { EXPECT_TRUE(h.flow_keys().empty()); }});
  PacketBuilder deep = syn_builder(n);
  for (int i = 0; i < RH_IPV6_EXT_MAX + 1; i++) deep.dest_opts({});
  out.push_back({"v6_ext_chain_too_long", {}, deep.build(), std::nullopt, C{{RH_C_UNSUPPORTED_ENCAP, 1}}, {}});
  // An ICMPv4 header inside IPv6 is no ICMPv6 error.
  out.push_back({"v6_carrying_icmpv4_not_tcp",
                 {},
                 PacketBuilder().eth().ipv6(n.router, n.client).protocol(1).payload(Bytes(36, 0)).build(),
                 std::nullopt,
                 C{{RH_C_NON_TCP, 1}},
                 {}});
}

}  // namespace

std::vector<Case> parsing_cases() {
  std::vector<Case> out;
  add_family(out, net_v4());
  add_family(out, net_v6());
  add_ipv4_only(out);
  add_ipv6_only(out);
  return out;
}

}  // namespace rsthop::test
