// Fusion's signals one by one, and the names of its vocabulary.
#include "diagnose/fusion_signals.h"

#include <gtest/gtest.h>

using namespace rsthop;
using namespace rsthop::diagnose;
using probe::SynStep;
using probe::TriggerStep;

namespace {

Inputs target() {
  Inputs in;
  in.target.addr = parse_addr("198.18.4.2").value();
  in.target.port = 443;
  in.captured = true;
  return in;
}

std::vector<SynStep> syn_reaching(int k) {
  std::vector<SynStep> v;
  for (int t = 1; t < k; t++) v.push_back({t, SynStep::time_exceeded, std::nullopt, 1.0, 0});
  v.push_back({k, SynStep::reached, std::nullopt, 1.0, 0});
  v.push_back({k + 1, SynStep::refused, std::nullopt, 1.0, 0});
  return v;
}

}  // namespace

TEST(FusionSignals, ReachedAtIsTheLowestAnsweringTtl) {
  EXPECT_FALSE(reached_at({}));
  EXPECT_EQ(reached_at(syn_reaching(4)), 4);
}

TEST(FusionSignals, EndpointHop) {
  Inputs in = target();
  EXPECT_FALSE(endpoint_hop_signal(in));
  in.syn = syn_reaching(4);
  auto e = endpoint_hop_signal(in);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->observed(), "the SYN ladder reached 198.18.4.2:443 at TTL 4");
}

TEST(FusionSignals, PortDistanceOnlyWhenPort80IsFarther) {
  Inputs in = target();
  in.syn = syn_reaching(3);
  in.syn80 = syn_reaching(3);
  EXPECT_FALSE(port_distance_signal(in));
  in.syn80 = syn_reaching(5);
  auto e = port_distance_signal(in);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->weight, 0.6);
  in.syn = syn_reaching(6);
  EXPECT_FALSE(port_distance_signal(in));
}

TEST(FusionSignals, NoCapture) {
  Inputs in = target();
  EXPECT_FALSE(no_capture_signal(in));
  in.captured = false;
  EXPECT_EQ(no_capture_signal(in)->signal, "no_capture");
}

TEST(FusionSignals, ControlPassesOrFails) {
  Inputs in = target();
  EXPECT_FALSE(control_signal(in));
  in.control = {{1, TriggerStep::silent, 1.0, 2001, ""}, {2, TriggerStep::response, 1.0, 2002, ""}};
  EXPECT_EQ(control_signal(in)->observed(), "the control request passes (answered at TTL 2)");
  in.control.push_back({3, TriggerStep::reset, 1.0, 2003, ""});
  EXPECT_EQ(control_signal(in)->observed(), "the control request fails too");
}

TEST(FusionSignals, TtlCopyNeedsTwoRstTtls) {
  Inputs in = target();
  in.trigger = {{2, TriggerStep::reset, 1.0, 1002, ""}, {3, TriggerStep::reset, 1.0, 1003, ""}};
  ResetSeen r;
  r.local_port = 1002;
  r.ttl = 62;
  in.resets.push_back(r);
  r.local_port = 1003;
  in.resets.push_back(r);
  EXPECT_FALSE(ttl_copy_signal(in));  // one TTL: one sender
  in.resets.front().ttl = 2;          // the probe's TTL as it left, then one more with the probe's one more
  in.resets.back().ttl = 3;
  ASSERT_TRUE(ttl_copy_signal(in));
  EXPECT_EQ(ttl_copy_signal(in)->signal, "ttl_copy");
  EXPECT_EQ(ttl_copy_signal(in)->observed(), "the RST's TTL follows the probe's TTL (2, 3): the device copies it");
}

// Two TTLs chosen per connection that happen to be one apart, as the probes are (1 in ~200 for a
// national firewall's random TTL): the offset (+200) is no copy's (a copy arrives with the probe's
// TTL or less), so the TTL varies; an odd offset neither.
TEST(FusionSignals, RandomTtlsOneApartAreNoCopy) {
  Inputs in = target();
  in.trigger = {{3, TriggerStep::reset, 1.0, 1003, ""}, {4, TriggerStep::reset, 1.0, 1004, ""}};
  ResetSeen r;
  r.local_port = 1003;
  r.ttl = 203;
  in.resets.push_back(r);
  r.local_port = 1004;
  r.ttl = 204;
  in.resets.push_back(r);
  ASSERT_TRUE(ttl_copy_signal(in));
  EXPECT_EQ(ttl_copy_signal(in)->signal, "ttl_varies");
  EXPECT_FALSE(copier_hop(in));
  in.resets.front().ttl = 2;  // offset -1: odd, no copy either
  in.resets.back().ttl = 3;
  EXPECT_EQ(ttl_copy_signal(in)->signal, "ttl_varies");
  in.resets.front().ttl = 1;  // offset -2: a copier at hop 2
  in.resets.back().ttl = 2;
  EXPECT_EQ(ttl_copy_signal(in)->signal, "ttl_copy");
  EXPECT_EQ(copier_hop(in), 2);
}

TEST(FusionSignals, TtlChosenPerConnectionVaries) {
  Inputs in = target();
  in.trigger = {{2, TriggerStep::reset, 1.0, 1002, ""}, {3, TriggerStep::reset, 1.0, 1003, ""}};
  ResetSeen r;
  r.local_port = 1002;
  r.ttl = 113;
  in.resets.push_back(r);
  r.local_port = 1003;
  r.ttl = 47;  // unrelated to the probe's TTL: a national-firewall style random TTL
  in.resets.push_back(r);
  ASSERT_TRUE(ttl_copy_signal(in));
  EXPECT_EQ(ttl_copy_signal(in)->signal, "ttl_varies");
}

TEST(FusionSignals, DelayedReset) {
  Inputs in = target();
  EXPECT_FALSE(delayed_reset_signal(in));
  probe::TlsResult tls;
  tls.reset_after_hello_ms = 1500.4;
  in.tls = tls;
  EXPECT_EQ(delayed_reset_signal(in)->observed(),
            "reset 1500 ms after the ClientHello, the ladder's requests were answered");
}

TEST(FusionSignals, IcmpTtlsMatchTheLaddersPorts) {
  Inputs in = target();
  std::vector<TriggerStep> steps = {{1, TriggerStep::silent, 1.0, 1001, ""}, {2, TriggerStep::silent, 1.0, 1002, ""}};
  in.icmp.push_back({1002, {}, 11, 0});
  in.icmp.push_back({4242, {}, 11, 0});
  EXPECT_EQ(icmp_ttls(in, steps), std::set<int>{2});
}

TEST(FusionNames, RoundTrip) {
  for (auto o : {RequestOutcome::ok, RequestOutcome::reset, RequestOutcome::drop, RequestOutcome::error})
    EXPECT_EQ(parse_outcome(name(o)), o);
  for (auto t : {Trigger::sni, Trigger::host, Trigger::any, Trigger::none}) EXPECT_EQ(parse_trigger(name(t)), t);
  EXPECT_STREQ(name(RequestOutcome::drop), "drop");
  EXPECT_STREQ(name(Trigger::none), "none");
  EXPECT_FALSE(parse_outcome("dropped"));
  EXPECT_FALSE(parse_trigger("SNI"));
}
