// Fusion against real injectors' habits: a device copying the probe's TTL is
// placed by the copy's offset (its replies die on the way back until the
// probe's TTL is high enough), an HTTP answer from before the server is the
// censor's, and a RST burst with two TTLs to the SYN is two senders.
#include <gtest/gtest.h>

#include <algorithm>

#include "diagnose/fusion.h"
#include "diagnose/fusion_signals.h"
#include "inputs.h"

using namespace rsthop;
using namespace rsthop::diagnose;
using namespace rsthop::diagnose::testing;

namespace {

bool has(const Verdict& v, const char* signal) {
  return std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& e) { return e.signal == signal; });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A copier at hop h: a probe with TTL k >= 2h - 1 draws a RST arriving with TTL k - 2h + 2,
// and (the device only watches) ICMP from hop k.
Inputs copier_at(int h) {
  Inputs in = base(ProbeOutcome::reset);
  const int first = 2 * h - 1;
  in.trigger = ladder(1000, [&](int t) { return t < first ? TriggerStep::silent : TriggerStep::reset; });
  in.control = control_passes();
  icmp_for(in, in.trigger, kTarget - 1);
  for (const auto& s : in.trigger)
    if (s.kind == TriggerStep::reset)
      in.resets.push_back(passive(s.local_port, static_cast<uint8_t>(s.ttl - 2 * h + 2), Origin::middlebox, 1));
  return in;
}

}  // namespace

TEST(FusionInjector, CopierHopFromTheOffset) {
  for (int h : {1, 2}) {
    Inputs in = copier_at(h);
    EXPECT_EQ(copier_hop(in), h);
    Verdict v = fuse(in);
    EXPECT_EQ(v.origin, Origin::middlebox) << v.summary;
    EXPECT_EQ(v.hop, h) << v.summary;
    EXPECT_EQ(v.hop_ip, hop_ip(h)) << v.summary;
    EXPECT_TRUE(has(v, "ttl_copy")) << v.summary;
  }
}

TEST(FusionInjector, NoCopierForAPositiveOrOddOffset) {
  Inputs in = copier_at(1);
  for (auto& r : in.resets) r.ttl = static_cast<uint8_t>(r.ttl + 59);  // 60 more than the probe's
  EXPECT_FALSE(copier_hop(in));
  for (auto& r : in.resets) r.ttl = static_cast<uint8_t>(r.ttl - 60);  // one less: odd
  EXPECT_FALSE(copier_hop(in));
}

TEST(FusionInjector, AnswerBeforeTheServerIsInjected) {
  Inputs in = base(ProbeOutcome::ok);
  in.tls.reset();
  in.target.port = 80;
  in.trigger_kind = Trigger::host;
  probe::HttpResult http;
  http.outcome = ProbeOutcome::ok;
  http.local_port = 40002;
  http.status_line = "HTTP/1.1 302 Found";
  in.http = http;
  in.trigger = ladder(1000, [](int t) { return t < 2 ? TriggerStep::silent : TriggerStep::response; });
  in.control = control_passes();
  icmp_for(in, in.trigger, kTarget - 1);
  Verdict v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::reset);
  EXPECT_EQ(v.origin, Origin::middlebox) << v.summary;
  EXPECT_EQ(v.hop, 2) << v.summary;
  EXPECT_EQ(v.trigger, Trigger::host);
  EXPECT_TRUE(has(v, "injected_answer"));
  EXPECT_TRUE(contains(v.summary, "'HTTP/1.1 302 Found'")) << v.summary;
  EXPECT_TRUE(contains(v.summary, "injected FIN")) << v.summary;
  // The same ladders with the answer from the server's hop: the server answers.
  in.trigger = control_passes();
  v = fuse(in);
  EXPECT_EQ(v.outcome, RequestOutcome::ok) << v.summary;
  EXPECT_EQ(v.origin, Origin::endpoint);
}

TEST(FusionInjector, InjectedAnswerFromTheCaptureAlone) {
  Inputs in = base(ProbeOutcome::ok);
  in.tls.reset();
  in.target.port = 80;
  probe::HttpResult http;
  http.outcome = ProbeOutcome::ok;
  http.local_port = 40002;
  in.http = http;
  ResetSeen r = passive(40002, 63, Origin::middlebox, 2);
  r.verdict.evidence.push_back({"injected_answer", "a FIN carrying 120 byte(s)", "", 0.2});
  in.resets.push_back(r);
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox) << v.summary;
  EXPECT_EQ(v.hop, 2);
  EXPECT_TRUE(has(v, "injected_answer"));
}

TEST(FusionInjector, TwoSendersToTheSyn) {
  Inputs in = base(ProbeOutcome::reset);
  in.connect = probe::ConnectResult{ProbeOutcome::refused, 1.0, 40000, ""};
  ResetSeen r = passive(40000, 64, Origin::middlebox, 1);
  r.verdict.evidence.push_back({"burst_ttl", "2 different TTLs in one burst", "one sender, one TTL", 0.3, true});
  r.verdict.fingerprint.ttls = {64, 62};
  in.resets.push_back(r);
  Verdict v = fuse(in);
  EXPECT_EQ(v.origin, Origin::middlebox) << v.summary;
  EXPECT_EQ(v.hop, 1);
  EXPECT_TRUE(contains(v.summary, "2 senders")) << v.summary;
  EXPECT_TRUE(contains(v.summary, "hops 1 and 3")) << v.summary;
}
