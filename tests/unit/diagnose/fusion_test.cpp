// Fusion on synthetic ladders: the hop, the origin and the outcome for each
// way a path can reset or drop, with and without the kernel capture.
#include "diagnose/fusion.h"

#include <gtest/gtest.h>

#include "inputs.h"

using namespace rsthop;
using namespace rsthop::diagnose;
using namespace rsthop::diagnose::testing;
using attribution::Origin;
using ProbeOutcome = probe::Outcome;
using probe::SynStep;
using probe::TriggerStep;

TEST(Fusion, HealthyPathIsOk) {
  Inputs in = base(ProbeOutcome::ok);
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::ok);
  EXPECT_EQ(v.origin, Origin::endpoint);
  EXPECT_EQ(v.hop, kTarget);
  EXPECT_EQ(v.endpoint_hop, kTarget);
}

// A certificate that did not verify is an answer from the server, not a TLS alert (whose name
// the summary would then print empty).
TEST(Fusion, CertificateErrorIsAnAnswerNotAnAlert) {
  Inputs in = base(ProbeOutcome::cert_error);
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::ok);
  EXPECT_EQ(v.origin, Origin::endpoint);
  EXPECT_EQ(v.summary.find("TLS alert"), std::string::npos) << v.summary;
}

TEST(Fusion, InPathResetAfterTheTtlCheck) {
  for (int d : {1, 2, 3}) {
    Inputs in = base(ProbeOutcome::reset);
    in.trigger = ladder(1000, [&](int k) { return k <= d ? TriggerStep::silent : TriggerStep::reset; });
    in.control = control_passes();
    icmp_for(in, in.trigger, d);
    in.resets.push_back(
        passive(static_cast<uint16_t>(1000 + d + 1), static_cast<uint8_t>(64 - d + 1), Origin::middlebox, d));
    Verdict v = fuse(in);
    EXPECT_EQ(v.outcome, RequestOutcome::reset) << d;
    EXPECT_EQ(v.origin, Origin::middlebox) << d;
    EXPECT_EQ(v.hop, d) << v.summary;
    ASSERT_TRUE(v.hop_ip) << d;
    EXPECT_EQ(*v.hop_ip, hop_ip(d));
    EXPECT_EQ(v.trigger, Trigger::sni);
    EXPECT_GE(v.confidence, 0.8);
  }
}

TEST(Fusion, InPathResetBeforeTheTtlCheck) {
  Inputs in = base(ProbeOutcome::reset);
  in.trigger = ladder(1000, [](int k) { return k < 2 ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  icmp_for(in, in.trigger, 1);
  in.resets.push_back(passive(1002, 63, Origin::middlebox, 2));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_EQ(v.hop, 2);
}

TEST(Fusion, EndpointResetIsTheEndpoint) {
  Inputs in = base(ProbeOutcome::reset);
  in.trigger = ladder(1000, [](int k) { return k < kTarget ? TriggerStep::silent : TriggerStep::reset; });
  in.control = ladder(2000, [](int k) { return k < kTarget ? TriggerStep::silent : TriggerStep::reset; });
  icmp_for(in, in.trigger, kTarget - 1);
  in.resets.push_back(passive(1000 + kTarget, 61, Origin::endpoint, kTarget));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::endpoint);
  EXPECT_EQ(v.hop, kTarget);
  EXPECT_EQ(v.trigger, Trigger::any);
  EXPECT_EQ(*v.hop_ip, in.target.addr);
}

TEST(Fusion, WithoutCaptureAResetAtTheTargetIsNotBlamedOnAnyone) {
  Inputs in = base(ProbeOutcome::reset);
  in.captured = false;
  in.trigger = ladder(1000, [](int k) { return k < kTarget ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::reset);
  EXPECT_EQ(v.origin, Origin::unknown) << v.summary;
  EXPECT_LT(v.confidence, 0.5);
}

TEST(Fusion, WithoutCaptureAnEarlyResetStillNamesAHop) {
  Inputs in = base(ProbeOutcome::reset);
  in.captured = false;
  in.trigger = ladder(1000, [](int k) { return k < 2 ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_EQ(v.hop, 2);
  EXPECT_LT(v.confidence, 0.7);
}

TEST(Fusion, SilentDropAtHopK) {
  for (int d : {1, 2, 3}) {
    Inputs in = base(ProbeOutcome::timeout);
    in.trigger = ladder(1000, [](int) { return TriggerStep::silent; });
    in.control = control_passes();
    icmp_for(in, in.trigger, d);
    Verdict v = fuse(in);
    EXPECT_EQ(v.outcome, RequestOutcome::drop) << d;
    EXPECT_EQ(v.origin, Origin::middlebox) << d;
    EXPECT_EQ(v.hop, d) << d;
    EXPECT_EQ(v.trigger, Trigger::sni);
  }
}

TEST(Fusion, ClosedPortIsTheEndpoint) {
  Inputs in = base(ProbeOutcome::ok);
  in.tls.reset();
  in.connect = probe::ConnectResult{ProbeOutcome::refused, 1.0, 40000, "refused"};
  in.syn.back().kind = SynStep::refused;
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::reset);
  EXPECT_EQ(v.origin, Origin::endpoint);
  EXPECT_EQ(v.hop, kTarget);
}

TEST(Fusion, OwnFirewallRefusingTheSynIsThisHostNotTheServer) {
  // nft output "reject with tcp reset": every SYN, at any TTL, is refused at once.
  Inputs in = base(ProbeOutcome::ok);
  in.tls.reset();
  in.connect = probe::ConnectResult{ProbeOutcome::refused, 0.1, 40000, "refused"};
  in.syn.clear();
  for (int k = 1; k <= kTarget; k++) in.syn.push_back({k, SynStep::refused, in.target.addr, 0.1, 0});
  ResetSeen rs = passive(40000, 0, Origin::local, 0);
  rs.verdict.evidence.push_back({"local_refusal", "a RST accepted in SYN_SENT that no traced interface saw", "", 0.9});
  in.resets.push_back(rs);
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::reset);
  EXPECT_EQ(v.origin, Origin::local) << v.summary;
  EXPECT_EQ(v.hop, 0);
  EXPECT_FALSE(v.hop_ip);
  EXPECT_FALSE(v.endpoint_hop);
  const std::string phrase = "A firewall rule on this host refused the connection before the SYN left";
  EXPECT_NE(v.summary.find(phrase), std::string::npos) << v.summary;
  EXPECT_TRUE(
      std::none_of(v.evidence.begin(), v.evidence.end(), [](const auto& e) { return e.signal == "endpoint_hop"; }));

  // Without the engine's local_refusal, a RST to the SYN still is the closed port.
  in.resets.clear();
  EXPECT_EQ(fuse(in).origin, Origin::endpoint);
}

TEST(Fusion, LocalResetIsThisHost) {
  Inputs in = base(ProbeOutcome::reset);
  in.resets.push_back(passive(40001, 64, Origin::local, 0));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::local);
  EXPECT_EQ(v.hop, 0);
  EXPECT_FALSE(v.hop_ip);
}

TEST(Fusion, TtlCopyingDeviceIsNotReadAsADistance) {
  Inputs in = base(ProbeOutcome::reset);
  in.trigger = ladder(1000, [](int k) { return k < 2 ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  icmp_for(in, in.trigger, 1);
  // The forged RST copies the probe's TTL: 2, 3, 4, ... which a naive reading takes for far hops.
  for (int k = 2; k <= kTarget + 1; k++)
    in.resets.push_back(
        passive(static_cast<uint16_t>(1000 + k), static_cast<uint8_t>(k), Origin::middlebox, 64 - k + 1));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_EQ(v.hop, 1) << v.summary;  // it answered ICMP at 1 and reset from 2: hop 1 from the ladder alone
  EXPECT_TRUE(std::any_of(v.evidence.begin(), v.evidence.end(), [](const auto& e) { return e.signal == "ttl_copy"; }));
}

TEST(Fusion, ProxyThatResetsLaterIsNamedFromThePassiveVerdict) {
  Inputs in = base(ProbeOutcome::reset);
  in.trigger = ladder(1000, [](int) { return TriggerStep::response; });
  in.control = ladder(2000, [](int) { return TriggerStep::response; });
  in.resets.push_back(passive(40001, 64, Origin::middlebox, 1));
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox);
  EXPECT_EQ(v.hop, 1);
  EXPECT_EQ(*v.hop_ip, hop_ip(1));
}

// `diagnose 198.18.4.2:443 --sni blocked.lab`: the summary names the SNI the trigger sent, not the
// address typed as the target.
TEST(Fusion, TheSummaryNamesTheTriggersSniNotTheTargetsHost) {
  Inputs in = base(ProbeOutcome::reset);
  in.target.host = "198.18.4.2";
  in.trigger_name = "blocked.lab";
  in.trigger = ladder(1000, [](int k) { return k <= 1 ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  icmp_for(in, in.trigger, 1);
  in.resets.push_back(passive(1002, 63, Origin::middlebox, 1));
  Verdict v = fuse(in);
  EXPECT_EQ(v.trigger, Trigger::sni);
  EXPECT_NE(v.summary.find("when the ClientHello names 'blocked.lab'"), std::string::npos) << v.summary;
  EXPECT_EQ(v.summary.find("names '198.18.4.2'"), std::string::npos) << v.summary;
}
