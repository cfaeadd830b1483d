// Resets the endpoint sent, or that rsthop cannot pin on anyone: the engine
// must never accuse a middlebox of them (engine.h: the worst error).
#include <gtest/gtest.h>

#include "scenario.h"

namespace rsthop::test {
namespace {

using attribution::Origin;
using attribution::Stage;

constexpr uint64_t kT0 = 10 * kSec;
constexpr uint64_t kRtt = 20 * kMs;

// The server's own RST-ACK: its TTL, its next seq, window 0.
Bytes server_rst(Conn& c) { return c.builder(false, kRstAck).window(0).build(); }

// 1. The server aborts right after the ClientHello (e.g. close() with the
// hello unread), k routers away.
TEST(Endpoint, AbortRightAfterClientHelloAtAnyDistance) {
  for (int k : {0, 3, 12, 25}) {  // beyond ~30 routers a TTL of 64 - k reads as initial 32
    SCOPED_TRACE("routers " + std::to_string(k));
    Scenario sc;
    sc.c.s_ttl = static_cast<uint8_t>(64 - k);
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
    ASSERT_EQ(sc.frame(t, server_rst(sc.c), RH_HOOK_XDP), RH_EV_RST);
    sc.accepted(t + 20'000);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
    EXPECT_EQ(v[0].hop, k + 1) << dump(v[0]);
    EXPECT_EQ(v[0].endpoint_hop, k + 1);
    EXPECT_GE(v[0].confidence, 0.7) << dump(v[0]);
    EXPECT_EQ(v[0].stage, Stage::post_psh);
    EXPECT_FALSE(v[0].conflicting);
    EXPECT_FALSE(v[0].summary.empty());
    // The exact sequence number counts for the endpoint, even though the
    // server had sent no data yet (its next seq is its ISN + 1).
    const auto* seq = find_evidence(v[0], "seq");
    ASSERT_NE(seq, nullptr) << dump(v[0]);
    EXPECT_LT(seq->weight, 0);
    EXPECT_EQ(v[0].fingerprint.seq_offsets, std::vector<int64_t>{0});
  }
}

// 1a. The server's own pair: its RST+ACK, then a plain RST for the client's
// ACK that crossed it (a segment for a socket that is gone).  One sender, one
// TTL, one sequence number: the endpoint, not "conflicting" nor "forged".
TEST(Endpoint, ServerRstPairIsTheEndpoint) {
  Scenario sc;
  sc.c.s_ttl = 61;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
  ASSERT_EQ(sc.frame(t, server_rst(sc.c), RH_HOOK_XDP), RH_EV_RST);
  sc.cl(t + 50'000, kAck);
  ASSERT_EQ(sc.frame(t + 2 * kMs, sc.c.builder(false, kRst).window(0).build(), RH_HOOK_XDP), RH_EV_RST);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_FALSE(v.empty());
  for (const auto& x : v) {
    EXPECT_EQ(x.origin, Origin::endpoint) << dump(x);
    EXPECT_EQ(x.hop, 4) << dump(x);
    EXPECT_FALSE(x.conflicting) << dump(x);
  }
}

// 1b. The same abort from a real Linux server: its SYN-ACK carries IP ID 0
// (ip_build_and_send_pkt with DF) while an established socket's RST carries
// the socket's random inet_id.  That is no sign of a forger.
TEST(Endpoint, LinuxAbortWithZeroIpIdSynAckAndRandomIpIdRst) {
  Scenario sc;
  sc.c.s_ttl = 52;
  sc.cl(kT0, kSyn);
  sc.frame(kT0 + kRtt, sc.c.builder(false, kSynAck).ip_id(0).build(), RH_HOOK_XDP);
  sc.cl(kT0 + kRtt + 100'000, kAck);
  sc.cl(kT0 + kRtt + 200'000, kData, client_hello());
  uint64_t t = kT0 + 2 * kRtt + 2 * kMs;
  sc.frame(t, sc.c.builder(false, kRstAck).window(0).ip_id(0x9c41).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
  EXPECT_GE(v[0].confidence, 0.7) << dump(v[0]);
}

// 3. A NAT or load balancer in front of the server: the handshake and the
// RST come with TTLs a naive guess would not pair.
TEST(Endpoint, NatInFrontOfTheServerIsNeverAMiddlebox) {
  struct Case {
    const char* name;
    uint8_t synack_ttl, rst_ttl;
    int endpoint_hops;
  };
  for (const Case& c : {Case{"NAT answers at hop 2, the real server resets from hop 4", 63, 61, 2},
                        Case{"initial TTL 128 handshake, 64 RST, same hop", 125, 61, 4},
                        Case{"initial TTL 64 handshake, 128 RST, same hop", 61, 125, 4},
                        Case{"initial TTL 128 handshake, RST one hop farther", 125, 60, 4},
                        Case{"initial TTL 255 handshake, 64 RST, same hop", 252, 61, 4}}) {
    SCOPED_TRACE(c.name);
    Scenario sc;
    sc.c.s_ttl = c.synack_ttl;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + 3 * kMs;
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(c.rst_ttl).window(0).build(), RH_HOOK_XDP);
    sc.accepted(t + 20'000);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
    EXPECT_EQ(v[0].endpoint_hop, c.endpoint_hops) << dump(v[0]);
  }
}

// 5. Asymmetric routing: the RST comes back through another router (another
// source MAC) than the SYN-ACK, with the server's TTL and exact seq.
TEST(Endpoint, AsymmetricRoutingIsNotAMiddlebox) {
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
  const Mac other_router = {0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c};
  sc.frame(t, sc.c.builder(false, kRstAck).window(0).eth(other_router, kClientMac).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);  // TTL and seq are the server's
  ASSERT_TRUE(v[0].l2_mac);
  EXPECT_EQ(*v[0].l2_mac, other_router);
  EXPECT_NE(find_evidence(v[0], "l2_source"), nullptr) << dump(v[0]);
}

// 6. One endpoint, several copies: RSTs the server repeats with one seq (one
// per segment of ours it still receives) and each RST seen at both XDP and
// tc ingress.
TEST(Endpoint, RetransmittedAndDuplicatedRstsAreCountedOnce) {
  struct Case {
    const char* name;
    int rsts;
    std::vector<uint8_t> hooks;
    uint32_t count;
  };
  for (const Case& c : {Case{"one RST, XDP and tc", 1, {RH_HOOK_XDP, RH_HOOK_TC_INGRESS}, 1},
                        Case{"two RSTs, one seq, XDP only", 2, {RH_HOOK_XDP}, 2},
                        Case{"two RSTs, one seq, XDP and tc", 2, {RH_HOOK_XDP, RH_HOOK_TC_INGRESS}, 2},
                        Case{"three RSTs, one seq, XDP and tc", 3, {RH_HOOK_XDP, RH_HOOK_TC_INGRESS}, 3}}) {
    SCOPED_TRACE(c.name);
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
    sc.cl(t - 500'000, kData, "second segment in flight");
    for (int i = 0; i < c.rsts; i++) {
      // tcp_v4_send_reset from the control socket: RST (no ACK), seq = our
      // ACK, DF with IP ID 0 every time.
      Bytes rst = sc.c.builder(false, kRst).window(0).ip_id(0).build();
      for (uint8_t hook : c.hooks) sc.frame(t + i * 300'000 + hook * 1000, rst, hook);
      if (i == 0) sc.accepted(t + 20'000);
    }
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    ASSERT_EQ(sc.h.resets.size(), 1u);
    EXPECT_EQ(sc.h.resets[0].count, c.count);
    EXPECT_EQ(v[0].fingerprint.count, c.count);
    EXPECT_EQ(v[0].fingerprint.seq_offsets, std::vector<int64_t>(c.count, 0)) << dump(v[0]);
    EXPECT_EQ(v[0].fingerprint.ttl_pattern, "constant");
    EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
    EXPECT_EQ(v[0].hop, 4);
  }
}

// 7. A RST on a connection that began before the trace: no handshake to
// compare with, nothing to accuse anyone of.
TEST(Endpoint, MidStreamRstWithoutHandshakeIsLowConfidence) {
  for (uint16_t window : {0, 501}) {
    SCOPED_TRACE("window " + std::to_string(window));
    Scenario sc;
    sc.cl(kT0, kData, "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n");
    sc.sv(kT0 + kRtt, kData, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    sc.cl(kT0 + 2 * kRtt, kData, "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n");
    uint64_t t = kT0 + 3 * kRtt;
    ASSERT_EQ(sc.frame(t, sc.c.builder(false, kRstAck).window(window).build(), RH_HOOK_XDP), RH_EV_RST);
    sc.accepted(t + 20'000);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
    EXPECT_LE(v[0].confidence, 0.4) << dump(v[0]);
    EXPECT_FALSE(v[0].summary.empty());
    EXPECT_EQ(v[0].hop, 4);
    EXPECT_FALSE(v[0].endpoint_hop);
    // Data flowed before rsthop saw it: not "right after the SYN".
    EXPECT_EQ(v[0].stage, Stage::later) << dump(v[0]);
    EXPECT_EQ(v[0].summary.find("SYN"), std::string::npos) << v[0].summary;
  }
}

// 8. A closed port: RST-ACK to the SYN, no SYN-ACK ever.
TEST(Endpoint, ClosedPortIsNotAMiddlebox) {
  Scenario sc;
  sc.cl(kT0, kSyn);
  sc.frame(kT0 + kRtt, sc.c.builder(false, kRstAck).seq(0).window(0).ip_id(0).build(), RH_HOOK_XDP);
  sc.accepted(kT0 + kRtt + 20'000);
  auto v = sc.finish(kT0 + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_EQ(v[0].stage, Stage::post_syn);
  EXPECT_EQ(v[0].hop, 4);
  EXPECT_FALSE(v[0].endpoint_hop);
  EXPECT_LE(v[0].confidence, 0.4);
}

// 8b. The same, after the engine saw the address answer another port from
// the same distance: the hop distance is known and matches.
TEST(Endpoint, ClosedPortWithTheAddressSeenOnAnotherPort) {
  Scenario sc;
  Conn web = sc.c;
  web.sport = 80;
  web.cport = 39000;
  sc.frame(kT0 - kSec, web.c(kSyn), RH_HOOK_TC_EGRESS);
  sc.frame(kT0 - kSec + kRtt, web.s(kSynAck), RH_HOOK_XDP);
  sc.frame(kT0 - kSec + kRtt + 100'000, web.c(kFinAck), RH_HOOK_TC_EGRESS);
  sc.frame(kT0 - kSec + 2 * kRtt, web.s(kFinAck), RH_HOOK_XDP);

  sc.c.sport = 8443;
  sc.cl(kT0, kSyn);
  sc.frame(kT0 + kRtt, sc.c.builder(false, kRstAck).seq(0).window(0).ip_id(0).build(), RH_HOOK_XDP);
  sc.accepted(kT0 + kRtt + 20'000);
  auto v = sc.finish(kT0 + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_EQ(v[0].endpoint_hop, 4) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 4);
  EXPECT_NE(find_evidence(v[0], "hop_memory"), nullptr) << dump(v[0]);
  EXPECT_EQ(find_evidence(v[0], "port_distance"), nullptr) << dump(v[0]);

  // Another address's memory says nothing about this one.
  Scenario other;
  other.engine = sc.engine;
  other.c.server = "10.0.0.3";
  other.cl(kT0, kSyn);
  other.frame(kT0 + kRtt, other.c.builder(false, kRstAck).seq(0).window(0).build(), RH_HOOK_XDP);
  auto w = other.finish(kT0 + 5 * kSec);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_FALSE(w[0].endpoint_hop);
}

// 13b. Server vantage: the client's own RST (same TTL as its SYN).
TEST(Endpoint, ServerVantageClientsOwnRst) {
  Scenario sc(nullptr, {}, /*server_vantage=*/true);
  sc.c.c_ttl = 58;  // six routers: hop 7
  sc.c.s_ttl = 64;
  sc.cl(kT0, kSyn);
  sc.sv(kT0 + 50'000, kSynAck);
  sc.cl(kT0 + kRtt, kAck);
  sc.cl(kT0 + kRtt + 100'000, kData, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  sc.sv(kT0 + kRtt + 400'000, kData, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
  uint64_t t = kT0 + 2 * kRtt + kMs;
  sc.frame(t, sc.c.builder(true, kRstAck).window(0).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 7);
  EXPECT_EQ(v[0].endpoint_hop, 7);
  EXPECT_GE(v[0].confidence, 0.7) << dump(v[0]);
  EXPECT_EQ(v[0].stage, Stage::later);
}

// A server that rejects an upload while the client is still sending: the RST
// answers an early segment but arrives right after our latest one.  That is
// no evidence of a forger.
TEST(Endpoint, ResetDuringAnUploadIsNotTooFast) {
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt);
  std::string chunk(1400, 'u');
  for (int i = 1; i <= 40; i++) sc.cl(t + i * kMs, kData, chunk);
  // Triggered by the first segments, one RTT after them, 0.2 ms after the latest.
  uint64_t trst = t + 40 * kMs + 200'000;
  sc.frame(trst, sc.c.builder(false, kRstAck).window(0).build(), RH_HOOK_XDP);
  sc.accepted(trst + 20'000);
  auto v = sc.finish(trst + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_FALSE(has_positive(v[0], "timing")) << dump(v[0]);
  EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
}

}  // namespace
}  // namespace rsthop::test
