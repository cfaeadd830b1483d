// Resets a device on the path forged: in-path firewalls, on-path injectors,
// intercepting proxies, and what their RSTs carry (fingerprint, L2 vendor,
// reason text).
#include <gtest/gtest.h>

#include "scenario.h"

namespace rsthop::test {
namespace {

using attribution::Origin;
using attribution::Stage;

constexpr uint64_t kT0 = 10 * kSec;
constexpr uint64_t kRtt = 20 * kMs;

// 2. An in-path firewall at hop 1 rejects the ClientHello; the server sits
// behind two routers (SYN-ACK TTL 62: hop 3).  At once, or after a while
// (an IPS reassembling first): the distance alone must still tell.
TEST(Middlebox, InPathFirewallAtHopOne) {
  struct Case {
    uint64_t delay;
    double min_confidence;
  };
  // Late, the exact seq, the shared MAC and the ordinary timing (all of
  // which an in-path box at hop 1 has too) mark the evidence conflicting.
  for (const Case& c : {Case{200'000, 0.6}, Case{2 * kMs, 0.6}, Case{15 * kMs, 0.45}}) {
    uint64_t delay = c.delay;
    SCOPED_TRACE("delay " + std::to_string(delay));
    Scenario sc;
    sc.c.s_ttl = 62;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + delay;
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(64).window(0).ip_id(0x51f3).build(), RH_HOOK_XDP);
    sc.accepted(t + 20'000);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].origin, Origin::middlebox) << dump(v[0]);
    EXPECT_EQ(v[0].hop, 1);
    EXPECT_EQ(v[0].endpoint_hop, 3);
    EXPECT_GE(v[0].confidence, c.min_confidence) << dump(v[0]);
    EXPECT_TRUE(has_positive(v[0], "hop_distance")) << dump(v[0]);
  }
}

// 4. An on-path injector that forges the server's TTL: three RSTs at the
// server's next seq + 0, 1460, 4380, then the real server's ServerHello
// arrives (the race), and our stack, its socket gone, answers it with a RST.
TEST(Middlebox, TtlForgingInjectorLosesTheRace) {
  Scenario sc;
  sc.c.s_ttl = 57;
  uint64_t hello = sc.handshake_and_hello(kT0, kRtt);
  uint32_t s = sc.c.s_next;
  uint64_t t = hello + 3 * kMs;
  const int32_t offs[] = {0, 1460, 4380};
  for (int i = 0; i < 3; i++) {
    sc.frame(t + i * 50'000, sc.c.builder(false, kRstAck).seq(s + offs[i]).window(0).build(), RH_HOOK_XDP);
    if (i == 0) sc.accepted(t + 20'000);  // the first one, in window, resets our socket
  }
  ASSERT_EQ(sc.sv(hello + kRtt + 300'000, kData, std::string(1400, 's')), RH_EV_PAYLOAD);
  sc.local(hello + kRtt + 350'000, RH_EV_LOCAL_RST_SEND, /*reason: no socket*/ 2);
  sc.frame(hello + kRtt + 360'000, sc.c.builder(true, kRst).ttl(64).window(0).ip_id(0).build(), RH_HOOK_TC_EGRESS);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 2u);

  const auto& injected = v[0];
  ASSERT_EQ(sc.h.resets[0].first.ev.side, sc.h.resets[0].initiator ^ 1);  // the server's side
  EXPECT_EQ(sc.h.resets[0].count, 3u);
  EXPECT_NE(injected.origin, Origin::endpoint) << dump(injected);
  if (injected.origin == Origin::middlebox) {
    EXPECT_LT(injected.confidence, 0.8) << dump(injected);
    EXPECT_TRUE(injected.conflicting) << dump(injected);
  } else {
    EXPECT_EQ(injected.origin, Origin::unknown) << dump(injected);
  }
  EXPECT_TRUE(has_positive(injected, "race")) << dump(injected);
  // A forged TTL tells no distance: do not report the server's as the injector's.
  EXPECT_FALSE(injected.hop == injected.endpoint_hop && injected.origin == Origin::middlebox) << dump(injected);

  // Our own answer to the late ServerHello is this host's stack.
  EXPECT_EQ(v[1].origin, Origin::local) << dump(v[1]);
  EXPECT_EQ(v[1].hop, 0);
}

// 9. A GFW-like injector: three RST-ACKs with rising seqs beyond anything the
// server sent (RST_SEQ_CHANGE), a TTL lower than the server's, fixed windows
// and IP IDs.  Its fingerprint is the same on every connection it resets.
struct Gfw {
  uint8_t ttl = 47;
  std::vector<int32_t> offs = {0, 1460, 4380};
  std::vector<uint16_t> ids = {0x3a01, 0xc2f7, 0x51e0};
};

attribution::Verdict gfw_reset(attribution::Engine* shared, uint16_t cport, uint32_t isn, bool server_banner) {
  Scenario sc;
  if (shared) sc.engine = *shared;
  sc.c.s_ttl = 52;  // hop 13
  sc.c.cport = cport;
  sc.c.s_next = isn;
  uint64_t hello;
  if (server_banner) {
    sc.cl(kT0, kSyn);
    sc.sv(kT0 + 200 * kMs, kSynAck);
    sc.cl(kT0 + 200 * kMs + 100'000, kAck);
    sc.sv(kT0 + 200 * kMs + 300'000, kData, "SSH-2.0-OpenSSH_9.6\r\n");
    hello = kT0 + 400 * kMs;
    sc.cl(hello, kData, "SSH-2.0-OpenSSH_9.2\r\n");
  } else {
    hello = sc.handshake_and_hello(kT0, 200 * kMs);
  }
  Gfw g;
  uint32_t s = sc.c.s_next;
  uint64_t t = hello + 60 * kMs;
  for (size_t i = 0; i < g.offs.size(); i++)
    sc.frame(t + i * 10'000,
             sc.c.builder(false, kRstAck).seq(s + g.offs[i]).ttl(g.ttl).ip_id(g.ids[i]).df(false).window(0).build(),
             RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  EXPECT_EQ(v.size(), 1u);
  if (shared) *shared = sc.engine;
  return v.empty() ? attribution::Verdict{} : v[0];
}

TEST(Middlebox, GfwLikeBurstWithSeqChange) {
  for (bool banner : {false, true}) {
    SCOPED_TRACE(banner ? "server spoke first" : "server silent");
    auto v = gfw_reset(nullptr, 40000, 500000, banner);
    EXPECT_EQ(v.origin, Origin::middlebox) << dump(v);
    EXPECT_TRUE(has_positive(v, "seq_change")) << dump(v);
    EXPECT_EQ(v.fingerprint.count, 3u);
    EXPECT_EQ(v.fingerprint.seq_offsets, (std::vector<int64_t>{0, 1460, 4380})) << dump(v);
    EXPECT_EQ(v.fingerprint.ttl_pattern, "constant");
    EXPECT_EQ(v.fingerprint.ip_id_pattern, "random");
    EXPECT_EQ(v.fingerprint.flags, "RA");
    // Its TTL says hop 18, beyond the server at hop 13: no distance to report.
    EXPECT_FALSE(v.hop) << dump(v);
    EXPECT_EQ(v.endpoint_hop, 13);
  }
}

TEST(Middlebox, GfwFingerprintIsStableAcrossConnections) {
  attribution::Engine engine({});
  auto a = gfw_reset(&engine, 40000, 500000, false);
  auto b = gfw_reset(&engine, 51515, 0xfffff000, false);  // another port, an ISN about to wrap
  EXPECT_FALSE(a.fingerprint.id.empty());
  EXPECT_EQ(a.fingerprint.id, b.fingerprint.id);
  EXPECT_EQ(b.fingerprint.seq_offsets, (std::vector<int64_t>{0, 1460, 4380}));
  // A different device (other TTL behaviour) gets another id.
  Scenario sc;
  sc.c.s_ttl = 52;
  uint64_t t = sc.handshake_and_hello(kT0, 200 * kMs) + 60 * kMs;
  for (int i = 0; i < 3; i++)
    sc.frame(t + i * 10'000, sc.c.builder(false, kRstAck).seq(sc.c.s_next + 1460 * i).ttl(47 + i).window(0).build(),
             RH_HOOK_XDP);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].fingerprint.ttl_pattern, "varying");
  EXPECT_NE(v[0].fingerprint.id, a.fingerprint.id);
}

// 10. Timing: with a 20 ms round trip, a RST 1 ms after our ClientHello did
// not come from the server; 25 ms after, it could have.  The RST is the
// same in both rows (a TTL that says "farther than the server" proves
// nothing either way), so timing alone decides.
TEST(Middlebox, TimingFasterThanARoundTrip) {
  struct Case {
    uint64_t delay;
    bool middlebox;
  };
  for (const Case& c : {Case{1 * kMs, true}, Case{25 * kMs, false}}) {
    SCOPED_TRACE("delay " + std::to_string(c.delay));
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + c.delay;
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(57).window(0).ip_id(0xd431).build(), RH_HOOK_XDP);
    sc.accepted(t + 20'000);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    ASSERT_NE(find_evidence(v[0], "timing"), nullptr) << dump(v[0]);
    EXPECT_EQ(has_positive(v[0], "timing"), c.middlebox) << dump(v[0]);
    EXPECT_EQ(v[0].origin == Origin::middlebox, c.middlebox) << dump(v[0]);
  }
}

// 12. An intercepting proxy (an F5 at hop 1) terminates port 443 of an
// address whose port 80 answers from hop 2.
TEST(Middlebox, InterceptingProxyAnswersOnePortFromCloser) {
  TempDir dir;
  dir.write("oui.csv",
            "Registry,Assignment,Organization Name,Organization Address\n"
            "MA-L,0001D7,\"F5 Networks, Inc.\",1322 N. Whitman Lane Liberty Lake WA US 99019 \n");
  auto reg = oui::Registry::load(dir.path.string());
  ASSERT_TRUE(reg.ok()) << reg.error().message;
  Scenario sc(&reg.value());

  Conn web = sc.c;
  web.sport = 80;
  web.cport = 39000;
  web.s_ttl = 63;
  sc.frame(kT0 - kSec, web.c(kSyn), RH_HOOK_TC_EGRESS);
  sc.frame(kT0 - kSec + kRtt, web.s(kSynAck), RH_HOOK_XDP);

  const Mac f5 = {0x00, 0x01, 0xd7, 0x12, 0x34, 0x56};
  sc.c.s_ttl = 64;
  sc.cl(kT0, kSyn);
  sc.frame(kT0 + 2 * kMs, sc.c.builder(false, kSynAck).eth(f5, kClientMac).build(), RH_HOOK_XDP);
  sc.cl(kT0 + 2 * kMs + 100'000, kAck);
  sc.cl(kT0 + 2 * kMs + 200'000, kData, client_hello());
  uint64_t t = kT0 + 5 * kMs;
  sc.frame(t, sc.c.builder(false, kRstAck).eth(f5, kClientMac).window(0).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 1) << dump(v[0]);
  EXPECT_TRUE(has_positive(v[0], "port_distance")) << dump(v[0]);
  ASSERT_TRUE(v[0].l2_mac);
  EXPECT_EQ(*v[0].l2_mac, f5);
  EXPECT_EQ(v[0].l2_vendor, "F5 Networks, Inc.");
  EXPECT_NE(find_evidence(v[0], "l2_vendor"), nullptr);
  EXPECT_NE(v[0].summary.find("proxy"), std::string::npos) << v[0].summary;
}

// 13. Server vantage: a middlebox three hops from us forges a RST from the
// client (hop 7).
TEST(Middlebox, ServerVantageForgedClientRst) {
  Scenario sc(nullptr, {}, /*server_vantage=*/true);
  sc.c.c_ttl = 58;
  sc.c.s_ttl = 64;
  sc.cl(kT0, kSyn);
  sc.sv(kT0 + 50'000, kSynAck);
  sc.cl(kT0 + kRtt, kAck);
  sc.cl(kT0 + kRtt + 100'000, kData, "GET /forbidden HTTP/1.1\r\nHost: example.com\r\n\r\n");
  uint64_t t = kT0 + kRtt + 2 * kMs;
  sc.frame(t, sc.c.builder(true, kRstAck).ttl(62).ip_id(0xbeef).df(false).window(0).build(), RH_HOOK_XDP);
  sc.accepted(t + 20'000);
  auto v = sc.finish(t + 5 * kSec);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].origin, Origin::middlebox) << dump(v[0]);
  EXPECT_EQ(v[0].hop, 3);
  EXPECT_EQ(v[0].endpoint_hop, 7);
  // The server's SYN -> SYN-ACK "rtt" is its own processing time: no timing signal.
  EXPECT_EQ(find_evidence(v[0], "timing"), nullptr) << dump(v[0]);
}

// A RST's payload (a censor's text, RFC 5961 challenge bytes) is not the
// peer's data: the RST still answers the first request, stays fast, has the
// peer's next seq, and the history shows no 'd'.
TEST(Middlebox, RstPayloadIsNotThePeersData) {
  for (const std::string& text : {std::string("blocked by policy"), std::string(200, 'x')}) {
    SCOPED_TRACE(text.size());
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kMs;
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(63).window(0).payload(text).build(), RH_HOOK_XDP);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].stage, attribution::Stage::post_psh) << dump(v[0]);
    EXPECT_TRUE(has_positive(v[0], "timing")) << dump(v[0]);
    for (int64_t off : v[0].fingerprint.seq_offsets) EXPECT_EQ(off, 0) << dump(v[0]);
    ASSERT_EQ(sc.h.flows.size(), 1u);
    EXPECT_EQ(sc.h.flows[0].history.find('d'), std::string::npos) << sc.h.flows[0].history;
    EXPECT_EQ(sc.h.flows[0].destination.bytes, 0u);
  }
}

// 14. What a RST's payload says: plain text, or a diagnostic payload.
TEST(Middlebox, PayloadTextAndDiagnostic) {
  {
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kMs;
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(63).window(0).payload("blocked by policy").build(), RH_HOOK_XDP);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].payload_text, "blocked by policy");
    EXPECT_TRUE(has_positive(v[0], "payload_text")) << dump(v[0]);
    EXPECT_FALSE(v[0].diagnostic);
  }
  {
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kMs;
    std::string p = {'\x33', '\xAA', '\x00', '\x07', '\x00', '\x00', '\x30', '\x39'};
    p += "denied by ACL 7";
    sc.frame(t, sc.c.builder(false, kRstAck).ttl(63).window(0).payload(p).build(), RH_HOOK_XDP);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    ASSERT_TRUE(v[0].diagnostic) << dump(v[0]);
    EXPECT_EQ(v[0].diagnostic->reason_code, 7);
    EXPECT_EQ(v[0].diagnostic->enterprise, 12345u);
    EXPECT_EQ(v[0].diagnostic->text, "denied by ACL 7");
    EXPECT_EQ(v[0].payload_text, "denied by ACL 7");
    EXPECT_NE(find_evidence(v[0], "rst_diagnostic"), nullptr) << dump(v[0]);
  }
  {
    // Binary bytes (e.g. some stacks echo data in RSTs) are no reason text.
    Scenario sc;
    uint64_t t = sc.handshake_and_hello(kT0, kRtt) + kRtt + kMs;
    std::string p = {'\x16', '\x03', '\x01', '\x02', '\x00', '\x01', '\x00', '\x01', '\xfc', '\x03', '\x03'};
    sc.frame(t, sc.c.builder(false, kRstAck).window(0).payload(p).build(), RH_HOOK_XDP);
    auto v = sc.finish(t + 5 * kSec);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].payload_text, "");
    EXPECT_FALSE(v[0].diagnostic);
    EXPECT_EQ(find_evidence(v[0], "payload_text"), nullptr) << dump(v[0]);
  }
}

}  // namespace
}  // namespace rsthop::test
