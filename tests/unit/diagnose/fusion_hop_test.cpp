// Naming the hop honestly: the candidates a ladder cannot separate, the
// on-path rule, silent-drop boundaries, copied and varying RST TTLs, and a
// firewall that answers in the server's name.
#include <gtest/gtest.h>

#include <algorithm>

#include "diagnose/fusion.h"
#include "inputs.h"

using namespace rsthop;
using namespace rsthop::diagnose;
using namespace rsthop::diagnose::testing;

namespace {

bool has(const Verdict& v, const char* signal) {
  return std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& e) { return e.signal == signal; });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The trigger is reset from TTL `k` on; ICMP answers up to `icmp_upto`.
Inputs reset_from(int k, int icmp_upto) {
  Inputs in = base(ProbeOutcome::reset);
  in.trigger = ladder(1000, [&](int t) { return t < k ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  icmp_for(in, in.trigger, icmp_upto);
  return in;
}

}  // namespace

TEST(FusionHop, UntrustedRstTtlNamesBothAdjacentHops) {
  for (int k : {2, 3}) {
    Inputs in = reset_from(k, k - 1);
    // The capture saw the RST, but the engine could not read a distance from its TTL.
    in.resets.push_back(passive(static_cast<uint16_t>(1000 + k), 64, Origin::middlebox, std::nullopt));
    Verdict v = fuse(in);
    EXPECT_EQ(v.origin, Origin::middlebox) << k;
    ASSERT_EQ(v.candidates.size(), 2u) << v.summary;
    EXPECT_EQ(v.candidates[0].hop, k - 1);
    EXPECT_EQ(v.candidates[1].hop, k);
    EXPECT_EQ(v.candidates[0].ip, hop_ip(k - 1));
    EXPECT_EQ(v.candidates[1].ip, hop_ip(k));
    ASSERT_TRUE(v.hop);
    EXPECT_TRUE(*v.hop == k - 1 || *v.hop == k);
    const std::string pair = "between hop " + std::to_string(k - 1) + " (198.18." + std::to_string(k - 1) +
                             ".2) and hop " + std::to_string(k) + " (198.18." + std::to_string(k) + ".2)";
    EXPECT_TRUE(contains(v.summary, pair)) << v.summary;
  }
}

TEST(FusionHop, TrustedRstTtlNamesOneHop) {
  Inputs in = reset_from(3, 2);
  in.resets.push_back(passive(1003, 63, Origin::middlebox, 2));
  Verdict v = fuse(in);
  EXPECT_EQ(v.hop, 2);
  EXPECT_TRUE(v.candidates.empty()) << v.summary;
}

TEST(FusionHop, ProbeResetAndTimeExceededIsOnPathAtThatHop) {
  // TTL 2 is reset and also draws ICMP from hop 2: the probe went on past the device.
  Inputs in = reset_from(2, 2);
  ResetSeen rs = passive(1002, 63, Origin::middlebox, 1);  // a distance that would say "hop 1"
  rs.verdict.evidence.push_back({"race", "the server answered after the RST", "", 0.4});
  in.resets.push_back(rs);
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_EQ(v.hop, 2) << v.summary;
  EXPECT_EQ(v.hop_ip, hop_ip(2));
  EXPECT_TRUE(v.candidates.empty());
  EXPECT_TRUE(contains(v.summary, "on-path")) << v.summary;
  EXPECT_TRUE(has(v, "on_path"));
  EXPECT_TRUE(has(v, "race"));
}

TEST(FusionHop, ServerOrTheDeviceInFrontOfItAreBothCandidates) {
  Inputs in = reset_from(kTarget, kTarget - 1);
  in.resets.push_back(passive(1000 + kTarget, 64, Origin::unknown, std::nullopt));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::unknown);
  EXPECT_EQ(v.hop, kTarget);
  ASSERT_EQ(v.candidates.size(), 2u);
  EXPECT_EQ(v.candidates[0].hop, kTarget - 1);
  EXPECT_EQ(v.candidates[1].ip, in.target.addr);
  EXPECT_TRUE(contains(v.summary, "between hop 3 (198.18.3.2) and hop 4 (198.18.4.2)")) << v.summary;
}

TEST(FusionHop, FirewallAnsweringWithTheServersAddressIsNotTheServer) {
  // The RST carries the server's address (the engine calls it the endpoint) but its TTL puts it at hop 3.
  Inputs in = reset_from(kTarget, kTarget - 1);
  in.resets.push_back(passive(1000 + kTarget, 62, Origin::endpoint, kTarget - 1));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox) << v.summary;
  EXPECT_EQ(v.hop, kTarget - 1);
  EXPECT_TRUE(has(v, "server_address"));
  EXPECT_TRUE(contains(v.summary, "in the server's own name")) << v.summary;

  // The server's own RST (its TTL says hop 4) stays the endpoint.
  in.resets.back() = passive(1000 + kTarget, 61, Origin::endpoint, kTarget);
  EXPECT_EQ(fuse(in).origin, Origin::endpoint);
}

TEST(FusionHop, VaryingRstTtlGivesNoDistance) {
  Inputs in = reset_from(2, 1);
  // A TTL chosen per connection: the engine reads a different, far distance each time.
  const uint8_t ttls[] = {0, 0, 113, 47, 90, 71};
  for (int k = 2; k <= kTarget + 1; k++)
    in.resets.push_back(passive(static_cast<uint16_t>(1000 + k), ttls[k], Origin::middlebox, 64 - ttls[k] % 64));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_TRUE(has(v, "ttl_varies"));
  ASSERT_EQ(v.candidates.size(), 2u) << v.summary;
  EXPECT_EQ(v.candidates[0].hop, 1);
  EXPECT_EQ(v.candidates[1].hop, 2);
}

TEST(FusionHop, SilentDropNamesTheLastAnsweringAndTheFirstSilentHop) {
  for (int d : {1, 2}) {
    Inputs in = base(ProbeOutcome::timeout);
    in.trigger = ladder(1000, [](int) { return TriggerStep::silent; });
    in.control = control_passes();
    icmp_for(in, in.trigger, d);
    Verdict v = fuse(in);
    EXPECT_EQ(v.hop, d);
    ASSERT_EQ(v.candidates.size(), 2u) << d;
    EXPECT_EQ(v.candidates[0].hop, d);
    EXPECT_EQ(v.candidates[1].hop, d + 1);
    EXPECT_TRUE(contains(v.summary, "between hop " + std::to_string(d))) << v.summary;
  }
}

TEST(FusionHop, SilentControlMovesTheDropBoundary) {
  // Hop 2 never answers ICMP (the control is silent there too); hop 3 answers the control.
  Inputs in = base(ProbeOutcome::timeout);
  in.trigger = ladder(1000, [](int) { return TriggerStep::silent; });
  in.control = control_passes();
  icmp_for(in, in.trigger, 1);
  for (const auto& s : in.control)
    if (s.ttl == 1 || s.ttl == 3) in.icmp.push_back({s.local_port, hop_ip(s.ttl), 11, 0});
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  ASSERT_EQ(v.candidates.size(), 2u);
  EXPECT_EQ(v.candidates[0].hop, 2);
  EXPECT_EQ(v.candidates[1].hop, 3);
  EXPECT_EQ(v.hop, 2);
}
