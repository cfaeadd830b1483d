// The Timeline on replayed connections: when each flow summary comes out, what
// it says, and how the table stays bounded.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "conn.h"

namespace rsthop::test {
namespace {

const std::string kReq = "GET /index.html HTTP/1.1\r\nHost: www.example.org:8080\r\n\r\n";
const std::string kResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

// A complete HTTP exchange, the client closing first; returns the last FIN time.
uint64_t complete(Harness& h, Conn& c, uint64_t t0, bool client_closes = true) {
  h.frame(t0, c.c(kSyn));
  h.frame(t0 + 2'500'000, c.s(kSynAck));  // rtt 2.5 ms
  h.frame(t0 + 2'600'000, c.c(kAck));
  h.frame(t0 + 3 * kMs, c.c(kData, kReq));
  h.frame(t0 + 4 * kMs, c.s(kAck));
  h.frame(t0 + 5 * kMs, c.s(kData, kResp));
  if (client_closes) {
    h.frame(t0 + 6 * kMs, c.c(kFinAck));
    h.frame(t0 + 7 * kMs, c.s(kFinAck));
    h.frame(t0 + 7'100'000, c.c(kAck));
  } else {
    h.frame(t0 + 6 * kMs, c.s(kFinAck));
    h.frame(t0 + 7 * kMs, c.c(kFinAck));
    h.frame(t0 + 7'100'000, c.s(kAck));
  }
  return t0 + 7 * kMs;
}

TEST(Timeline, SummaryComesOutAfterCloseLingerNotBefore) {
  Harness h;
  Conn c;
  uint64_t t0 = 100 * kSec;
  uint64_t closed = complete(h, c, t0);
  h.timeline.tick(closed);
  h.timeline.tick(closed + flow::Timeline::Options{}.close_linger_ns);
  EXPECT_TRUE(h.flows.empty());
  EXPECT_EQ(h.timeline.active_flows(), 1u);
  h.timeline.tick(closed + flow::Timeline::Options{}.close_linger_ns + 1);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.timeline.active_flows(), 0u);

  const flow::FlowSummary& f = h.flows[0];
  EXPECT_EQ(f.conn_state, "SF");
  EXPECT_EQ(f.history, "ShADadFf");  // Zeek's order: each letter at its first packet
  EXPECT_EQ(f.closed_by, "source");
  EXPECT_TRUE(f.handshake_seen);
  ASSERT_TRUE(f.rtt_ms);
  EXPECT_DOUBLE_EQ(*f.rtt_ms, 2.5);
  EXPECT_EQ(f.family, 4);
  EXPECT_EQ(f.ifindex, 1u);
  EXPECT_EQ(f.source.ip, c.client16());
  EXPECT_EQ(f.source.port, 40000);
  EXPECT_EQ(f.destination.ip, c.server16());
  EXPECT_EQ(f.destination.port, 443);
  ASSERT_TRUE(f.source.mac);
  EXPECT_EQ(*f.source.mac, kClientMac);
  ASSERT_TRUE(f.destination.mac);
  EXPECT_EQ(*f.destination.mac, kServerMac);
  // The lookup refreshed the counters with the final ACK.
  EXPECT_EQ(f.source.bytes, kReq.size());
  EXPECT_EQ(f.destination.bytes, kResp.size());
  EXPECT_EQ(f.source.packets, 5u);
  EXPECT_EQ(f.destination.packets, 4u);
  EXPECT_EQ(f.start_ns, t0);
  EXPECT_EQ(f.end_ns, closed);  // the last event; bare ACKs have no timestamp
  EXPECT_EQ(f.app.http_host, "www.example.org");
  EXPECT_EQ(f.app.http_request, "GET /index.html HTTP/1.1");
  EXPECT_TRUE(f.app.tls_sni.empty());
  EXPECT_TRUE(h.resets.empty());

  h.timeline.finish(closed + 10 * kSec);
  EXPECT_EQ(h.flows.size(), 1u);  // nothing left to emit
}

TEST(Timeline, ClosedByDestinationWhenTheServerFinsFirst) {
  Harness h;
  Conn c;
  uint64_t closed = complete(h, c, kSec, /*client_closes=*/false);
  h.timeline.tick(closed + 2 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].closed_by, "destination");
  EXPECT_EQ(h.flows[0].history, "ShADadfF");
  EXPECT_EQ(h.flows[0].conn_state, "SF");
}

TEST(Timeline, IdleFlowTimesOut) {
  flow::Timeline::Options opt;
  opt.idle_timeout_ns = 60 * kSec;
  Harness h(opt);
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 2 * kMs, c.c(kAck));
  h.frame(kSec + 3 * kMs, c.c(kData, "ping"));
  uint64_t last = kSec + 3 * kMs;
  h.timeline.tick(last + 60 * kSec);
  EXPECT_TRUE(h.flows.empty());
  h.timeline.tick(last + 60 * kSec + 1);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].closed_by, "timeout");
  EXPECT_EQ(h.flows[0].conn_state, "S1");
  EXPECT_EQ(h.flows[0].history, "ShAD");
  EXPECT_EQ(h.flows[0].end_ns, last);
}

TEST(Timeline, IdleCheckAsksTheKernelForNewerActivity) {
  flow::Timeline::Options opt;
  opt.idle_timeout_ns = 60 * kSec;
  Harness h(opt);
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 2 * kMs, c.c(kData, "first"));
  // More data the kernel saw without an event, 50 s later.
  EXPECT_EQ(h.frame(51 * kSec, c.c(kData, "more")), 0);
  h.timeline.tick(kSec + 2 * kMs + 60 * kSec + 1);
  EXPECT_TRUE(h.flows.empty());
  EXPECT_GT(h.lookups, 0);
  h.timeline.tick(51 * kSec + 60 * kSec + 1);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].closed_by, "timeout");
  EXPECT_EQ(h.flows[0].source.bytes, 9u);
}

TEST(Timeline, FinishEmitsOpenFlowsAsTraceEnd) {
  Harness h;
  Conn open;
  Conn closing;
  closing.cport = 40001;
  h.frame(kSec, open.c(kSyn));
  h.frame(kSec + kMs, open.s(kSynAck));
  h.frame(kSec, closing.c(kSyn));
  h.frame(kSec + kMs, closing.s(kSynAck));
  h.frame(kSec + 2 * kMs, closing.s(kRstAck));  // closed, still lingering at finish
  h.timeline.finish(kSec + 3 * kMs);
  ASSERT_EQ(h.flows.size(), 2u);
  std::map<uint16_t, flow::FlowSummary> by_port;
  for (auto& f : h.flows) by_port[f.source.port] = f;
  EXPECT_EQ(by_port.at(40000).closed_by, "trace_end");
  EXPECT_EQ(by_port.at(40000).conn_state, "S1");
  EXPECT_EQ(by_port.at(40001).closed_by, "destination");
  EXPECT_EQ(by_port.at(40001).conn_state, "RSTR");
  EXPECT_EQ(h.timeline.active_flows(), 0u);
  // The reset record is flushed too.
  ASSERT_EQ(h.resets.size(), 1u);
  EXPECT_EQ(h.resets[0].first.ev.sport, 443);
}

TEST(Timeline, SourceIsTheInitiatorEvenWhenTheFirstEventIsTheSynAck) {
  // The client has the larger address (side B) and its SYN event is lost.
  Conn c;
  c.client = "10.0.0.20";
  c.server = "10.0.0.3";
  Harness h;
  auto syn = h.replayer.feed(offline::Frame{kSec, c.c(kSyn)});
  ASSERT_TRUE(syn);  // the kernel tracked it; the ring buffer dropped the event
  h.frame(kSec + 4 * kMs, c.s(kSynAck));
  h.frame(kSec + 5 * kMs, c.c(kAck));
  h.timeline.finish(kSec + 10 * kMs);
  ASSERT_EQ(h.flows.size(), 1u);
  const flow::FlowSummary& f = h.flows[0];
  EXPECT_EQ(f.source.ip, c.client16());
  EXPECT_EQ(f.source.port, c.cport);
  EXPECT_EQ(f.destination.port, c.sport);
  EXPECT_EQ(f.start_ns, kSec);  // the SYN's time, from the state
  ASSERT_TRUE(f.rtt_ms);
  EXPECT_DOUBLE_EQ(*f.rtt_ms, 4.0);
  EXPECT_EQ(f.history, "ShA");
  EXPECT_EQ(f.closed_by, "trace_end");
}

TEST(Timeline, SourceFromTheSynAckWhenNoSynWasEverSeen) {
  Conn c;
  c.client = "10.0.0.20";
  c.server = "10.0.0.3";
  Harness h;
  c.c(kSyn);  // before the trace started
  h.frame(kSec, c.s(kSynAck));
  h.timeline.finish(2 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].source.port, c.cport);
  EXPECT_EQ(h.flows[0].source.ip, c.client16());
  EXPECT_FALSE(h.flows[0].rtt_ms);
  EXPECT_FALSE(h.flows[0].handshake_seen);
}

TEST(Timeline, StateLookupRefreshesCountersAtTheEnd) {
  for (bool with_lookup : {false, true}) {
    SCOPED_TRACE(with_lookup ? "with lookup" : "without lookup");
    Harness h({}, with_lookup);
    Conn c;
    h.frame(kSec, c.c(kSyn));
    h.frame(kSec + kMs, c.s(kSynAck));
    h.frame(kSec + 2 * kMs, c.c(kAck));
    h.frame(kSec + 3 * kMs, c.c(kData, std::string(100, 'a')));  // the last event
    for (int i = 0; i < 5; i++) {
      h.frame(kSec + (4 + i) * kMs, c.c(kData, std::string(1000, 'b')));
      h.frame(kSec + (4 + i) * kMs + 1, c.s(kAck));
    }
    h.timeline.finish(2 * kSec);
    ASSERT_EQ(h.flows.size(), 1u);
    const flow::FlowSummary& f = h.flows[0];
    if (with_lookup) {
      EXPECT_GT(h.lookups, 0);
      EXPECT_EQ(f.source.bytes, 5100u);
      EXPECT_EQ(f.source.packets, 8u);
      EXPECT_EQ(f.destination.packets, 6u);
      EXPECT_EQ(f.end_ns, kSec + 8 * kMs);
      EXPECT_EQ(f.history, "ShADa");  // the server's ACKs follow the request
    } else {
      EXPECT_EQ(f.source.bytes, 100u);
      EXPECT_EQ(f.source.packets, 3u);
      EXPECT_EQ(f.destination.packets, 1u);
      EXPECT_EQ(f.end_ns, kSec + 3 * kMs);
      EXPECT_EQ(f.history, "ShAD");
    }
  }
}

TEST(Timeline, LateFinAfterTheSummaryDoesNotStartASecondFlow) {
  Harness h;
  Conn c;
  Conn before_fin = c;
  uint64_t closed = complete(h, c, kSec);
  h.timeline.tick(closed + 2 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);

  // The server retransmits its FIN: the kernel emits a FIN event again.
  Conn replay = before_fin;
  replay.s_next = c.s_next - 1;
  replay.c_next = c.c_next;
  EXPECT_EQ(h.frame(closed + 3 * kSec, replay.s(kFinAck)), RH_EV_FIN);
  h.timeline.tick(closed + 10 * kSec);
  EXPECT_EQ(h.timeline.active_flows(), 0u);
  h.timeline.finish(closed + 11 * kSec);
  EXPECT_EQ(h.flows.size(), 1u);
}

TEST(Timeline, NewSynOnTheSameTupleStartsANewFlow) {
  Harness h;
  Conn c;
  uint64_t closed = complete(h, c, kSec);
  h.timeline.tick(closed + 2 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);

  Conn again;  // same tuple, new ISNs
  again.c_next = 7'000'000;
  again.s_next = 9'000'000;
  uint64_t t1 = closed + 3 * kSec;
  EXPECT_EQ(h.frame(t1, again.c(kSyn)), RH_EV_SYN);
  h.frame(t1 + kMs, again.s(kSynAck));
  h.timeline.finish(t1 + 2 * kMs);
  ASSERT_EQ(h.flows.size(), 2u);
  const flow::FlowSummary& f = h.flows[1];
  EXPECT_EQ(f.start_ns, t1);
  EXPECT_EQ(f.conn_state, "S1");
  EXPECT_EQ(f.history, "Sh");
  EXPECT_EQ(f.source.packets, 1u);
  EXPECT_EQ(f.source.bytes, 0u);
  EXPECT_EQ(f.closed_by, "trace_end");
  EXPECT_TRUE(f.app.http_host.empty());
}

TEST(Timeline, NewSynOnAnOpenFlowClosesTheOldOneFirst) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 2 * kMs, c.c(kData, "GET / HTTP/1.0\r\n\r\n"));
  Conn again;
  again.c_next = 123456;
  h.frame(5 * kSec, again.c(kSyn));
  ASSERT_EQ(h.flows.size(), 1u);  // at once, not at the next tick
  EXPECT_EQ(h.flows[0].conn_state, "S1");
  EXPECT_EQ(h.flows[0].source.bytes, 18u);  // the old state, not the reset one
  EXPECT_EQ(h.flows[0].start_ns, kSec);
  h.timeline.finish(6 * kSec);
  ASSERT_EQ(h.flows.size(), 2u);
  EXPECT_EQ(h.flows[1].start_ns, 5 * kSec);
  EXPECT_EQ(h.flows[1].conn_state, "S0");
}

TEST(Timeline, BoundedMemoryEvictsTheStalestAndSummarisesEveryFlowOnce) {
  flow::Timeline::Options opt;
  opt.max_flows = 4;
  Harness h(opt);
  for (uint16_t i = 0; i < 10; i++) {
    Conn c;
    c.cport = static_cast<uint16_t>(50000 + i);
    h.frame((i + 1) * kSec, c.c(kSyn));
    h.frame((i + 1) * kSec + kMs, c.s(kSynAck));
    EXPECT_LE(h.timeline.active_flows(), 4u);
  }
  EXPECT_EQ(h.timeline.evicted(), 6u);
  EXPECT_EQ(h.flows.size(), 6u);
  h.timeline.finish(20 * kSec);
  ASSERT_EQ(h.flows.size(), 10u);
  std::set<uint16_t> ports;
  int evicted = 0, trace_end = 0;
  for (auto& f : h.flows) {
    ports.insert(f.source.port);
    EXPECT_EQ(f.history, "Sh");
    EXPECT_NE(f.closed_by, "timeout") << "an eviction is not a timeout";
    evicted += f.closed_by == "evicted";
    trace_end += f.closed_by == "trace_end";
  }
  EXPECT_EQ(ports.size(), 10u);
  EXPECT_EQ(*ports.begin(), 50000);
  EXPECT_EQ(*ports.rbegin(), 50009);
  EXPECT_EQ(evicted, 6);
  EXPECT_EQ(trace_end, 4);
  // The stalest went first.
  EXPECT_EQ(h.flows[0].source.port, 50000);
  EXPECT_EQ(h.flows[5].source.port, 50005);
}

TEST(Timeline, RememberedTuplesAreBoundedByMaxFlows) {
  flow::Timeline::Options opt;
  opt.max_flows = 4;
  Harness h(opt);
  for (uint16_t i = 0; i < 50; i++) {
    Conn c;
    c.cport = static_cast<uint16_t>(40000 + i);
    uint64_t t = (i + 1) * 3 * kSec;
    h.frame(t, c.c(kSyn));
    h.frame(t + kMs, c.s(kRstAck));
    h.timeline.tick(t + 2 * kSec);  // the close settles: summarised and remembered
    EXPECT_LE(h.timeline.remembered(), 4u);
  }
  EXPECT_EQ(h.timeline.remembered(), 4u);
  EXPECT_EQ(h.flows.size(), 50u);
  // The newest are the ones kept: a late ACK of the last flow starts no second flow.
  Conn last;
  last.cport = 40049;
  h.frame(150 * kSec + 2 * kSec + kMs, last.c(kAck));
  h.timeline.finish(60 * kSec);
  EXPECT_EQ(h.flows.size(), 50u);
}

TEST(Timeline, Ipv6FlowSummary) {
  Harness h;
  Conn c;
  c.client = "2001:db8::20";
  c.server = "2001:db8::3";
  complete(h, c, kSec);
  h.timeline.finish(5 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].family, 6);
  EXPECT_EQ(h.flows[0].source.ip, addr16("2001:db8::20"));
  EXPECT_EQ(h.flows[0].conn_state, "SF");
  EXPECT_EQ(h.flows[0].closed_by, "source");
}

// A reset record and its flow's summary due in one tick read the kernel's
// counters once, and both see what the kernel counted after the RST; due in
// two ticks, each reads them.
TEST(Timeline, ARecordAndItsSummaryDueInOneTickShareOneKernelRead) {
  for (bool one_tick : {true, false}) {
    SCOPED_TRACE(one_tick ? "one tick" : "two ticks");
    Harness h;
    Conn c;
    h.frame(kSec, c.c(kSyn));
    h.frame(kSec + kMs, c.s(kSynAck));
    h.frame(kSec + 2 * kMs, c.c(kAck));
    h.frame(kSec + 3 * kMs, c.c(kData, "hello"));
    const uint64_t rst = kSec + 4 * kMs;
    h.frame(rst, c.s(kRstAck));
    // The client's next segment, which the table counts without an event.
    EXPECT_EQ(h.frame(rst + kMs, c.c(kData, "more")), 0);
    const int before = h.lookups;
    if (one_tick) {
      h.timeline.tick(rst + kSec + kMs + 1);  // past the burst window and the close linger
      EXPECT_EQ(h.lookups - before, 1);
    } else {
      h.timeline.tick(rst + 600 * kMs);  // the burst window only
      ASSERT_EQ(h.resets.size(), 1u);
      EXPECT_TRUE(h.flows.empty());
      h.timeline.tick(rst + kSec + kMs + 1);
      EXPECT_EQ(h.lookups - before, 2);
    }
    ASSERT_EQ(h.resets.size(), 1u);
    ASSERT_EQ(h.flows.size(), 1u);
    ASSERT_TRUE(h.resets[0].state_after);
    const uint8_t client = h.resets[0].initiator;
    EXPECT_EQ(h.resets[0].state_after->packets[client], 4u);  // SYN, ACK, hello, more
    EXPECT_EQ(h.flows[0].source.packets, 4u);
  }
}

}  // namespace
}  // namespace rsthop::test
