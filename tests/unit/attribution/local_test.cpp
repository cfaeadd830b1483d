// 11. Resets this host made: its TCP stack (tcp_send_reset), or a firewall
// rule here (a RST no stack sent, or one that never crossed the wire).
#include <gtest/gtest.h>

#include "scenario.h"

namespace rsthop::test {
namespace {

using attribution::Origin;
using attribution::Stage;

constexpr uint64_t kT0 = 10 * kSec;
constexpr uint64_t kRtt = 20 * kMs;

TEST(Local, StackSentRstWithReason) {
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
  sc.sv(t - 500'000, kData, "HTTP/1.1 200 OK\r\n\r\n");
  // The application closed with unread data: the tracepoint fires, then the
  // RST leaves through tc egress.
  sc.local(t, RH_EV_LOCAL_RST_SEND, /*SK_RST_REASON_NOT_SPECIFIED*/ 1);
  sc.frame(t + 10'000, sc.c.builder(true, kRstAck).window(0).build(), RH_HOOK_TC_EGRESS);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::local) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 0);
  EXPECT_GE(v[0].confidence, 0.9);
  const auto* e = find_evidence(v[0], "local_stack");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->observed().find("reason 1"), std::string::npos) << e->observed();
}

TEST(Local, TracepointOnlyWithoutWireRst) {
  // Only the tracepoint saw the SEND (the RST left through another interface).
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt;
  sc.local(t, RH_EV_LOCAL_RST_SEND, 3);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::local) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 0);
}

TEST(Local, AcceptedRstThatNeverCrossedTheWire) {
  // An OUTPUT rule "reject with tcp-reset" here: the socket is reset by a RST
  // that claims to come from the server but no hook saw it arrive.
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt;
  sc.local(t, RH_EV_LOCAL_RST_RECV);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::local) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 0);
  EXPECT_NE(find_evidence(v[0], "not_on_wire"), nullptr);

  // The same tracepoint on a flow rsthop never saw on the wire says nothing.
  Scenario other;
  other.local(t, RH_EV_LOCAL_RST_RECV);
  auto w = other.finish(t + 5 * kSec);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].origin, Origin::unknown) << dump(w[0]);
  EXPECT_LE(w[0].confidence, 0.4);
}

// nft output "... reject with tcp reset": the SYN never reaches the traced
// interface, the forged RST loops back over lo into the SYN_SENT socket.
TEST(Local, OwnFirewallRefusingTheSynBeforeItLeft) {
  struct Case {
    const char* name;
    bool route_traced;
    uint16_t state;  // the socket's tcp_state, as the RECV event carries it
    bool syn_on_wire;
    Origin origin;
  };
  for (const Case& c :
       {Case{"refused here", true, RH_TCP_STATE_SYN_SENT, false, Origin::local},
        Case{"route through an untraced interface", false, RH_TCP_STATE_SYN_SENT, false, Origin::unknown},
        Case{"established socket", true, 1, false, Origin::unknown},
        Case{"the SYN left", true, RH_TCP_STATE_SYN_SENT, true, Origin::local}}) {
    for (bool v6 : {false, true}) {
      SCOPED_TRACE(std::string(c.name) + (v6 ? " v6" : " v4"));
      attribution::Engine::Options opt;
      int asked = 0;
      opt.route_traced = [&, traced = c.route_traced](const uint8_t*, uint8_t family) {
        asked++;
        EXPECT_EQ(family, v6 ? 6 : 4);
        return traced;
      };
      Scenario sc(nullptr, opt);
      if (v6) sc.c.client = "2001:db8::1", sc.c.server = "2001:db8::2";
      if (c.syn_on_wire) sc.cl(kT0, kSyn);
      sc.local(kT0 + 30'000, RH_EV_LOCAL_RST_RECV, c.state);
      auto v = sc.finish(kT0 + 5 * kSec);
      ASSERT_EQ(v.size(), 1u);
      EXPECT_EQ(v[0].origin, c.origin) << dump(v[0]);
      bool refusal = std::string(c.name) == "refused here";
      EXPECT_EQ(find_evidence(v[0], "local_refusal") != nullptr, refusal) << dump(v[0]);
      if (refusal) {
        EXPECT_EQ(v[0].hop, 0);
        EXPECT_FALSE(v[0].endpoint_hop);
        EXPECT_EQ(v[0].stage, attribution::Stage::post_syn);
        EXPECT_EQ(v[0].summary.rfind("A firewall rule on this host refused the connection before the SYN left", 0), 0u)
            << v[0].summary;
        EXPECT_EQ(asked, 1);
      }
      // Nothing crossed the wire: no flow summary for a connection that never left.
      EXPECT_EQ(sc.h.flows.size(), c.syn_on_wire ? 1u : 0u);
    }
  }
}

TEST(Local, WireRstWithoutTracepointIsAFirewallHere) {
  struct Case {
    bool local_events;
    double min_confidence;
  };
  for (const Case& c : {Case{true, 0.8}, Case{false, 0.6}}) {
    SCOPED_TRACE(c.local_events ? "tracepoints on" : "tracepoints off");
    Scenario sc(nullptr, attribution::Engine::Options{c.local_events});
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt;
    sc.frame(t, sc.c.builder(true, kRstAck).ttl(64).window(0).build(), RH_HOOK_TC_EGRESS);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].origin, Origin::local) << dump(v[0]);
    EXPECT_EQ(v[0].hop, 0);
    EXPECT_GE(v[0].confidence, c.min_confidence);
    EXPECT_EQ(v[0].summary.find("firewall") != std::string::npos, c.local_events) << v[0].summary;
  }
}

TEST(Local, ForwardedRstAtEgressIsNotLocal) {
  // A router's view: a RST forwarded through this box leaves tc egress with a
  // spent TTL; it was not made here.
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt;
  sc.frame(t, sc.c.builder(true, kRstAck).ttl(63).window(0).build(), RH_HOOK_TC_EGRESS);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].origin, Origin::local) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 1);
}

// Events from different CPUs reach the ring buffer slightly out of order: a
// tracepoint event stamped before the burst's latest wire RST must join that
// burst, not start a record the engine would blame on this host's firewall.
TEST(Local, ReorderedReceiveTracepointJoinsTheWireBurst) {
  Scenario sc;
  uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
  sc.frame(t, sc.c.builder(false, kRst).window(0).ip_id(0).build(), RH_HOOK_XDP);
  sc.frame(t + 50'000, sc.c.builder(false, kRst).window(0).ip_id(0).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);  // stamped between the two, delivered after the second
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(sc.h.resets[0].local_receive);
  EXPECT_EQ(v[0].origin, Origin::endpoint) << dump(v[0]);
}

}  // namespace
}  // namespace rsthop::test
