// Reset records: bursts, duplicates across hooks, and the tracepoint + wire
// merge, on replayed connections.
#include <gtest/gtest.h>

#include "conn.h"
#include "tls_hello.h"

namespace rsthop::test {
namespace {

// What the burst's RSTs carried, in order.
std::vector<uint32_t> seqs(const flow::ResetRecord& r) {
  std::vector<uint32_t> v;
  for (const auto& e : r.wire_rsts()) v.push_back(e.seq);
  return v;
}
std::vector<uint8_t> ttls(const flow::ResetRecord& r) {
  std::vector<uint8_t> v;
  for (const auto& e : r.wire_rsts()) v.push_back(e.ttl);
  return v;
}

constexpr uint64_t kT0 = 10 * kSec;
constexpr uint64_t kBurst = flow::Timeline::Options{}.burst_ns;

// Handshake (rtt 2.5 ms) and the client's ClientHello; returns when it ends.
uint64_t establish_tls(Harness& h, Conn& c) {
  Bytes hello = openssl_client_hello("www.example.com");
  h.frame(kT0, c.c(kSyn));
  h.frame(kT0 + 2'500'000, c.s(kSynAck));
  h.frame(kT0 + 2'600'000, c.c(kAck));
  EXPECT_EQ(
      h.frame(kT0 + 3 * kMs, c.c(kData, std::string_view(reinterpret_cast<const char*>(hello.data()), hello.size()))),
      RH_EV_PAYLOAD);
  return kT0 + 3 * kMs;
}

// A RST "from the server" as an on-path box would forge it.
Bytes forged_rst(Conn& c, uint32_t seq, uint8_t ttl, uint16_t ip_id) {
  return c.builder(false, kRstAck).seq(seq).ttl(ttl).ip_id(ip_id).build();
}

TEST(Resets, ThreeRstsFromOneSenderWithinTheBurstAreOneRecord) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  uint32_t s = c.s_next;
  h.frame(t, forged_rst(c, s, 60, 1));
  h.frame(t + kMs, forged_rst(c, s + 1460, 61, 2));
  h.frame(t + 2 * kMs, forged_rst(c, s + 2920, 62, 3));
  h.timeline.tick(t + 2 * kMs + kBurst);
  EXPECT_TRUE(h.resets.empty());  // the burst may still grow
  h.timeline.tick(t + 2 * kMs + kBurst + 1);
  ASSERT_EQ(h.resets.size(), 1u);

  const flow::ResetRecord& r = h.resets[0];
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(seqs(r), (std::vector<uint32_t>{s, s + 1460, s + 2920}));
  EXPECT_EQ(ttls(r), (std::vector<uint8_t>{60, 61, 62}));
  EXPECT_EQ(r.first.ev.kind, RH_EV_RST);
  EXPECT_EQ(r.first.ev.seq, s);
  EXPECT_EQ(r.first.ev.ttl, 60);
  EXPECT_EQ(r.first.ev.ip_id, 1);
  EXPECT_EQ(r.first.ev.side, RH_SIDE_B);
  EXPECT_EQ(r.first.ev.ts_ns, t);
  EXPECT_TRUE(r.wire_seen);
  EXPECT_FALSE(r.local_reason);
  EXPECT_FALSE(r.local_receive);
  EXPECT_EQ(r.initiator, RH_SIDE_A);
  // What attribution compares the RST with.
  ASSERT_TRUE(r.synack);
  EXPECT_EQ(r.synack->kind, RH_EV_SYNACK);
  EXPECT_EQ(r.synack->ttl, 57);
  EXPECT_EQ(r.synack->ip_id, 7000);
  ASSERT_TRUE(r.rtt_ms);
  EXPECT_DOUBLE_EQ(*r.rtt_ms, 2.5);
  EXPECT_EQ(r.app.tls_sni, "www.example.com");
  ASSERT_TRUE(r.flow_state);
  EXPECT_EQ(r.flow_state->rst_count[1], 3u);
  EXPECT_EQ(r.flow_state->peer_ttl, 57);

  // The flow closes with it, by the destination.
  h.timeline.finish(t + 5 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].conn_state, "RSTR");
  EXPECT_EQ(h.flows[0].closed_by, "destination");
  EXPECT_EQ(h.flows[0].app.tls_sni, "www.example.com");
  EXPECT_EQ(h.resets.size(), 1u);
}

TEST(Resets, RstsFurtherApartThanTheBurstAreTwoRecords) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, forged_rst(c, c.s_next, 60, 1));
  h.frame(t + kBurst + 1, forged_rst(c, c.s_next + 1, 61, 2));
  EXPECT_EQ(h.resets.size(), 1u);  // the second RST closed the first burst
  h.timeline.tick(t + 2 * kBurst + 2);
  ASSERT_EQ(h.resets.size(), 2u);
  EXPECT_EQ(h.resets[0].count, 1u);
  EXPECT_EQ(ttls(h.resets[0]), std::vector<uint8_t>{60});
  EXPECT_EQ(h.resets[1].count, 1u);
  EXPECT_EQ(ttls(h.resets[1]), std::vector<uint8_t>{61});
  EXPECT_EQ(h.resets[1].first.ev.ts_ns, t + kBurst + 1);
}

TEST(Resets, ABurstOfOneKeepsItsRstOnlyInFirst) {
  // Most bursts are one RST: the record holds it once (no list), and
  // wire_rsts() still lists it; the second RST of a burst starts the list.
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, forged_rst(c, c.s_next, 60, 1));
  h.frame(t + kBurst + 1, forged_rst(c, c.s_next + 1, 61, 2));
  h.frame(t + kBurst + 2, forged_rst(c, c.s_next + 2, 62, 3));
  h.timeline.finish(t + 2 * kBurst + 3);
  ASSERT_EQ(h.resets.size(), 2u);
  EXPECT_TRUE(h.resets[0].rsts.empty());
  ASSERT_EQ(h.resets[0].wire_rsts().size(), 1u);
  EXPECT_EQ(h.resets[0].wire_rsts().data(), &h.resets[0].first.ev);
  EXPECT_EQ(h.resets[1].rsts.size(), 2u);
  EXPECT_EQ(seqs(h.resets[1]), (std::vector<uint32_t>{c.s_next + 1, c.s_next + 2}));
}

TEST(Resets, RstsFromBothSidesAreSeparateRecords) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, c.c(kRstAck));
  h.frame(t + kMs, c.s(kRst));
  h.timeline.finish(t + 2 * kMs);
  ASSERT_EQ(h.resets.size(), 2u);
  EXPECT_EQ(h.resets[0].first.ev.side, RH_SIDE_A);
  EXPECT_EQ(h.resets[1].first.ev.side, RH_SIDE_B);
  EXPECT_EQ(h.resets[0].count + h.resets[1].count, 2u);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].closed_by, "source");
  // Zeek: once the responder has reset, the connection is RSTR whoever reset first.
  EXPECT_EQ(h.flows[0].conn_state, "RSTR");
}

TEST(Resets, TheSameRstAtTwoHooksCountsOnce) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  Bytes rst = forged_rst(c, c.s_next, 60, 9);
  h.frame(t, rst, RH_HOOK_XDP);
  h.frame(t + 2000, rst, RH_HOOK_TC_INGRESS);
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].count, 1u);
  EXPECT_EQ(seqs(h.resets[0]).size(), 1u);
  EXPECT_EQ(h.resets[0].first.ev.hook, RH_HOOK_XDP);
}

TEST(Resets, EveryRstOfABurstSeenAtTwoHooksCountsOnce) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  for (uint32_t i = 0; i < 3; i++) {
    Bytes rst = forged_rst(c, c.s_next + i * 1000, static_cast<uint8_t>(60 + i), static_cast<uint16_t>(20 + i));
    h.frame(t + i * kMs, rst, RH_HOOK_XDP);
    h.frame(t + i * kMs + 2000, rst, RH_HOOK_TC_INGRESS);
  }
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].count, 3u);
  EXPECT_EQ(seqs(h.resets[0]), (std::vector<uint32_t>{c.s_next, c.s_next + 1000, c.s_next + 2000}));
  EXPECT_EQ(ttls(h.resets[0]), (std::vector<uint8_t>{60, 61, 62}));
}

TEST(Resets, IdenticalRstsAtOneHookAreAllCounted) {
  // A box repeating the very same RST is a burst, not a duplicate.
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  Bytes rst = forged_rst(c, c.s_next, 60, 9);
  h.frame(t, rst);
  h.frame(t + kMs, rst);
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].count, 2u);
}

TEST(Resets, LocalSendThenTheWireCopyIsOneRecord) {
  // This host is the server: the kernel decides to reset, then the RST leaves via tc egress.
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  offline::LocalReset lr;
  lr.ts_ns = t;
  lr.kind = RH_EV_LOCAL_RST_SEND;
  lr.local_addr = c.server16();
  lr.local_port = c.sport;
  lr.remote_addr = c.client16();
  lr.remote_port = c.cport;
  lr.reason = 5;
  h.local(lr);
  uint32_t seq = c.s_next;
  EXPECT_EQ(h.frame(t + 20'000, c.s(kRstAck), RH_HOOK_TC_EGRESS), RH_EV_RST);
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  const flow::ResetRecord& r = h.resets[0];
  EXPECT_EQ(r.count, 1u);
  ASSERT_TRUE(r.local_reason);
  EXPECT_EQ(*r.local_reason, 5);
  EXPECT_TRUE(r.wire_seen);
  EXPECT_FALSE(r.local_receive);
  EXPECT_EQ(r.first.ev.kind, RH_EV_RST);
  EXPECT_EQ(r.first.ev.hook, RH_HOOK_TC_EGRESS);
  EXPECT_EQ(r.first.ev.ts_ns, t + 20'000);
  EXPECT_EQ(r.first.ev.ttl, 57);
  EXPECT_EQ(seqs(r), std::vector<uint32_t>{seq});
  EXPECT_EQ(ttls(r), std::vector<uint8_t>{57});
  EXPECT_EQ(r.app.tls_sni, "www.example.com");
  ASSERT_TRUE(r.synack);
  EXPECT_EQ(r.synack->ttl, 57);
}

TEST(Resets, LocalReceiveAloneIsOneRecordWithoutTheWire) {
  // A firewall forged a RST into the client's socket via lo: no hook saw it.
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  offline::LocalReset lr;
  lr.ts_ns = t;
  lr.kind = RH_EV_LOCAL_RST_RECV;
  lr.local_addr = c.client16();
  lr.local_port = c.cport;
  lr.remote_addr = c.server16();
  lr.remote_port = c.sport;
  h.local(lr);
  h.timeline.tick(t + kBurst + 1);
  ASSERT_EQ(h.resets.size(), 1u);
  const flow::ResetRecord& r = h.resets[0];
  EXPECT_EQ(r.count, 1u);
  EXPECT_FALSE(r.wire_seen);
  EXPECT_TRUE(r.local_receive);
  EXPECT_FALSE(r.local_reason);
  EXPECT_TRUE(seqs(r).empty());
  EXPECT_TRUE(ttls(r).empty());
  EXPECT_EQ(r.first.ev.kind, RH_EV_LOCAL_RST_RECV);
  EXPECT_EQ(r.first.ev.side, RH_SIDE_B);  // the server's side sent it, as far as the socket knows
  EXPECT_EQ(r.first.ev.sport, c.sport);
  EXPECT_EQ(r.initiator, RH_SIDE_A);
  ASSERT_TRUE(r.rtt_ms);
  EXPECT_DOUBLE_EQ(*r.rtt_ms, 2.5);
  ASSERT_TRUE(r.synack);
  EXPECT_EQ(r.synack->ttl, 57);
  EXPECT_EQ(r.app.tls_sni, "www.example.com");
  ASSERT_TRUE(r.flow_state);
  EXPECT_EQ(r.flow_state->ts_syn, kT0);
}

TEST(Resets, WireRstThenLocalReceiveIsOneRecord) {
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, forged_rst(c, c.s_next, 60, 1), RH_HOOK_TC_INGRESS);
  offline::LocalReset lr;
  lr.ts_ns = t + 5000;
  lr.kind = RH_EV_LOCAL_RST_RECV;
  lr.local_addr = c.client16();
  lr.local_port = c.cport;
  lr.remote_addr = c.server16();
  lr.remote_port = c.sport;
  h.local(lr);
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].count, 1u);
  EXPECT_TRUE(h.resets[0].wire_seen);
  EXPECT_TRUE(h.resets[0].local_receive);
  EXPECT_EQ(h.resets[0].first.ev.kind, RH_EV_RST);
  EXPECT_EQ(ttls(h.resets[0]), std::vector<uint8_t>{60});
}

TEST(Resets, TheSocketsCgroupReachesTheResetAndTheFlow) {
  // The wire RST comes first, the socket's tracepoint (with its cgroup) after it.
  Harness h;
  Conn c;
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, forged_rst(c, c.s_next, 60, 1), RH_HOOK_TC_INGRESS);
  offline::LocalReset lr;
  lr.ts_ns = t + 5000;
  lr.kind = RH_EV_LOCAL_RST_RECV;
  lr.local_addr = c.client16();
  lr.local_port = c.cport;
  lr.remote_addr = c.server16();
  lr.remote_port = c.sport;
  flow::Packet p = h.replayer.feed(lr);
  rh_event_set_cgroup_id(&p.ev, 0x100000007ULL);
  EXPECT_EQ(rh_event_cgroup_id(&p.ev), 0x100000007ULL);
  h.timeline.add(p);
  h.timeline.finish(t + kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].cgroup_id, 0x100000007ULL);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].cgroup_id, 0x100000007ULL);
  // Without a tracepoint event the flow's cgroup is unknown.
  Harness wire_only;
  Conn d;
  t = establish_tls(wire_only, d) + 10 * kMs;
  wire_only.frame(t, forged_rst(d, d.s_next, 60, 1), RH_HOOK_TC_INGRESS);
  wire_only.timeline.finish(t + kSec);
  ASSERT_EQ(wire_only.resets.size(), 1u);
  EXPECT_EQ(wire_only.resets[0].cgroup_id, 0u);
  ASSERT_EQ(wire_only.flows.size(), 1u);
  EXPECT_EQ(wire_only.flows[0].cgroup_id, 0u);
}

TEST(Resets, RejectedSynCarriesNoSynAckAndNoRtt) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kRstAck));
  h.timeline.finish(2 * kSec);
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_FALSE(h.resets[0].synack);
  EXPECT_FALSE(h.resets[0].rtt_ms);
  EXPECT_EQ(h.resets[0].initiator, RH_SIDE_A);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].conn_state, "REJ");
  EXPECT_EQ(h.flows[0].history, "Sr");
  EXPECT_EQ(h.flows[0].closed_by, "destination");
}

// Seen hands a packet line the flow's memo once the flow has a record (not
// for its first packet); what the line puts there reaches the flow's reset
// record and its summary, so their lines do not hash the tuple again.
TEST(Resets, WhatAPacketLinePutsInTheFlowsMemoReachesItsResetAndFlowLines) {
  Harness h;
  Conn c;
  std::vector<flow::FlowMemo*> memos;
  h.seen = [&](const flow::Packet&, flow::FlowMemo* m) {
    memos.push_back(m);
    if (m && !m->community_id_len) {
      std::memcpy(m->community_id, "1:line", 6);
      m->community_id_len = 6;
    }
  };
  uint64_t t = establish_tls(h, c) + 10 * kMs;
  h.frame(t, forged_rst(c, c.s_next, 60, 1));
  h.timeline.tick(t + kBurst + 1);
  h.timeline.finish(t + 5 * kSec);
  ASSERT_EQ(memos.size(), 4u);   // SYN, SYN-ACK, the ClientHello, the RST (the bare ACK is no event)
  EXPECT_EQ(memos[0], nullptr);  // the SYN: no record yet
  for (size_t i = 1; i < memos.size(); i++) EXPECT_NE(memos[i], nullptr) << i;
  ASSERT_EQ(h.resets.size(), 1u);
  ASSERT_TRUE(h.resets[0].memo);
  EXPECT_EQ(std::string(h.resets[0].memo->community_id, h.resets[0].memo->community_id_len), "1:line");
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].memo, h.resets[0].memo);  // one memo for the flow's every line
}

// Without a line that filled it, a flow without resets hands no memo to its summary.
TEST(Resets, AFlowNoLineMemoisedHasNoMemo) {
  Harness h;
  Conn c;
  h.seen = [](const flow::Packet&, flow::FlowMemo*) {};
  establish_tls(h, c);
  h.timeline.finish(kT0 + 5 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].memo, nullptr);
}

}  // namespace
}  // namespace rsthop::test
