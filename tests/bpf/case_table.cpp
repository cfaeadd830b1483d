#include "case_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

namespace rsthop::test {

const Net& net_v4() {
  static const Net n{"v4", 4, "10.0.0.1", "10.0.0.2", "10.0.0.9", "192.0.2.254"};
  return n;
}

const Net& net_v6() {
  static const Net n{"v6", 6, "2001:db8::1", "2001:db8::2", "2001:db8::9", "2001:db8:ffff::fe"};
  return n;
}

PacketBuilder tcp_frame(const Net& n, bool from_client, uint8_t flags) {
  PacketBuilder b;
  const std::string& src = from_client ? n.client : n.server;
  const std::string& dst = from_client ? n.server : n.client;
  if (from_client)
    b.eth(kClientMac, kServerMac);
  else
    b.eth(kServerMac, kClientMac);
  if (n.family == 4)
    b.ipv4(src, dst);
  else
    b.ipv6(src, dst);
  b.ttl(from_client ? 64 : 57).ip_id(from_client ? 0x1234 : 0x4321).df();
  b.tcp(from_client ? kClientPort : kServerPort, from_client ? kServerPort : kClientPort);
  b.flags(flags).seq(from_client ? 1000 : 5000);
  if (flags & kAck) b.ack(from_client ? 5001 : 1001);
  b.window(from_client ? 502 : 509);
  return b;
}

Bytes base_syn(const Net& n) {
  return tcp_frame(n, true, kSyn).window(64240).mss(1460).sack_perm().timestamps(100, 0).nop().wscale(7).build();
}

Bytes base_synack(const Net& n) {
  return tcp_frame(n, false, kSyn | kAck)
      .window(65160)
      .mss(1400)
      .sack_perm()
      .timestamps(200, 100)
      .nop()
      .wscale(9)
      .build();
}

EventExpect tcp_event(const Net& n, bool from_client, uint8_t kind) {
  EventExpect e;
  e.kind = kind;
  e.saddr = from_client ? n.client : n.server;
  e.daddr = from_client ? n.server : n.client;
  e.sport = from_client ? kClientPort : kServerPort;
  e.dport = from_client ? kServerPort : kClientPort;
  e.key = canonical_key(e.saddr, e.sport, e.daddr, e.dport, &e.side);
  e.smac = from_client ? kClientMac : kServerMac;
  e.dmac = from_client ? kServerMac : kClientMac;
  return e;
}

std::vector<TruncBase> trunc_bases() {
  auto syn = [](const Net& n) {
    return tcp_frame(n, true, kSyn).mss(1460).sack_perm().timestamps(100, 0).nop().wscale(7);
  };
  return {
      {"v4", base_syn(net_v4()), 14, 14 + 20, 14 + 20},
      {"v6", base_syn(net_v6()), 14, 14 + 40, 14 + 40},
      {"v4_qinq_ip_options",
       syn(net_v4()).vlan(100, kTpid8021ad).vlan(200).ip_options({1, 1, 1, 1, 1, 1, 1, 0}).build(), 22, 22 + 28, 14},
      {"v6_vlan_ext_headers", syn(net_v6()).vlan(100).hop_by_hop({}).fragment6(0, false).build(), 18, 18 + 40 + 16, 14},
  };
}

namespace {

std::string hex(const void* p, size_t n) {
  std::ostringstream o;
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; i++) o << "0123456789abcdef"[b[i] >> 4] << "0123456789abcdef"[b[i] & 15];
  return o.str();
}

void check_event(const RawEvent& raw, const EventExpect& want, Hook hook, uint8_t family, uint64_t t0, uint64_t t1) {
  const rh_event& ev = raw.ev();
  // Each kind has its record size (abi.h): paying only for what it carries.
  size_t want_size = want.kind == RH_EV_PAYLOAD                       ? sizeof(rh_data_event)
                     : want.kind == RH_EV_ICMP                        ? RH_REC_SIZE_ICMP
                     : want.kind == RH_EV_RST && raw.ev().payload_len ? RH_REC_SIZE_RST_PAYLOAD
                                                                      : RH_REC_SIZE_BASE;
  EXPECT_EQ(raw.bytes.size(), want_size);
  EXPECT_TRUE(raw.decode_ok) << "rh_record_decode rejected the record";
  EXPECT_EQ(ev.kind, want.kind);
  EXPECT_EQ(ev.hook, abi_hook(hook));
  EXPECT_EQ(ev.ifindex, 1u) << "test_run frames arrive on loopback";
  EXPECT_GE(ev.ts_ns, t0);
  EXPECT_LE(ev.ts_ns, t1);
  EXPECT_EQ(ev.family, family);
  EXPECT_EQ(ev.side, want.side);
  auto s = addr16(want.saddr), d = addr16(want.daddr);
  EXPECT_EQ(hex(ev.saddr, 16), hex(s.data(), 16));
  EXPECT_EQ(hex(ev.daddr, 16), hex(d.data(), 16));
  EXPECT_EQ(ev.sport, want.sport);
  EXPECT_EQ(ev.dport, want.dport);
  EXPECT_EQ(hex(&ev.key, sizeof(ev.key)), hex(&want.key, sizeof(want.key))) << "canonical key";
  EXPECT_EQ(hex(ev.smac, 6), hex(want.smac.data(), 6));
  EXPECT_EQ(hex(ev.dmac, 6), hex(want.dmac.data(), 6));
  EXPECT_EQ(ev.reason, 0);
  if (want.kind != RH_EV_ICMP) {
    EXPECT_EQ(ev.icmp_type, 0);
    EXPECT_EQ(ev.inner_sport, 0);
    EXPECT_EQ(hex(ev.inner_saddr, 16), std::string(32, '0'));
  }
  if (want.more) want.more(raw);
}

}  // namespace

void run_case(BpfHarness& h, Hook hook, const Case& c) {
  h.reset();
  for (size_t i = 0; i < c.setup.size(); i++) {
    RunResult r = h.run(hook, c.setup[i]);
    ASSERT_EQ(r.err, 0) << "setup frame " << i;
    ASSERT_EQ(r.retval, pass_verdict(hook)) << "setup frame " << i;
  }
  h.drain_events();
  Counters before = h.counters();
  uint64_t t0 = monotonic_ns();
  RunResult r = h.run(hook, c.frame, c.gso_segs);
  uint64_t t1 = monotonic_ns();
  ASSERT_EQ(r.err, 0) << "bpf_prog_test_run_opts";
  EXPECT_EQ(r.retval, pass_verdict(hook)) << "a tracer never changes the verdict";
  std::vector<RawEvent> events = h.drain_events();
  Counters after = h.counters();

  if (c.event) {
    ASSERT_EQ(events.size(), 1u) << "expected exactly one event";
    uint8_t family = c.event->saddr.find(':') == std::string::npos ? 4 : 6;
    check_event(events[0], *c.event, hook, family, t0, t1);
  } else {
    EXPECT_TRUE(events.empty()) << "expected no event, got " << events.size() << " (first kind "
                                << (events.empty() ? 0 : events[0].ev().kind) << ")";
  }
  for (int i = 0; i < RH_C_MAX; i++) {
    auto it = c.counters.find(i);
    uint64_t want = it != c.counters.end() ? it->second : (i == RH_C_PACKETS ? 1 : 0);
    EXPECT_EQ(after[static_cast<size_t>(i)] - before[static_cast<size_t>(i)], want) << "counter " << counter_name(i);
  }
  if (c.state) c.state(h);
}

}  // namespace rsthop::test
