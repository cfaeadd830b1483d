// Reused 4-tuples and RSTs after a flow's summary (issue 9, item 3): one flow
// per connection attempt, as Zeek's conn.log has one row per attempt, and no
// RST without a reset record.
#include <gtest/gtest.h>

#include "conn.h"

namespace rsthop::test {
namespace {

uint32_t total_rsts(const Harness& h) {
  uint32_t n = 0;
  for (const auto& r : h.resets) n += r.count;
  return n;
}

TEST(Reuse, ThreeConnectsFromOnePortToAClosedPortAreThreeFlowsAndThreeResets) {
  Harness h;
  uint64_t t = kSec;
  for (int i = 0; i < 3; i++, t += 500 * kMs) {
    Conn c;  // same tuple, a new ISN each time
    c.c_next = 1000 + 777777u * i;
    h.frame(t, c.c(kSyn));
    h.frame(t + kMs, c.s(kRstAck));
    h.timeline.tick(t + 2 * kMs);
  }
  h.timeline.finish(t + 10 * kSec);
  ASSERT_EQ(h.flows.size(), 3u);
  for (const auto& f : h.flows) {
    EXPECT_EQ(f.conn_state, "REJ");
    EXPECT_EQ(f.history, "Sr");
  }
  EXPECT_EQ(h.resets.size(), 3u);
  EXPECT_EQ(total_rsts(h), 3u);
}

// Zeek's pop3/pop3.pcap: SYN, RST, SYN, RST, SYN, RST with one ISN is three REJ rows "Sr".
TEST(Reuse, ASynRetransmittedAfterAResetIsANewAttempt) {
  Harness h;
  Conn c;
  for (int i = 0; i < 3; i++) {
    Conn retry = c;  // the SYN retransmitted after the RST: same ISN
    h.frame(kSec + i * 500 * kMs, retry.c(kSyn));
    h.frame(kSec + i * 500 * kMs + 50 * kMs, retry.s(kRstAck));
  }
  h.timeline.finish(5 * kSec);
  ASSERT_EQ(h.flows.size(), 3u);
  for (const auto& f : h.flows) {
    EXPECT_EQ(f.history, "Sr");  // the old attempt's letters are not carried over
    EXPECT_EQ(f.conn_state, "REJ");
  }
  EXPECT_EQ(total_rsts(h), 3u);
}

// Zeek's modbus/modbus-and-non-modbus-p502.pcap: the originator resets, and
// 16 s later (past Zeek's 5 s reset delay) data and the responder's RST come:
// a second, mid-stream connection.
TEST(Reuse, PacketsLongAfterAResetAreASecondFlow) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 100 * kMs, c.c(kRst));
  h.frame(17 * kSec, c.c(kData, std::string(109, 'x')));  // mid-stream data
  h.frame(17 * kSec + kMs, c.s(kRst));
  h.timeline.finish(30 * kSec);
  ASSERT_EQ(h.flows.size(), 2u);
  EXPECT_EQ(h.flows[0].conn_state, "RSTO");
  EXPECT_EQ(h.flows[0].history, "ShR");
  EXPECT_EQ(h.flows[1].history, "Dr");
  EXPECT_EQ(h.flows[1].conn_state, "RSTRH");
  EXPECT_EQ(total_rsts(h), 2u);
}

// A connection seen only in its middle, carrying data and nothing else (no
// SYN, FIN or RST): Zeek logs it (OTH, "Dd"); the kernel's first-payload
// events per direction are what make the flow line.  Its bytes are no request.
TEST(Reuse, ADataOnlyMidStreamConnectionGetsAFlowLine) {
  Harness h;
  Conn c;
  EXPECT_EQ(h.frame(kSec, c.c(kData, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")), RH_EV_PAYLOAD);
  EXPECT_EQ(h.frame(kSec + kMs, c.s(kData, "HTTP/1.1 200 OK\r\n\r\n")), RH_EV_PAYLOAD);
  EXPECT_EQ(h.frame(kSec + 2 * kMs, c.c(kData, "more")), 0);
  h.timeline.finish(10 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].conn_state, "OTH");
  EXPECT_EQ(h.flows[0].history, "Dd");
  EXPECT_EQ(h.flows[0].source.packets, 2u);
  EXPECT_TRUE(h.flows[0].app.http_request.empty());
  EXPECT_TRUE(h.resets.empty());
}

// Zeek's orig_bytes / resp_bytes come from sequence numbers: a retransmitted
// segment counts once, and data the capture missed counts when the peer ACKs it.
TEST(Reuse, BytesAreTheSequenceSpanLikeZeeksNotThePayloadSeen) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 2 * kMs, c.c(kAck));
  Conn before = c;
  h.frame(kSec + 3 * kMs, c.c(kData, std::string(100, 'q')));
  h.frame(kSec + 300 * kMs, before.c(kData, std::string(100, 'q')));  // retransmitted
  h.frame(kSec + 301 * kMs, c.s(kData, std::string(20, 'r')));
  c.s_next += 500;                       // 500 more bytes of the server's the capture missed...
  h.frame(kSec + 302 * kMs, c.c(kAck));  // ...acknowledged by the client
  h.timeline.finish(10 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].source.bytes, 100u);
  EXPECT_EQ(h.flows[0].destination.bytes, 520u);
}

TEST(Reuse, ARstAfterTheSummaryStillGetsAResetRecordButNoSecondFlow) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.s(kSynAck));
  h.frame(kSec + 2 * kMs, c.c(kAck));
  h.frame(kSec + 3 * kMs, c.c(kFinAck));
  h.frame(kSec + 4 * kMs, c.s(kFinAck));
  h.timeline.tick(3 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].conn_state, "SF");
  h.frame(3 * kSec + kMs, c.s(kRst));  // late, after the linger
  h.timeline.finish(10 * kSec);
  EXPECT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(total_rsts(h), 1u);
}

// Zeek's tcp/rst-inject-rae.pcap in miniature: a RST injected before the
// SYN-ACK, the connection carries on, and its later RSTs are reported too.
TEST(Reuse, AnInjectedRstBeforeTheSynAckLeavesOneFlowAndEveryRstReported) {
  Harness h;
  Conn c;
  h.frame(kSec, c.c(kSyn));
  h.frame(kSec + kMs, c.builder(false, kRstAck).seq(4242).ttl(200).build());  // injected
  h.frame(kSec + 2 * kMs, c.s(kSynAck));
  h.frame(kSec + 3 * kMs, c.c(kAck));
  uint64_t t = kSec + 4 * kMs;
  for (int i = 0; i < 4; i++, t += 600 * kMs) {  // longer than the linger in total
    h.frame(t, c.c(kData, "hello"));
    h.frame(t + kMs, c.s(kAck));
    h.timeline.tick(t + 2 * kMs);
  }
  h.frame(t, c.s(kRst));
  h.frame(t + 2 * kSec, c.s(kRst));  // after the summary
  h.timeline.finish(t + 10 * kSec);
  ASSERT_EQ(h.flows.size(), 1u);
  EXPECT_EQ(h.flows[0].source.port, c.cport);
  EXPECT_EQ(total_rsts(h), 3u);
}

}  // namespace
}  // namespace rsthop::test
