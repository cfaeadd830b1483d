// The Tracker's own duties beyond the replay suites (which check its events
// against the kernel's): the --host / --port filter with the kernel's
// semantics, and the bounded LRU flow table.
#include <gtest/gtest.h>

#include "bpf/flow_key.h"
#include "conversation.h"
#include "pcap/tracker.h"

namespace rsthop::test {
namespace {

using pcap::Tracker;

std::vector<flow::Packet> run(Tracker& t, const std::vector<Bytes>& l3) {
  std::vector<flow::Packet> out;
  uint64_t ts = kT0, frame = 1;
  for (const Bytes& b : l3) {
    if (auto p = t.feed(b, {ts, RH_HOOK_PCAP, 0, false, 1, frame})) out.push_back(std::move(*p));
    ts += kStep;
    frame++;
  }
  return out;
}

Tracker::Options with_filter(std::vector<std::string> hosts, std::vector<uint16_t> ports) {
  Tracker::Options o;
  for (const auto& h : hosts) o.filter.hosts.push_back(parse_cidr(h).value());
  o.filter.ports = std::move(ports);
  return o;
}

TEST(TrackerFilter, PortOnEitherSide) {
  for (uint16_t port : {443, 40000}) {
    Tracker t(with_filter({}, {port}));
    EXPECT_EQ(run(t, conversation(conv_v4())).size(), 5u) << port;
    EXPECT_EQ(t.counters().c[RH_C_FILTERED], 0u);
  }
  Tracker t(with_filter({}, {80, 8080}));
  EXPECT_TRUE(run(t, conversation(conv_v4())).empty());
  EXPECT_EQ(t.counters().c[RH_C_FILTERED], 6u);  // ICMP errors are filtered on the quoted tuple
  EXPECT_EQ(t.counters().c[RH_C_TCP], 5u);       // parsed first, then filtered, as in the kernel
  EXPECT_EQ(t.flow_count(), 0u);
}

TEST(TrackerFilter, AddressOfEitherSideInACidr) {
  for (const char* h : {"10.0.0.1", "10.0.0.2/32", "10.0.0.0/24"}) {
    Tracker t(with_filter({h}, {}));
    EXPECT_EQ(run(t, conversation(conv_v4())).size(), 5u) << h;
  }
  Tracker t(with_filter({"10.0.1.0/24", "2001:db8::/32"}, {}));
  EXPECT_TRUE(run(t, conversation(conv_v4())).empty());
  EXPECT_EQ(run(t, conversation(conv_v6())).size(), 5u);
}

TEST(TrackerFilter, HostsAndPortsMustBothMatch) {
  Tracker t(with_filter({"10.0.0.0/24"}, {80}));
  EXPECT_TRUE(run(t, conversation(conv_v4())).empty());
}

TEST(TrackerFlowTable, LeastRecentlyUsedFlowIsEvictedAndCounted) {
  Tracker::Options o;
  o.max_flows = 2;
  Tracker t(o);
  auto syn = [](uint16_t sport) {
    return PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(sport, 443).flags(kSyn).seq(sport).build_l3();
  };
  auto key = [](uint16_t sport) {
    rh_flow_key k;
    auto a = addr16("10.0.0.1"), b = addr16("10.0.0.2");
    rh_flow_key_make(&k, 4, a.data(), sport, b.data(), 443);
    return k;
  };
  run(t, {syn(1001), syn(1002)});
  run(t, {PacketBuilder().ipv4("10.0.0.2", "10.0.0.1").tcp(443, 1001).flags(kSyn | kAck).ack(1002).build_l3()});
  run(t, {syn(1003)});  // the table is full: 1002 is the least recently used
  EXPECT_EQ(t.flow_count(), 2u);
  EXPECT_TRUE(t.lookup(key(1001)));
  EXPECT_FALSE(t.lookup(key(1002)));
  EXPECT_TRUE(t.lookup(key(1003)));
  EXPECT_EQ(t.counters().c[RH_C_LOST_FLOW_TABLE], 1u);
  EXPECT_EQ(t.counters().c[RH_C_FLOW_NEW], 3u);
}

// The order before the first eviction (use stamps) and after it (the list it threads) is one LRU order.
TEST(TrackerFlowTable, EvictionOrderHoldsBeforeAndAfterTheFirstEviction) {
  Tracker::Options o;
  o.max_flows = 3;
  Tracker t(o);
  auto syn = [](uint16_t sport) {
    return PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(sport, 443).flags(kSyn).seq(sport).build_l3();
  };
  auto ack = [](uint16_t sport) {
    return PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").tcp(sport, 443).flags(kAck).seq(sport + 1).build_l3();
  };
  auto has = [&t](uint16_t sport) {
    rh_flow_key k;
    auto a = addr16("10.0.0.1"), b = addr16("10.0.0.2");
    rh_flow_key_make(&k, 4, a.data(), sport, b.data(), 443);
    return t.lookup(k).has_value();
  };
  run(t, {syn(1001), syn(1002), syn(1003), ack(1001), ack(1002)});  // 1003 is the least recently used
  run(t, {syn(1004)});                                              // the first eviction
  EXPECT_FALSE(has(1003));
  EXPECT_TRUE(has(1001) && has(1002) && has(1004));
  run(t, {ack(1001)});  // the order now: 1001, 1004, 1002
  run(t, {syn(1005)});
  EXPECT_FALSE(has(1002));
  run(t, {syn(1006)});
  EXPECT_FALSE(has(1004));
  EXPECT_TRUE(has(1001) && has(1005) && has(1006));
  EXPECT_EQ(t.counters().c[RH_C_LOST_FLOW_TABLE], 3u);
}

TEST(TrackerClock, CaptureTimeIsTheEventTime) {
  Tracker t;
  auto ev = run(t, conversation(conv_v4()));
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].ev.ts_ns, kT0);
  EXPECT_EQ(ev[0].ev.flow.ts_syn, kT0);
  EXPECT_EQ(ev[1].ev.flow.ts_synack, kT0 + kStep);
  EXPECT_EQ(ev[4].ev.ts_ns, kT0 + 5 * kStep);
  EXPECT_EQ(ev[4].frame, 6u);
  // Time 0 (a capture from 1970) still marks the SYN as seen.
  Tracker z;
  auto p = z.feed(conversation(conv_v4())[0], {0, RH_HOOK_PCAP, 0, false, 1, 1});
  ASSERT_TRUE(p);
  EXPECT_NE(p->ev.flow.ts_syn, 0u);
}

}  // namespace
}  // namespace rsthop::test
