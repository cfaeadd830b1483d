// The ladder recogniser on replayed packets: scripted diagnose-like
// connections (tests/unit/flow/conn.h) through the offline road (the pcap
// Tracker) and a pipeline that writes nothing, whose hooks feed the
// recogniser as `rsthop analyze` wires them.
#include "diagnose/captured_ladder.h"

#include <gtest/gtest.h>

#include "conn.h"
#include "pcap/step_scan.h"
#include "pipeline/pipeline.h"
#include "tls_hello.h"

namespace rsthop::diagnose {
namespace {

using test::Bytes;
using test::Conn;
using test::kMs;

constexpr const char* kClient = "198.18.0.1";
constexpr const char* kServer = "198.19.9.9";
std::string router(int hop) { return "198.18." + std::to_string(hop) + ".1"; }

enum class Answer { silence, icmp, reset, data, fin };

class Scene {
 public:
  Scene() : pipe_(options(), nullptr, output::Context{}) {
    pipe_.set_hooks({.on_reset =
                         [this](const flow::ResetRecord& r, const attribution::Verdict& v) {
                           rec.add_reset(r, v, control);
                           return Result<void>();
                         },
                     .on_packet = [this](const flow::Packet& p) { rec.add(p, control); }});
  }

  // One trigger-ladder step: a full-TTL handshake, then `request` with TTL `ttl`, then what answers it,
  // then the probe's own abort (a client RST, which is no evidence).  `icmp_hop` names the router.
  void step(uint16_t port, uint8_t ttl, const std::string& request, Answer a, int icmp_hop = 0) {
    Conn c = conn(port);
    handshake(c);
    c.c_ttl = ttl;
    auto req = c.builder(true, test::kData, request);
    feed(req.build());
    if (a == Answer::icmp) {
      auto quote = req.ttl(1).build_l3();
      feed(test::PacketBuilder()
               .eth()
               .ipv4(router(icmp_hop ? icmp_hop : ttl), kClient)
               .ttl(254)
               .icmp_time_exceeded(quote)
               .build());
    }
    if (a == Answer::reset) {
      c.s_ttl = forged_ttl;  // a middlebox's RST, not the server's (which arrive with 60)
      feed(c.s(test::kRstAck));
    }
    if (a == Answer::data) feed(c.s(test::kData, "HTTP/1.1 200 OK\r\n\r\n"));
    if (a == Answer::fin) feed(c.s(test::kFinAck));
    feed(c.c(test::kRst));
  }
  // One SYN-ladder step: a SYN with TTL `ttl`, answered by router `ttl`'s ICMP or, when `reached`, the server.
  void syn(uint16_t port, uint8_t ttl, bool reached) {
    Conn c = conn(port);
    c.c_ttl = ttl;
    auto s = c.builder(true, test::kSyn);
    feed(s.build());
    if (reached) {
      feed(c.s(test::kSynAck));
      feed(c.c(test::kRst));
    } else {
      feed(test::PacketBuilder()
               .eth()
               .ipv4(router(ttl), kClient)
               .ttl(254)
               .icmp_time_exceeded(s.ttl(1).build_l3())
               .build());
    }
  }
  // The application probe: the request at full TTL.
  void full(uint16_t port, const std::string& request, Answer a) { step(port, 64, request, a); }

  std::vector<CapturedLadder> ladders() {
    pipe_.finish_flows(now_ + 10'000 * kMs);
    auto ls = rec.ladders();
    // analyze runs this pass only when the scan of the frames says a ladder may be there.
    if (!ls.empty()) {
      EXPECT_TRUE(scan_.maybe()) << "pcap::StepScan missed a ladder";
      EXPECT_TRUE(tracked_scan_.maybe()) << "pcap::StepScan, fed by the Tracker, missed a ladder";
    }
    return ls;
  }

  bool control = false;     // packets of the --control file
  uint8_t forged_ttl = 60;  // the TTL the step's RSTs arrive with
  LadderRecogniser rec{LadderRecogniser::Options{}};

 private:
  static pipeline::Pipeline::Options options() {
    pipeline::Pipeline::Options o;
    o.engine.local_events = false;
    o.flow_lines = o.reset_lines = false;
    return o;
  }
  Conn conn(uint16_t port) {
    Conn c;
    c.client = kClient;
    c.server = kServer;
    c.cport = next_port_++;
    c.sport = port;
    c.s_ttl = 60;
    return c;
  }
  void handshake(Conn& c) {
    feed(c.c(test::kSyn));
    feed(c.s(test::kSynAck));
    feed(c.c(test::kAck));
  }
  void feed(Bytes b) {
    now_ += kMs;
    if (!control) scan_.add(b, true);
    tracker_.set_scan(control ? nullptr : &tracked_scan_);
    if (auto p = tracker_.feed(pcap::Frame{now_, std::move(b), RH_HOOK_PCAP})) pipe_.add(*p);
    pipe_.advance(now_);
  }

  pcap::Tracker tracker_;
  pcap::StepScan scan_;          // the main files' frames
  pcap::StepScan tracked_scan_;  // the same, through the Tracker (analyze's one-read pass)
  pipeline::Pipeline pipe_;
  uint64_t now_ = 1'000'000 * kMs;
  uint16_t next_port_ = 40000;
};

std::string get(const std::string& host) { return "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"; }

const CapturedLadder& only(const std::vector<CapturedLadder>& ls) {
  EXPECT_EQ(ls.size(), 1u);
  return ls.front();
}

using K = probe::TriggerStep::Kind;
using Steps = std::vector<std::pair<int, probe::TriggerStep::Kind>>;
Steps kinds(const std::vector<probe::TriggerStep>& steps) {
  Steps out;
  for (const auto& s : steps) out.emplace_back(s.ttl, s.kind);
  return out;
}

TEST(CapturedLadder, NoLadderInOrdinaryConnections) {
  Scene s;
  s.full(80, get("example.com"), Answer::data);
  s.full(80, get("example.com"), Answer::reset);
  s.syn(80, 64, true);
  EXPECT_TRUE(s.ladders().empty());
}

// A device between hops 2 and 3 forges a RST for one Host; the control passes and reaches the server.
TEST(CapturedLadder, HostTriggeredResetIsFusedLikeDiagnose) {
  Scene s;
  s.forged_ttl = 62;  // sent from 64, two hops away
  s.full(80, get("blocked.example"), Answer::reset);
  for (uint8_t k = 1; k <= 4; k++) s.syn(80, k, k == 4);
  for (uint8_t k = 1; k <= 3; k++) s.step(80, k, get("blocked.example"), k < 3 ? Answer::icmp : Answer::reset);
  for (uint8_t k = 1; k <= 4; k++) s.step(80, k, get("rsthop-control.invalid"), k < 4 ? Answer::icmp : Answer::data);
  const auto ls = s.ladders();
  const CapturedLadder& l = only(ls);
  EXPECT_EQ(l.name, "blocked.example");
  EXPECT_EQ(kinds(l.inputs.trigger), (Steps{{1, K::silent}, {2, K::silent}, {3, K::reset}}));
  EXPECT_EQ(kinds(l.inputs.control), (Steps{{1, K::silent}, {2, K::silent}, {3, K::silent}, {4, K::response}}));
  ASSERT_EQ(l.inputs.syn.size(), 4u);
  EXPECT_EQ(l.inputs.syn[3].kind, probe::SynStep::reached);
  EXPECT_EQ(l.inputs.syn[1].kind, probe::SynStep::time_exceeded);
  EXPECT_EQ(*l.inputs.syn[1].from, test::addr16(router(2)));
  ASSERT_TRUE(l.inputs.http);
  EXPECT_EQ(l.inputs.http->outcome, probe::Outcome::reset);
  EXPECT_EQ(l.inputs.icmp.size(), 5u);  // two of the trigger's steps, three of the control's
  // The server-side RSTs only (the full-TTL probe's and the TTL-3 step's), not the client's aborts.
  EXPECT_EQ(l.inputs.resets.size(), 2u);
  EXPECT_EQ(l.inputs.target.port, 80);
  EXPECT_EQ(l.inputs.target.addr, test::addr16(kServer));
  EXPECT_EQ(l.inputs.trigger_kind, Trigger::host);
  // syn, trigger, control hop lines.
  ASSERT_EQ(l.hops.size(), 4u + 3u + 4u);
  EXPECT_STREQ(l.hops[4].ladder, "trigger");
  EXPECT_STREQ(l.hops[6].result, "reset");
  EXPECT_EQ(*l.hops[5].from, test::addr16(router(2)));

  const Verdict v = fuse(l.inputs);
  EXPECT_EQ(v.outcome, RequestOutcome::reset);
  EXPECT_EQ(v.trigger, Trigger::host);
  EXPECT_EQ(v.endpoint_hop, 4);
  EXPECT_EQ(v.origin, attribution::Origin::middlebox) << v.summary;
  ASSERT_TRUE(v.hop);
  EXPECT_LT(*v.hop, 4) << v.summary;
  ASSERT_TRUE(v.hop_ip);
  EXPECT_EQ(*v.hop_ip, test::addr16(router(*v.hop)));
}

// A retransmitted request is the same step; a second connection at a TTL already seen does not replace it.
TEST(CapturedLadder, FirstProbePerTtlWins) {
  Scene s;
  s.step(80, 1, get("blocked.example"), Answer::icmp);
  s.step(80, 2, get("blocked.example"), Answer::reset);
  s.step(80, 2, get("blocked.example"), Answer::data);  // a later retry of TTL 2
  s.step(80, 1, get("other.example"), Answer::icmp);
  s.step(80, 2, get("other.example"), Answer::fin);
  const auto ls = s.ladders();
  const CapturedLadder& l = only(ls);
  EXPECT_EQ(l.name, "blocked.example");  // the first ladder's, without an application probe
  EXPECT_EQ(kinds(l.inputs.trigger), (Steps{{1, K::silent}, {2, K::reset}}));
  EXPECT_EQ(kinds(l.inputs.control), (Steps{{1, K::silent}, {2, K::response}}));
  EXPECT_EQ(l.inputs.http->outcome, probe::Outcome::reset);  // what the trigger ladder drew
}

// Another router answers TTL 2 for the trigger than for the SYN ladder: both show in the hop lines.
TEST(CapturedLadder, PathChangeIsShown) {
  Scene s;
  s.syn(80, 1, false);
  s.syn(80, 2, false);
  s.syn(80, 3, true);
  s.step(80, 1, get("blocked.example"), Answer::icmp);
  s.step(80, 2, get("blocked.example"), Answer::icmp, 7);
  const auto ls = s.ladders();
  const CapturedLadder& l = only(ls);
  ASSERT_EQ(l.hops.size(), 5u);
  EXPECT_EQ(*l.hops[1].from, test::addr16(router(2)));
  EXPECT_STREQ(l.hops[4].ladder, "trigger");
  EXPECT_EQ(*l.hops[4].from, test::addr16(router(7)));
}

// With --control, the control file's (first) ladder, whatever its name, is the control of the same destination.
TEST(CapturedLadder, ControlFileLadderIsTheControl) {
  Scene s;
  s.step(80, 1, get("blocked.example"), Answer::icmp);
  s.step(80, 2, get("blocked.example"), Answer::reset);
  s.control = true;
  s.step(80, 1, get("elsewhere.example"), Answer::icmp);
  s.step(80, 2, get("elsewhere.example"), Answer::data);
  s.step(80, 3, get("blocked.example"), Answer::reset);    // the file's second ladder: not mixed into the first
  s.step(443, 1, get("unrelated.example"), Answer::data);  // another destination: a control without a trigger
  const auto ls = s.ladders();
  const CapturedLadder& l = only(ls);
  EXPECT_EQ(l.inputs.target.port, 80);
  EXPECT_EQ(kinds(l.inputs.trigger), (Steps{{1, K::silent}, {2, K::reset}}));
  EXPECT_EQ(kinds(l.inputs.control), (Steps{{1, K::silent}, {2, K::response}}));
  EXPECT_EQ(l.inputs.resets.size(), 1u);  // the control file's resets stay out
  EXPECT_EQ(fuse(l.inputs).trigger, Trigger::host);
}

TEST(CapturedLadder, TlsSniNamesTheLadder) {
  Scene s;
  auto hello = [](const char* sni) {
    Bytes b = test::openssl_client_hello(sni);
    return std::string(b.begin(), b.end());
  };
  s.full(443, hello("blocked.example"), Answer::reset);
  s.step(443, 1, hello("rsthop-control.invalid"), Answer::icmp);
  s.step(443, 1, hello("blocked.example"), Answer::icmp);
  s.step(443, 2, hello("blocked.example"), Answer::reset);
  s.step(443, 2, hello("rsthop-control.invalid"), Answer::data);
  const auto ls = s.ladders();
  const CapturedLadder& l = only(ls);
  EXPECT_EQ(l.name, "blocked.example");
  EXPECT_EQ(l.inputs.trigger_kind, Trigger::sni);
  ASSERT_TRUE(l.inputs.tls);
  EXPECT_EQ(l.inputs.tls->outcome, probe::Outcome::reset);
  EXPECT_EQ(l.inputs.control.size(), 2u);
  EXPECT_EQ(fuse(l.inputs).trigger, Trigger::sni);
}

}  // namespace
}  // namespace rsthop::diagnose
