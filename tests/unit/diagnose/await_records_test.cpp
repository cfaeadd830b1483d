#include "diagnose/await_records.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

using rsthop::diagnose::await_records;
using std::chrono::milliseconds;

namespace {

// A capture whose ring hands over one more queued RST per read (a record committed late).
struct LateRing {
  std::vector<uint16_t> queued;
  std::set<uint16_t> seen;
  int reads = 0;
  void pump() {
    reads++;
    if (!queued.empty()) {
      seen.insert(queued.front());
      queued.erase(queued.begin());
    }
  }
};

}  // namespace

TEST(AwaitRecords, ReadsAgainUntilEveryResetStepHasItsRst) {
  LateRing ring{{1002, 1003}, {}, 0};
  const std::set<uint16_t> want = {1002, 1003};
  EXPECT_TRUE(await_records(
      want, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(5000),
      milliseconds(0)));
  EXPECT_EQ(ring.reads, 2);  // one read would have fused without 1003's RST
  EXPECT_EQ(ring.seen, want);
}

TEST(AwaitRecords, ReadsOnceWhenNothingIsAwaited) {
  LateRing ring;
  EXPECT_TRUE(await_records(
      {}, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(5000)));
  EXPECT_EQ(ring.reads, 1);
}

TEST(AwaitRecords, GivesUpAfterItsBudget) {
  LateRing ring;  // the RST never comes (lost to a full ring, or filtered)
  EXPECT_FALSE(await_records(
      {1002}, [&] { ring.pump(); }, [&](uint16_t p) { return ring.seen.count(p) > 0; }, milliseconds(20),
      milliseconds(1)));
  EXPECT_GE(ring.reads, 2);
}

namespace {

using rsthop::Addr16;
using rsthop::diagnose::icmp_port;
using rsthop::diagnose::reset_port;

const Addr16 kTarget = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
const Addr16 kUs = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// A RST from `from` to `to`, port 443 -> 40000, as the capture hands it over.
rh_event rst(uint8_t kind, const Addr16& from, const Addr16& to) {
  rh_event e{};
  e.kind = kind;
  e.hook = kind == RH_EV_LOCAL_RST_RECV ? RH_HOOK_TP_RECV_RESET : RH_HOOK_TC_INGRESS;
  std::memcpy(e.saddr, from.data(), 16);
  std::memcpy(e.daddr, to.data(), 16);
  e.sport = 443;
  e.dport = 40000;
  return e;
}

}  // namespace

TEST(AwaitRecords, AWireRstFromTheTargetIsTheStepsReset) {
  EXPECT_EQ(reset_port(rst(RH_EV_RST, kTarget, kUs), kTarget, 443), std::optional<uint16_t>(40000));
}

// This host's own firewall forges the RST on `lo`, out of the capture's sight: tcp_receive_reset's
// event is its only record, and a step must not wait out the budget for a wire RST that never comes.
TEST(AwaitRecords, TheLocalStackAcceptingARstFromTheTargetIsTheStepsReset) {
  EXPECT_EQ(reset_port(rst(RH_EV_LOCAL_RST_RECV, kTarget, kUs), kTarget, 443), std::optional<uint16_t>(40000));
}

TEST(AwaitRecords, OurOwnRstsAndOtherAddressesAreNot) {
  rh_event send = rst(RH_EV_LOCAL_RST_SEND, kUs, kTarget);  // a probe aborting its socket
  send.hook = RH_HOOK_TP_SEND_RESET;
  EXPECT_EQ(reset_port(send, kTarget, 443), std::nullopt);
  EXPECT_EQ(reset_port(rst(RH_EV_RST, kUs, kTarget), kTarget, 443), std::nullopt);  // our RST on the wire
  const Addr16 other = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
  EXPECT_EQ(reset_port(rst(RH_EV_RST, other, kUs), kTarget, 443), std::nullopt);
  EXPECT_EQ(reset_port(rst(RH_EV_LOCAL_RST_RECV, other, kUs), kTarget, 443), std::nullopt);
  EXPECT_EQ(reset_port(rst(RH_EV_SYNACK, kTarget, kUs), kTarget, 443), std::nullopt);
}

// A TLS target's port-80 probes (the HTTP probe, the port-80 SYN ladder) take their local ports from
// another sequence than the port-443 ones, so one local port can serve both within a run (about 1 run
// in 100 here): a record of the port-80 connection must not count for the port-443 step.
TEST(AwaitRecords, TheTargetsOtherPortIsNotTheSteps) {
  rh_event e = rst(RH_EV_RST, kTarget, kUs);
  e.sport = 80;
  EXPECT_EQ(reset_port(e, kTarget, 443), std::nullopt);
  EXPECT_EQ(reset_port(e, kTarget, 80), std::optional<uint16_t>(40000));
  e.kind = RH_EV_LOCAL_RST_RECV;
  EXPECT_EQ(reset_port(e, kTarget, 443), std::nullopt);
}

namespace {

// An ICMP error from a router quoting our packet to the target.
rh_event icmp(uint16_t quoted_dport) {
  rh_event e{};
  e.kind = RH_EV_ICMP;
  e.hook = RH_HOOK_TC_INGRESS;
  const Addr16 router = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
  std::memcpy(e.saddr, router.data(), 16);
  std::memcpy(e.daddr, kUs.data(), 16);
  e.icmp_type = 3;  // ICMPv6 time exceeded
  std::memcpy(e.inner_saddr, kUs.data(), 16);
  std::memcpy(e.inner_daddr, kTarget.data(), 16);
  e.inner_sport = 40000;
  e.inner_dport = quoted_dport;
  return e;
}

}  // namespace

// The live failure (integration.diagnose test_silent_drop_v6, drop at hop 1): router 3's time
// exceeded for a port-80 SYN ladder step that had the local port of the port-443 trigger step at
// TTL 3 was taken for that step's, so "ICMP answers stop after TTL 3" put the drop at hop 3.
TEST(AwaitRecords, AnIcmpErrorIsAStepsOnlyWhenItQuotesTheTargetsPort) {
  EXPECT_EQ(icmp_port(icmp(443), kTarget, 443), std::optional<uint16_t>(40000));
  EXPECT_EQ(icmp_port(icmp(80), kTarget, 443), std::nullopt);
  EXPECT_EQ(icmp_port(icmp(80), kTarget, 80), std::optional<uint16_t>(40000));
  rh_event other = icmp(443);
  other.inner_daddr[15] = 9;  // quoting a packet to another address
  EXPECT_EQ(icmp_port(other, kTarget, 443), std::nullopt);
  EXPECT_EQ(icmp_port(rst(RH_EV_RST, kTarget, kUs), kTarget, 443), std::nullopt);
}

// The wait ends on the records: a step reset by this host's firewall (local event only) and one
// reset on the path (wire RST) are both in after one read, so no read waits out the budget.
TEST(AwaitRecords, EndsOnTheLocalResetWithoutWaitingOutTheBudget) {
  const std::vector<rh_event> ring = {rst(RH_EV_LOCAL_RST_RECV, kTarget, kUs), [] {
                                        rh_event e = rst(RH_EV_RST, kTarget, kUs);
                                        e.dport = 40001;
                                        return e;
                                      }()};
  std::set<uint16_t> seen;
  int reads = 0;
  auto pump = [&] {
    reads++;
    for (const auto& e : ring)
      if (auto p = reset_port(e, kTarget, 443)) seen.insert(*p);
  };
  EXPECT_TRUE(await_records(
      {40000, 40001}, pump, [&](uint16_t p) { return seen.count(p) > 0; }, milliseconds(60'000), milliseconds(0)));
  EXPECT_EQ(reads, 1);
}
