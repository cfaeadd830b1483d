// trace --auto-diagnose's trigger on a clock the tests drive: which anomalies
// start a diagnose, one at a time, the cool-down, the global budget and its
// refunds, what is never evidence; and the verdict line's join fields.
#include "diagnose/auto_trigger.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "diagnose/lines.h"

using namespace rsthop;
using namespace rsthop::diagnose;
using attribution::Origin;

namespace {

constexpr uint64_t kSec = 1'000'000'000ULL;

// A reset of a connection from 198.18.0.1:40000+n (side A, the initiator) to 198.18.<dst>.2:443.
flow::ResetRecord reset_to(int dst, int n = 0) {
  flow::ResetRecord r;
  rh_flow_key& k = r.first.ev.key;
  k.family = 4;
  k.addr_a[10] = k.addr_a[11] = 0xff;
  k.addr_a[12] = 198, k.addr_a[13] = 18, k.addr_a[14] = 0, k.addr_a[15] = 1;
  std::memcpy(k.addr_b, k.addr_a, 16);
  k.addr_b[14] = static_cast<uint8_t>(dst), k.addr_b[15] = 2;
  k.port_a = static_cast<uint16_t>(40000 + n);
  k.port_b = 443;
  r.initiator = RH_SIDE_A;
  r.app.tls_sni = "blocked.lab";
  return r;
}

attribution::Verdict verdict_of(Origin o, double confidence = 0.9) {
  attribution::Verdict v;
  v.origin = o;
  v.confidence = confidence;
  return v;
}

std::string id(int n) { return "1:id" + std::to_string(n); }

AutoTrigger::Options opts() {
  AutoTrigger::Options o;
  o.budget = 32;
  o.global_budget = 64;
  o.cooldown_ns = 600 * kSec;
  o.global_window_ns = 3600 * kSec;
  return o;
}

}  // namespace

TEST(AutoTrigger, AMiddleboxResetStartsAtOnceWithItsConnection) {
  AutoTrigger t(opts());
  auto s = t.on_reset(reset_to(1), verdict_of(Origin::middlebox), id(1), 10 * kSec);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reason, AutoReason::middlebox);
  EXPECT_EQ(s->destination.port, 443);
  EXPECT_EQ(addr_to_string(s->destination.addr.data()), "198.18.1.2");
  EXPECT_EQ(s->name, "blocked.lab");
  EXPECT_EQ(s->budget, 32);
  EXPECT_EQ(s->trigger_community_ids, std::vector<std::string>{id(1)});
  EXPECT_TRUE(t.busy());
}

TEST(AutoTrigger, AnUnsureMiddleboxVerdictWaitsForAStream) {
  AutoTrigger t(opts());
  EXPECT_FALSE(t.on_reset(reset_to(1), verdict_of(Origin::middlebox, 0.3), id(1), kSec));
}

TEST(AutoTrigger, AStreamOfEndpointResetsStartsAtTheFifthInTheWindow) {
  AutoTrigger t(opts());
  for (int n = 0; n < 4; n++)
    EXPECT_FALSE(t.on_reset(reset_to(1, n), verdict_of(Origin::endpoint), id(n), (10 + n) * kSec));
  auto s = t.on_reset(reset_to(1, 4), verdict_of(Origin::endpoint), id(4), 14 * kSec);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reason, AutoReason::reset_stream);
  EXPECT_EQ(s->trigger_community_ids, (std::vector<std::string>{id(0), id(1), id(2), id(3), id(4)}));
}

TEST(AutoTrigger, ResetsSpreadWiderThanTheWindowAreNoStream) {
  AutoTrigger t(opts());
  for (int n = 0; n < 20; n++)
    EXPECT_FALSE(t.on_reset(reset_to(1, n), verdict_of(Origin::endpoint), id(n), n * 3 * kSec)) << n;
}

TEST(AutoTrigger, ThisHostsOwnResetsAreNoEvidence) {
  AutoTrigger t(opts());
  for (int n = 0; n < 10; n++) {
    auto own = reset_to(1, n);
    own.local_reason = 1;  // our stack sent it (a probe's abort)
    EXPECT_FALSE(t.on_reset(own, verdict_of(Origin::middlebox), id(n), kSec));
    EXPECT_FALSE(t.on_reset(reset_to(1, n), verdict_of(Origin::local), id(n), kSec));
    auto served = reset_to(1, n);
    served.responder_local = true;  // a connection to this host's own service
    EXPECT_FALSE(t.on_reset(served, verdict_of(Origin::middlebox), id(n), kSec));
    auto unknown = reset_to(1, n);
    unknown.initiator = RH_SIDE_UNKNOWN;  // no SYN seen: no destination to probe
    EXPECT_FALSE(t.on_reset(unknown, verdict_of(Origin::middlebox), id(n), kSec));
  }
  EXPECT_EQ(t.counters().started, 0u);
}

TEST(AutoTrigger, OneAtATimeAndTheEvidenceWaits) {
  AutoTrigger t(opts());
  ASSERT_TRUE(t.on_reset(reset_to(1), verdict_of(Origin::middlebox), id(1), kSec));
  EXPECT_FALSE(t.on_reset(reset_to(2), verdict_of(Origin::middlebox), id(2), 2 * kSec));
  EXPECT_EQ(t.counters().busy, 1u);
  t.finished(20, 3 * kSec);
  auto s = t.on_reset(reset_to(2, 1), verdict_of(Origin::middlebox), id(3), 4 * kSec);
  ASSERT_TRUE(s);
  EXPECT_EQ(addr_to_string(s->destination.addr.data()), "198.18.2.2");
  EXPECT_EQ(s->trigger_community_ids, (std::vector<std::string>{id(2), id(3)}));
}

TEST(AutoTrigger, TheCoolDownHoldsTheSameDestinationBack) {
  AutoTrigger t(opts());
  ASSERT_TRUE(t.on_reset(reset_to(1), verdict_of(Origin::middlebox), id(1), 0));
  t.finished(10, 5 * kSec);
  for (int n = 1; n < 10; n++)
    EXPECT_FALSE(t.on_reset(reset_to(1, n), verdict_of(Origin::middlebox), id(n), (5 + n) * kSec));
  EXPECT_EQ(t.counters().cooldown, 9u);
  EXPECT_FALSE(t.on_reset(reset_to(1, 20), verdict_of(Origin::middlebox), id(20), 599 * kSec));
  EXPECT_TRUE(t.on_reset(reset_to(1, 21), verdict_of(Origin::middlebox), id(21), 600 * kSec));
}

TEST(AutoTrigger, TheGlobalBudgetCapsEveryDestinationTogetherAndGetsRefunds) {
  AutoTrigger t(opts());  // 32 each, 64 an hour
  ASSERT_TRUE(t.on_reset(reset_to(1), verdict_of(Origin::middlebox), id(1), 0));
  t.finished(32, kSec);
  ASSERT_TRUE(t.on_reset(reset_to(2), verdict_of(Origin::middlebox), id(2), 2 * kSec));
  t.finished(12, 3 * kSec);  // 20 unspent go back
  EXPECT_EQ(t.global_left(3 * kSec), 20);
  EXPECT_FALSE(t.on_reset(reset_to(3), verdict_of(Origin::middlebox), id(3), 4 * kSec));
  EXPECT_EQ(t.counters().global_budget, 1u);
  // An hour after the first grant its 32 are back.
  EXPECT_TRUE(t.on_reset(reset_to(3, 1), verdict_of(Origin::middlebox), id(4), 3600 * kSec));
}

TEST(AutoTrigger, SilentFlowsStartAtTheThird) {
  AutoTrigger t(opts());
  flow::FlowSummary f;
  f.family = 4;
  std::memcpy(f.destination.ip.data(), reset_to(1).first.ev.key.addr_b, 16);
  f.destination.port = 443;
  f.conn_state = "S0";
  f.closed_by = "timeout";
  flow::FlowSummary open = f;
  open.closed_by = "trace_end";  // still open when the trace stopped: not over
  flow::FlowSummary answered = f;
  answered.conn_state = "SF";
  answered.handshake_seen = true;
  answered.source.bytes = 100;
  answered.destination.bytes = 2000;
  for (int n = 0; n < 5; n++) {
    EXPECT_FALSE(t.on_flow(open, id(n), kSec));
    EXPECT_FALSE(t.on_flow(answered, id(n), kSec));
  }
  EXPECT_FALSE(t.on_flow(f, id(1), 2 * kSec));
  flow::FlowSummary unanswered = answered;  // the request left, nothing came back, no reset
  unanswered.destination.bytes = 0;
  unanswered.history = "ShAD";
  EXPECT_FALSE(t.on_flow(unanswered, id(2), 3 * kSec));
  auto s = t.on_flow(f, id(3), 4 * kSec);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->reason, AutoReason::silent_drop);
  EXPECT_EQ(s->trigger_community_ids, (std::vector<std::string>{id(1), id(2), id(3)}));
}

TEST(AutoTrigger, TrackedDestinationsAreBounded) {
  AutoTrigger::Options o = opts();
  o.max_destinations = 4;
  AutoTrigger t(o);
  for (int d = 0; d < 10; d++) t.on_reset(reset_to(d), verdict_of(Origin::endpoint), id(d), kSec);
  EXPECT_EQ(t.counters().untracked, 6u);
  // Once their evidence is old, new destinations take their places.
  EXPECT_FALSE(t.on_reset(reset_to(20), verdict_of(Origin::endpoint), id(20), 100 * kSec));
  EXPECT_EQ(t.counters().untracked, 6u);
}

TEST(AutoTrigger, TheVerdictLineJoinsItsResetsByCommunityId) {
  probe::Target tgt;
  tgt.addr = parse_addr("198.18.1.2").value();
  tgt.port = 443;
  Verdict v;
  v.outcome = RequestOutcome::reset;
  v.origin = Origin::middlebox;
  v.hop = 2;
  AutoDiagnoseInfo info{AutoReason::reset_stream, {id(1), id(2)}, 32, 17};
  std::string line;
  output::Context ctx;
  append_verdict_line(line, ctx, kSec, tgt, "blocked.lab", v, &info);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["network"]["community_id"], id(1));
  const auto& a = j["rsthop"]["auto_diagnose"];
  EXPECT_EQ(a["trigger"], "reset_stream");
  EXPECT_EQ(a["trigger_community_ids"], nlohmann::json({id(1), id(2)}));
  EXPECT_EQ(a["budget"], 32);
  EXPECT_EQ(a["probes"], 17);
  EXPECT_EQ(j["rsthop"]["verdict"]["hop"], 2);

  std::string plain;
  append_verdict_line(plain, ctx, kSec, tgt, "blocked.lab", v);
  auto p = nlohmann::json::parse(plain);
  EXPECT_FALSE(p["network"].contains("community_id"));
  EXPECT_FALSE(p["rsthop"].contains("auto_diagnose"));
}
