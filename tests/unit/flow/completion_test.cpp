// flow::FlowCompletion: events decoded from compact ring records (bpf/record.h)
// get the once-per-connection fields of their flow from the earlier events that
// delivered them; what was never delivered stays zero.  The Timeline keeps one
// per flow in its own entry and completes each packet before anyone reads it.
#include "flow/completion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "bpf/record.h"
#include "flow/timeline.h"

namespace rsthop::flow {
namespace {

constexpr uint8_t kA = RH_SIDE_A, kB = RH_SIDE_B;

// A connection's events as rh_record_decode() leaves them: the record's
// summary (counters) plus what the event itself tells.
struct Conn {
  rh_flow_state st{};  // the kernel's state, advanced by each event below
  uint64_t now = 1'000'000;
  Conn() { st.initiator = RH_SIDE_UNKNOWN; }

  rh_event event(uint8_t kind, uint8_t side, bool first, uint8_t flags = RH_FLOW_STATE) {
    rh_record rec{};
    auto* head = reinterpret_cast<rh_event*>(&rec);
    head->ts_ns = now;
    head->kind = kind;
    head->side = side;
    head->family = 4;
    head->saddr[10] = head->saddr[11] = 0xff;
    head->daddr[10] = head->daddr[11] = 0xff;
    head->saddr[15] = side == kA ? 1 : 2;
    head->daddr[15] = side == kA ? 2 : 1;
    head->sport = side == kA ? 40000 : 443;
    head->dport = side == kA ? 443 : 40000;
    head->ttl = side == kA ? 64 : 57;
    head->ip_id = side == kA ? 0x1234 : 0x4321;
    head->window = side == kA ? 64240 : 65160;
    head->smac[5] = side == kA ? 0xaa : 0xbb;
    head->flow_flags = flags | (first ? RH_FLOW_FIRST : 0);
    rec.flow.ts_syn = st.ts_syn;
    std::memcpy(rec.flow.bytes, st.bytes, RH_FLOW_SUM_COUNTERS);
    rec.flow.initiator = st.initiator;
    rh_event ev;
    const __u8* data = nullptr;
    size_t n = 0;
    std::vector<uint8_t> buf(kind == RH_EV_PAYLOAD ? sizeof(rh_data_event)
                             : kind == RH_EV_ICMP  ? RH_REC_SIZE_ICMP
                                                   : RH_REC_SIZE_BASE);
    std::memcpy(buf.data(), &rec, std::min(buf.size(), sizeof(rec)));
    EXPECT_EQ(rh_record_decode(buf.data(), buf.size(), &ev, &data, &n), 0);
    return ev;
  }
  // The kernel side of each packet (what rh_track would do for these fields).
  rh_event syn() {
    st.ts_syn = now;
    st.syn_seq = 1000;
    st.initiator = kA;
    st.packets[kA]++;
    return event(RH_EV_SYN, kA, true);
  }
  rh_event synack(bool first = true) {
    st.packets[kB]++;
    return event(RH_EV_SYNACK, kB, first);
  }
  rh_event payload(uint8_t side) {
    st.packets[side]++;
    st.bytes[side] += 100;
    return event(RH_EV_PAYLOAD, side, true);
  }
  rh_event fin(uint8_t side) {
    st.packets[side]++;
    return event(RH_EV_FIN, side, true);
  }
  rh_event rst(uint8_t side) {
    st.packets[side]++;
    st.rst_count[side]++;
    return event(RH_EV_RST, side, false);
  }
  void tick() { now += 1000; }
};

TEST(FlowCompletion, LaterEventsGetWhatEarlierOnesDelivered) {
  Conn c;
  FlowCompletion fc;
  rh_event e = c.syn();
  const uint64_t t_syn = c.now;
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_syn, t_syn);
  EXPECT_EQ(e.flow.init_ttl, 64);
  c.tick();
  e = c.synack();
  const uint64_t t_synack = c.now;
  fc.complete(e);
  EXPECT_EQ(e.flow.init_window, 64240) << "the SYN's baseline, from the SYN event";
  c.tick();
  e = c.payload(kA);
  const uint64_t t_pay = c.now;
  fc.complete(e);
  c.tick();
  e = c.fin(kA);
  const uint64_t t_fin = c.now;
  fc.complete(e);
  c.tick();
  e = c.rst(kB);
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_syn, t_syn);
  EXPECT_EQ(e.flow.ts_synack, t_synack);
  EXPECT_EQ(e.flow.ts_first_payload[kA], t_pay);
  EXPECT_EQ(e.flow.ts_first_payload[kB], 0u);
  EXPECT_EQ(e.flow.ts_fin[kA], t_fin);
  EXPECT_EQ(e.flow.ts_rst[kB], c.now);
  EXPECT_EQ(e.flow.ts_rst[kA], 0u);
  EXPECT_EQ(e.flow.init_ttl, 64);
  EXPECT_EQ(e.flow.init_ip_id, 0x1234);
  EXPECT_EQ(e.flow.peer_ttl, 57);
  EXPECT_EQ(e.flow.peer_ip_id, 0x4321);
  EXPECT_EQ(e.flow.peer_window, 65160);
  EXPECT_EQ(e.flow.peer_mac[5], 0xbb);
  EXPECT_EQ(e.flow.init_mac[5], 0xaa);
  EXPECT_EQ(e.flow.packets[kA], 3u);
  EXPECT_EQ(e.flow.packets[kB], 2u);
  EXPECT_EQ(e.flow.bytes[kA], 100u);
  EXPECT_EQ(e.flow.rst_count[kB], 1u);
  EXPECT_EQ(e.flow.syn_seq, 1000u);
}

TEST(FlowCompletion, ALostEventLeavesZerosNotALaterGuess) {
  Conn c;
  FlowCompletion fc;
  rh_event e = c.syn();
  fc.complete(e);
  c.tick();
  (void)c.synack();  // lost to a full ring: never completed
  c.tick();
  e = c.synack(false);  // a retransmission: not the first SYN-ACK
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_synack, 0u);
  EXPECT_EQ(e.flow.peer_ttl, 0);
  c.tick();
  e = c.rst(kB);
  fc.complete(e);
  c.tick();
  (void)c.rst(kB);  // lost
  c.tick();
  e = c.rst(kA);
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_rst[kA], c.now);
  EXPECT_EQ(e.flow.ts_rst[kB], 0u) << "B's last RST was not seen: unknown, not the earlier one";
  EXPECT_EQ(e.flow.ts_synack, 0u);
}

TEST(FlowCompletion, APortReuseForgetsTheEarlierConnection) {
  Conn c;
  FlowCompletion fc;
  rh_event e = c.syn();
  fc.complete(e);
  c.tick();
  e = c.synack();
  fc.complete(e);
  c.tick();
  e = c.fin(kA);
  fc.complete(e);
  // The kernel resets the entry on a SYN with another ISN.
  c.tick();
  c.st = rh_flow_state{};
  e = c.syn();
  c.st.syn_seq = 5000;
  e.flow.syn_seq = 5000;
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_synack, 0u);
  EXPECT_EQ(e.flow.ts_fin[kA], 0u);
  EXPECT_EQ(e.flow.peer_ttl, 0);
  EXPECT_EQ(e.flow.init_ttl, 64);
}

TEST(FlowCompletion, ANewTableEntryMidStreamForgetsTheOldOne) {
  Conn c;
  FlowCompletion fc;
  for (int i = 0; i < 20; i++) c.st.packets[kA]++;
  rh_event e = c.fin(kA);
  fc.complete(e);
  EXPECT_NE(e.flow.ts_fin[kA], 0u);
  c.tick();
  c.st = rh_flow_state{};  // the kernel's LRU forgot the flow; a later packet starts a new entry
  c.st.initiator = RH_SIDE_UNKNOWN;
  e = c.rst(kB);
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_fin[kA], 0u);
}

TEST(FlowCompletion, WithoutAStateTheFlowStaysZero) {
  Conn c;
  FlowCompletion fc;
  rh_event e = c.syn();
  fc.complete(e);
  // An ICMP error whose flow the table did not hold: the summary bytes are whatever the ring held.
  rh_event icmp = c.event(RH_EV_ICMP, kA, false, 0);
  fc.complete(icmp);
  static const rh_flow_state zero{};
  EXPECT_EQ(std::memcmp(&icmp.flow, &zero, sizeof(zero)), 0);
}

TEST(FlowCompletion, AWholeEventIsLeftAsItIs) {
  Conn c;
  FlowCompletion fc;
  rh_event e = c.syn();
  fc.complete(e);
  c.tick();
  e = c.synack();
  fc.complete(e);
  c.tick();
  // The offline Tracker's events carry the whole state: its fields win over what was learned.
  e = c.fin(kA);
  e.flow.ts_synack = 42;
  e.flow.peer_ttl = 9;
  fc.complete(e);
  EXPECT_EQ(e.flow.ts_synack, 42u);
  EXPECT_EQ(e.flow.peer_ttl, 9);
  EXPECT_EQ(e.flow.peer_window, 0) << "a baseline the event carries is not mixed with the learned one";
  EXPECT_EQ(e.flow.init_ttl, 64);
}

// The Timeline completes each packet in place from its flow's entry, before `seen` and before the
// reset record is made.
struct Lines {
  std::vector<ResetRecord> resets;
  std::vector<FlowSummary> flows;
  Timeline tl{Timeline::Options{.idle_timeout_ns = 1'000'000'000ULL},
              Timeline::Callbacks{[this](const FlowSummary& f) { flows.push_back(f); },
                                  [this](const ResetRecord& r) { resets.push_back(r); }}};
  rh_event add(const rh_event& ev) {
    Packet p;
    p.ev = ev;
    rh_event seen{};
    tl.add(p, [&](const Packet& q, FlowMemo*) { seen = q.ev; });
    EXPECT_EQ(std::memcmp(&seen, &p.ev, sizeof(seen)), 0) << "seen gets the completed packet";
    return p.ev;
  }
};

TEST(FlowCompletion, TheTimelineCompletesFromItsOwnEntry) {
  Conn c;
  Lines run;
  run.add(c.syn());
  c.tick();
  run.add(c.synack());
  const uint64_t t_synack = c.now;
  c.tick();
  run.add(c.payload(kA));
  c.tick();
  rh_event e = run.add(c.rst(kB));
  EXPECT_EQ(e.flow.ts_synack, t_synack);
  EXPECT_EQ(e.flow.init_ttl, 64);
  EXPECT_EQ(e.flow.peer_ttl, 57);
  run.tl.finish(c.now + 10'000'000'000ULL);
  ASSERT_EQ(run.resets.size(), 1u);
  ASSERT_TRUE(run.resets[0].flow_state);
  EXPECT_EQ(run.resets[0].flow_state->ts_synack, t_synack);
  ASSERT_EQ(run.flows.size(), 1u);
  EXPECT_TRUE(run.flows[0].handshake_seen);
}

TEST(FlowCompletion, ARstAfterTheFlowsSummaryIsStillCompleted) {
  Conn c;
  Lines run;
  run.add(c.syn());
  c.tick();
  run.add(c.synack());
  const uint64_t t_synack = c.now;
  c.tick();
  run.add(c.fin(kA));
  c.tick();
  run.add(c.rst(kA));
  // The flow is summarised (closed or idle), its completion kept with the summary.
  c.now += 2'000'000'000ULL;
  run.tl.tick(c.now);
  ASSERT_EQ(run.flows.size(), 1u);
  EXPECT_EQ(run.tl.active_flows(), 0u);
  c.tick();
  rh_event e = run.add(c.rst(kB));
  EXPECT_EQ(e.flow.ts_synack, t_synack);
  EXPECT_NE(e.flow.ts_fin[kA], 0u);
  run.tl.finish(c.now + 10'000'000'000ULL);
  ASSERT_EQ(run.resets.size(), 2u);
  ASSERT_TRUE(run.resets[1].flow_state);
  EXPECT_EQ(run.resets[1].flow_state->ts_synack, t_synack);
}

TEST(FlowCompletion, AFlowFirstSeenMidStreamGetsZeros) {
  Conn c;
  Lines run;
  (void)c.syn();  // before the trace started
  c.tick();
  (void)c.synack();
  c.tick();
  rh_event e = run.add(c.rst(kB));
  EXPECT_EQ(e.flow.ts_synack, 0u);
  EXPECT_EQ(e.flow.init_ttl, 0);
  EXPECT_EQ(e.flow.peer_ttl, 0);
  EXPECT_EQ(e.flow.ts_rst[kB], c.now);
}

}  // namespace
}  // namespace rsthop::flow
