// Each remote-sender signal, the decision and the summary on hand-made facts:
// one feature changed at a time, so a signal that stops firing (or fires on
// an endpoint's own RST) fails here by name.
#include "attribution/remote.h"

#include <gtest/gtest.h>

#include <cstring>

namespace rsthop::attribution {
namespace {

// An endpoint's own RST three hops away, matching its SYN-ACK (TTL 62, window 0, DF set).
RemoteFacts facts() {
  RemoteFacts f;
  f.rst.ttl = 62;
  f.rst.family = 4;
  f.rst.sport = 443;
  f.rst.saddr[10] = f.rst.saddr[11] = 0xff;  // ::ffff:198.18.0.2
  f.rst.saddr[12] = 198;
  f.rst.saddr[13] = 18;
  f.rst.saddr[15] = 2;
  f.rst.ip_flags = RH_IPF_DF;
  f.rst_hop = 3;
  rh_event base{};
  base.ttl = 62;
  base.ip_flags = RH_IPF_DF;
  f.base = base;
  f.endpoint_hop = 3;
  f.sender = 1;
  f.receiver = 0;
  return f;
}

std::string sig(const std::optional<Evidence>& e) { return std::string(e ? e->signal.view() : "-"); }

TEST(RemoteSignals, HopDistance) {
  RemoteFacts f = facts();
  auto e = hop_distance_signal(f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->weight, -0.3);  // the peer's distance and TTL
  f.rst_hop = 1;
  e = hop_distance_signal(f);
  EXPECT_EQ(e->weight, 0.5);
  EXPECT_TRUE(e->strong);
  f.rst_hop = 5;
  EXPECT_EQ(hop_distance_signal(f)->weight, 0);
  f.endpoint_hop.reset();
  EXPECT_EQ(hop_distance_signal(f)->expected(), "no packet of the peer to compare with");
}

TEST(RemoteSignals, HopMemoryOnlyWhenRemembered) {
  RemoteFacts f = facts();
  EXPECT_FALSE(hop_memory_signal(f));
  f.endpoint_hop_remembered = true;
  EXPECT_EQ(sig(hop_memory_signal(f)), "hop_memory");
}

TEST(RemoteSignals, InitialTtl) {
  RemoteFacts f = facts();
  EXPECT_FALSE(initial_ttl_signal(f));
  f.rst.ttl = 250;
  EXPECT_EQ(sig(initial_ttl_signal(f)), "initial_ttl");
}

TEST(RemoteSignals, RaceWhenThePeerTalksAfterItsRst) {
  RemoteFacts f = facts();
  f.st.packets[1] = 3;
  EXPECT_FALSE(race_signal(f));
  rh_flow_state after = f.st;
  f.state_after = after;
  EXPECT_FALSE(race_signal(f));
  f.state_after->packets[1] = 5;
  auto e = race_signal(f);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->strong);
  EXPECT_EQ(e->weight, 0.7);
}

TEST(RemoteSignals, BurstTtl) {
  RemoteFacts f = facts();
  f.fingerprint.ttls = {62, 62};
  EXPECT_FALSE(burst_ttl_signal(f));
  f.fingerprint.ttls = {62, 61};
  EXPECT_EQ(sig(burst_ttl_signal(f)), "burst_ttl");
}

TEST(RemoteSignals, SeqAgainstThePeersNext) {
  RemoteFacts f = facts();
  f.peer_next = 1000;
  f.rst.seq = 1000;
  EXPECT_FALSE(seq_signal(f));  // no packet of the peer besides its RST
  f.st.packets[1] = 2;
  EXPECT_EQ(seq_signal(f)->weight, -0.15);
  f.rst.seq = 1100;
  EXPECT_EQ(seq_signal(f)->weight, 0.05);
  f.rst.seq = 1000 + 100000;
  EXPECT_EQ(seq_signal(f)->weight, 0.3);
}

TEST(RemoteSignals, SeqChangeNeedsRisingOffsets) {
  RemoteFacts f = facts();
  f.peer_next = 1000;
  f.st.packets[1] = 2;
  f.fingerprint.seq_offsets = {0, 0};
  EXPECT_FALSE(seq_change_signal(f));
  f.fingerprint.seq_offsets = {0, 1460, 2920};
  EXPECT_EQ(sig(seq_change_signal(f)), "seq_change");
}

TEST(RemoteSignals, TimingFasterThanARoundTrip) {
  RemoteFacts f = facts();
  f.rtt_ms = 20;
  f.receiver_local = true;
  f.receiver_is_init = true;
  f.st.ts_syn = 1'000'000'000;
  f.rst.ts_ns = f.st.ts_syn + 2'000'000;  // 2 ms after our SYN
  auto e = timing_signal(f);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->weight, 0.5);
  f.rst.ts_ns = f.st.ts_syn + 30'000'000;
  EXPECT_EQ(timing_signal(f)->weight, -0.05);
  f.st.bytes[f.sender] = 10;  // the peer sent data: no timing signal
  EXPECT_FALSE(timing_signal(f));
}

TEST(RemoteSignals, WindowDfAndIpId) {
  RemoteFacts f = facts();
  EXPECT_FALSE(window_signal(f));
  EXPECT_FALSE(ip_df_signal(f));
  EXPECT_FALSE(ip_id_signal(f));
  f.rst.window = 512;
  EXPECT_EQ(sig(window_signal(f)), "window");
  f.rst.ip_flags = 0;
  EXPECT_EQ(sig(ip_df_signal(f)), "ip_df");
  f.base->ip_id = 100;
  f.rst.ip_id = 30000;
  EXPECT_EQ(ip_id_signal(f)->weight, 0.1);
  f.rst.ip_id = 101;
  EXPECT_FALSE(ip_id_signal(f));
  f.base->ip_id = 0;
  EXPECT_EQ(ip_id_signal(f)->weight, 0);  // Linux's SYN-ACK with ID 0: context
}

TEST(RemoteSignals, L2SourceAndVendor) {
  RemoteFacts f = facts();
  EXPECT_FALSE(l2_source_signal(f));
  f.l2_mac = std::array<uint8_t, 6>{2, 0, 0, 0, 0, 1};
  std::memcpy(f.rst.smac, f.l2_mac->data(), 6);
  std::memcpy(f.base->smac, f.l2_mac->data(), 6);
  EXPECT_EQ(l2_source_signal(f)->weight, -0.05);
  f.base->smac[5] = 9;
  EXPECT_EQ(l2_source_signal(f)->weight, 0.1);
  EXPECT_FALSE(l2_vendor_signal(f));
  f.l2_vendor = "Example Networks";
  EXPECT_EQ(l2_vendor_signal(f)->observed(), "Example Networks");
}

TEST(RemoteSignals, PayloadTextOrDiagnostic) {
  RemoteFacts f = facts();
  EXPECT_FALSE(payload_signal(f));
  f.payload_text = "blocked";
  EXPECT_EQ(sig(payload_signal(f)), "payload_text");
  f.diagnostic = RstDiagnostic{7, std::nullopt, ""};
  EXPECT_EQ(sig(payload_signal(f)), "rst_diagnostic");
}

TEST(RemoteSignals, StackResponse) {
  RemoteFacts f = facts();
  EXPECT_FALSE(stack_response_signal(f));  // the receiver is not here
  f.receiver_local = true;
  EXPECT_EQ(sig(stack_response_signal(f)), "discarded");
  f.local_receive = true;
  EXPECT_EQ(sig(stack_response_signal(f)), "accepted");
  f.local_events = false;
  EXPECT_FALSE(stack_response_signal(f));
}

TEST(RemoteSignals, PortDistance) {
  RemoteFacts f = facts();
  std::map<uint16_t, int> hops = {{443, 3}, {22, 3}};
  f.port_hops = &hops;
  EXPECT_FALSE(port_distance_signal(f));
  hops[22] = 5;
  auto e = port_distance_signal(f);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->strong);
}

TEST(RemoteDecision, EndpointMiddleboxAndUnknown) {
  RemoteFacts f = facts();
  Decision d = decide(f, remote_evidence(f));
  EXPECT_EQ(d.origin, Origin::endpoint);
  EXPECT_EQ(d.hop, 3);
  EXPECT_NE(remote_summary(f, d, Stage::post_ack).find("itself reset"), std::string::npos);

  f.rst_hop = 1;  // nearer than the peer: a strong signal alone
  d = decide(f, remote_evidence(f));
  EXPECT_EQ(d.origin, Origin::middlebox);
  EXPECT_EQ(d.hop, 1);
  EXPECT_FALSE(d.ttl_forged);
  EXPECT_NE(remote_summary(f, d, Stage::post_ack).find("A middlebox at hop 1"), std::string::npos);

  // Strong but forged: a race at the peer's distance names no hop.
  f = facts();
  f.st.packets[1] = 1;
  f.state_after = f.st;
  f.state_after->packets[1] = 4;
  d = decide(f, remote_evidence(f));
  EXPECT_EQ(d.origin, Origin::middlebox);
  EXPECT_TRUE(d.ttl_forged);
  EXPECT_FALSE(d.hop);
  EXPECT_TRUE(d.conflicting);  // the TTL matches the peer exactly

  f = facts();
  f.endpoint_hop.reset();
  f.base.reset();
  d = decide(f, remote_evidence(f));
  EXPECT_EQ(d.origin, Origin::unknown);
  EXPECT_NE(remote_summary(f, d, Stage::post_syn).find("cannot tell the server"), std::string::npos);
}

TEST(RemoteEvidence, FollowsTheTableOrder) {
  RemoteFacts f = facts();
  f.rst.window = 1;
  f.l2_vendor = "Example Networks";
  auto ev = remote_evidence(f);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].signal, "hop_distance");
  EXPECT_EQ(ev[1].signal, "window");
  EXPECT_EQ(ev[2].signal, "l2_vendor");
}

TEST(Names, OriginAndStageRoundTrip) {
  for (Origin o : {Origin::endpoint, Origin::middlebox, Origin::local, Origin::unknown})
    EXPECT_EQ(parse_origin(name(o)), o);
  for (Stage s : {Stage::post_syn, Stage::post_ack, Stage::post_psh, Stage::later}) EXPECT_EQ(parse_stage(name(s)), s);
  EXPECT_STREQ(name(Origin::middlebox), "middlebox");
  EXPECT_STREQ(name(Stage::post_psh), "post_psh");
  EXPECT_FALSE(parse_origin("Middlebox"));
  EXPECT_FALSE(parse_stage(""));
}

}  // namespace
}  // namespace rsthop::attribution
