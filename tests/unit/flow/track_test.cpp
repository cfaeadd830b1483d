// bpf/track.h through the replay helper: the state the kernel keeps per flow
// and the events it decides to emit, on real frames.
#include <gtest/gtest.h>

#include <cstring>

#include "conn.h"
#include "replay.h"

namespace rsthop::test {
namespace {

using offline::Frame;
using offline::Replayer;

struct Tracked {
  Replayer r;
  // Feeds a frame, returns the event kind (0 when the kernel would stay silent).
  int feed(uint64_t ts, Bytes b, uint32_t segs = 1) {
    Frame f{ts, std::move(b), RH_HOOK_TC_INGRESS};
    f.segs = segs;
    auto p = r.feed(f);
    last = p;
    return p ? p->ev.kind : 0;
  }
  rh_flow_state state(const Conn& c) const {
    auto st = r.lookup(c.key());
    EXPECT_TRUE(st.has_value());
    return st.value_or(rh_flow_state{});
  }
  std::optional<flow::Packet> last;
};

TEST(Track, FullConnectionSetsTimestampsBaselinesAndCounters) {
  Conn c;  // 10.0.0.1 < 10.0.0.2: the client is side A
  Tracked t;
  const std::string req = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

  EXPECT_EQ(t.feed(1000, c.c(kSyn)), RH_EV_SYN);
  ASSERT_TRUE(t.last);
  EXPECT_EQ(t.last->ev.side, RH_SIDE_A);
  EXPECT_EQ(t.last->ev.flow.ts_syn, 1000u);  // ev.flow is the state after the packet
  EXPECT_EQ(t.last->ev.flow.ts_synack, 0u);
  EXPECT_EQ(t.last->ev.opts, RH_OPT_MSS | RH_OPT_SACK_PERM | RH_OPT_TIMESTAMP | RH_OPT_WSCALE);
  EXPECT_EQ(t.last->ev.mss, 1460);
  EXPECT_EQ(t.last->ev.wscale, 7);

  EXPECT_EQ(t.feed(2000, c.s(kSynAck)), RH_EV_SYNACK);
  EXPECT_EQ(t.last->ev.side, RH_SIDE_B);
  EXPECT_EQ(t.last->ev.ack, 1001u);
  EXPECT_EQ(t.feed(2500, c.c(kAck)), 0);  // the handshake's ACK: no event
  EXPECT_EQ(t.feed(3000, c.c(kData, req)), RH_EV_PAYLOAD);
  ASSERT_TRUE(t.last);
  EXPECT_EQ(std::string(t.last->data.begin(), t.last->data.end()), req);
  EXPECT_EQ(t.last->ev.snap_len, req.size());
  EXPECT_EQ(t.feed(3500, c.s(kAck)), 0);
  EXPECT_EQ(t.feed(4000, c.s(kData, resp)), RH_EV_PAYLOAD);
  EXPECT_EQ(t.last->ev.side, RH_SIDE_B);
  EXPECT_EQ(t.feed(5000, c.c(kFinAck)), RH_EV_FIN);
  EXPECT_EQ(t.feed(6000, c.s(kFinAck)), RH_EV_FIN);
  EXPECT_EQ(t.feed(7000, c.c(kAck)), 0);

  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.ts_syn, 1000u);
  EXPECT_EQ(st.ts_synack, 2000u);
  EXPECT_EQ(st.initiator, RH_SIDE_A);
  EXPECT_EQ(st.syn_seq, 1000u);
  EXPECT_EQ(st.ts_first_payload[0], 3000u);
  EXPECT_EQ(st.ts_first_payload[1], 4000u);
  EXPECT_EQ(st.ts_last_payload[0], 3000u);
  EXPECT_EQ(st.ts_fin[0], 5000u);
  EXPECT_EQ(st.ts_fin[1], 6000u);
  EXPECT_EQ(st.ts_rst[0], 0u);
  EXPECT_EQ(st.rst_count[0] + st.rst_count[1], 0u);
  EXPECT_EQ(st.bytes[0], req.size());
  EXPECT_EQ(st.bytes[1], resp.size());
  EXPECT_EQ(st.packets[0], 5u);  // SYN, ACK, data, FIN, last ACK
  EXPECT_EQ(st.packets[1], 4u);  // SYN-ACK, ACK, data, FIN
  EXPECT_EQ(st.seq_next[0], 1001u + req.size());
  EXPECT_EQ(st.seq_next[1], 500001u + resp.size());
  EXPECT_EQ(st.ack_last[0], 500001u + resp.size() + 1);  // after the server's FIN
  EXPECT_EQ(st.pure_ack, 0x3);                           // both sides sent a bare ACK
  EXPECT_EQ(st.history[0], RH_TCP_SYN | RH_TCP_ACK | RH_TCP_PSH | RH_TCP_FIN);
  EXPECT_EQ(st.history[1], RH_TCP_SYN | RH_TCP_ACK | RH_TCP_PSH | RH_TCP_FIN);
  // Baselines: the responder's SYN-ACK and the initiator's SYN.
  EXPECT_EQ(st.peer_ttl, 57);
  EXPECT_EQ(st.peer_ip_id, 7000);
  EXPECT_EQ(st.peer_window, 65160);
  EXPECT_EQ(0, std::memcmp(st.peer_mac, kServerMac.data(), 6));
  EXPECT_EQ(st.init_ttl, 64);
  EXPECT_EQ(st.init_ip_id, 100);
  EXPECT_EQ(st.init_window, 64240);
  EXPECT_EQ(0, std::memcmp(st.init_mac, kClientMac.data(), 6));
  EXPECT_EQ(t.r.counters().c[RH_C_FLOW_NEW], 1u);
  EXPECT_EQ(t.r.counters().c[RH_C_FLOW_MIDSTREAM], 0u);
  EXPECT_EQ(t.r.counters().c[RH_C_EVENTS], 6u);
}

TEST(Track, InitiatorOnSideBWhenTheClientHasTheLargerAddress) {
  Conn c;
  c.client = "10.0.0.20";
  c.server = "10.0.0.3";
  Tracked t;
  t.feed(1, c.c(kSyn));
  EXPECT_EQ(t.last->ev.side, RH_SIDE_B);
  t.feed(2, c.s(kSynAck));
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.initiator, RH_SIDE_B);
  EXPECT_EQ(st.packets[1], 1u);
  EXPECT_EQ(st.packets[0], 1u);
  EXPECT_EQ(st.seq_next[1], 1001u);
}

TEST(Track, SynAckAloneNamesTheOtherSideInitiator) {
  Conn c;
  Tracked t;
  c.c(kSyn);  // sent but never seen here
  EXPECT_EQ(t.feed(2000, c.s(kSynAck)), RH_EV_SYNACK);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.ts_syn, 0u);
  EXPECT_EQ(st.ts_synack, 2000u);
  EXPECT_EQ(st.initiator, RH_SIDE_A);
  EXPECT_EQ(st.peer_ttl, 57);
  // A handshake half seen is enough for the first payload event.
  t.feed(0, c.c(kAck));
  EXPECT_EQ(t.feed(3000, c.c(kData, "hello")), RH_EV_PAYLOAD);
}

TEST(Track, RstCountsPerSideAndKeepsTheLastTimestamp) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  EXPECT_EQ(t.feed(10, c.s(kRst)), RH_EV_RST);
  EXPECT_EQ(t.last->ev.flow.rst_count[1], 1u);
  EXPECT_EQ(t.feed(20, c.s(kRstAck)), RH_EV_RST);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.rst_count[1], 2u);
  EXPECT_EQ(st.rst_count[0], 0u);
  EXPECT_EQ(st.ts_rst[1], 20u);
  EXPECT_EQ(st.history[1], RH_TCP_SYN | RH_TCP_ACK | RH_TCP_RST);
  EXPECT_EQ(st.pure_ack, 0);  // RST|ACK is not a bare ACK
}

TEST(Track, NewSynWithAnotherIsnResetsTheState) {
  Conn c;
  Tracked t;
  t.feed(1000, c.c(kSyn));
  t.feed(2000, c.s(kSynAck));
  t.feed(3000, c.c(kData, "abc"));
  t.feed(4000, c.c(kRst));
  ASSERT_EQ(t.state(c).rst_count[0], 1u);

  Conn again = c;  // same tuple, new ISN
  again.c_next = 90000;
  again.s_next = 70000;
  EXPECT_EQ(t.feed(9000, again.c(kSyn)), RH_EV_SYN);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.ts_syn, 9000u);
  EXPECT_EQ(st.syn_seq, 90000u);
  EXPECT_EQ(st.ts_synack, 0u);
  EXPECT_EQ(st.rst_count[0], 0u);
  EXPECT_EQ(st.bytes[0], 0u);
  EXPECT_EQ(st.packets[0], 1u);
  EXPECT_EQ(st.packets[1], 0u);
  EXPECT_EQ(st.history[0], RH_TCP_SYN);
  EXPECT_EQ(st.ts_first_payload[0], 0u);
  // The new connection gets its own first-payload event.
  t.feed(9500, again.s(kSynAck));
  EXPECT_EQ(t.feed(9900, again.c(kData, "xyz")), RH_EV_PAYLOAD);
}

TEST(Track, RetransmittedSynKeepsTheFirstTimestamp) {
  Conn c;
  Tracked t;
  Bytes syn = c.c(kSyn);
  t.feed(1000, syn);
  EXPECT_EQ(t.feed(2000, syn), RH_EV_SYN);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.ts_syn, 1000u);
  EXPECT_EQ(st.packets[0], 2u);
}

TEST(Track, FirstPayloadEventOnlyOncePerDirection) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  EXPECT_EQ(t.feed(10, c.c(kData, "first")), RH_EV_PAYLOAD);
  EXPECT_EQ(t.feed(20, c.c(kData, "second")), 0);
  EXPECT_EQ(t.feed(30, c.s(kData, "reply")), RH_EV_PAYLOAD);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.ts_first_payload[0], 10u);
  EXPECT_EQ(st.ts_last_payload[0], 20u);
  EXPECT_EQ(st.bytes[0], 11u);
  EXPECT_EQ(st.seq_next[0], 1001u + 11);
}

// Each direction's first payload is an event even mid-stream: a data-only
// connection must leave something for the timeline to summarise.
TEST(Track, MidStreamFlowGivesOnePayloadEventPerDirection) {
  Conn c;
  Tracked t;
  EXPECT_EQ(t.feed(10, c.c(kData, "GET / HTTP/1.1\r\n\r\n")), RH_EV_PAYLOAD);
  EXPECT_EQ(t.feed(20, c.s(kData, "HTTP/1.1 200 OK\r\n\r\n")), RH_EV_PAYLOAD);
  EXPECT_EQ(t.feed(25, c.c(kData, "more")), 0);
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.initiator, RH_SIDE_UNKNOWN);
  EXPECT_EQ(st.bytes[0], 22u);
  EXPECT_EQ(st.ts_first_payload[0], 10u);
  EXPECT_EQ(t.r.counters().c[RH_C_FLOW_MIDSTREAM], 1u);
  EXPECT_EQ(t.r.counters().c[RH_C_EVENTS], 2u);
  EXPECT_EQ(t.feed(30, c.c(kFinAck)), RH_EV_FIN);
}

TEST(Track, RetransmissionDoesNotMoveSeqNextBack) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  Conn before = c;
  t.feed(3, c.c(kData, "0123456789"));
  t.feed(4, before.c(kData, "0123456789"));  // same segment again
  rh_flow_state st = t.state(c);
  EXPECT_EQ(st.seq_next[0], 1011u);
  EXPECT_EQ(st.bytes[0], 20u);  // bytes count what crossed the wire
}

TEST(Track, GsoSegmentsCountAsPackets) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  t.feed(3, c.c(kData, std::string(3000, 'x')), 3);
  EXPECT_EQ(t.state(c).packets[0], 4u);
}

TEST(Track, PayloadSnapshotIsCappedAtTheDataSnapMax) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  EXPECT_EQ(t.feed(3, c.c(kData, std::string(1400, 'y'))), RH_EV_PAYLOAD);
  EXPECT_EQ(t.last->data.size(), size_t{RH_DATA_SNAP_MAX});
  EXPECT_EQ(t.last->ev.payload_len, 1400);
  EXPECT_EQ(t.r.counters().c[RH_C_SNAP_TRUNCATED], 0u);  // capped, not cut
}

TEST(Track, RstPayloadIsCopiedIntoTheEvent) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  t.feed(2, c.s(kSynAck));
  EXPECT_EQ(t.feed(3, c.s(kRstAck, "blocked by policy 42")), RH_EV_RST);
  EXPECT_EQ(t.last->ev.snap_len, 20);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.last->ev.payload), 20), "blocked by policy 42");
}

TEST(Track, MalformedFramesAreCountedByCause) {
  Conn c;
  Tracked t;
  Bytes syn = c.c(kSyn);
  EXPECT_EQ(t.feed(1, truncate(syn, 20)), 0);            // Ethernet + 6 bytes of IPv4
  EXPECT_EQ(t.feed(2, truncate(syn, 14 + 20 + 10)), 0);  // TCP header cut
  EXPECT_EQ(t.r.counters().c[RH_C_TRUNC_L3], 1u);
  EXPECT_EQ(t.r.counters().c[RH_C_TRUNC_L4], 1u);
  EXPECT_EQ(t.r.flow_count(), 0u);
}

TEST(Track, IcmpErrorNamesTheQuotedFlow) {
  Conn c;
  Tracked t;
  t.feed(1, c.c(kSyn));
  Bytes quote = PacketBuilder().ipv4(c.client, c.server).ttl(1).tcp(c.cport, c.sport).seq(1000).flags(kSyn).build_l3();
  EXPECT_EQ(t.feed(5, PacketBuilder().eth().ipv4("192.0.2.1", c.client).icmp_time_exceeded(quote).build()), RH_EV_ICMP);
  const rh_event& ev = t.last->ev;
  EXPECT_EQ(ev.icmp_type, 11);
  EXPECT_EQ(ev.inner_ttl, 1);
  EXPECT_EQ(ev.inner_seq, 1000u);
  EXPECT_EQ(ev.side, RH_SIDE_A);
  EXPECT_EQ(ev.flow.ts_syn, 1u);  // the flow existed: its state is attached
  EXPECT_EQ(ev.key.port_a, c.cport);
}

}  // namespace
}  // namespace rsthop::test
