// BPF_PROG_TEST_RUN on the real rsthop object: every table row through the
// XDP program and both tc programs; the in-kernel filter on a second,
// configured instance; and a SYN cut at every byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bpf_harness.h"
#include "case_table.h"
#include "rsthop.skel.h"
#include "tests/common/privileged.h"

namespace rsthop::test {
namespace {

constexpr Hook kHooks[] = {Hook::Xdp, Hook::TcIngress, Hook::TcEgress};

BpfHarness* default_harness(std::string& error) { return shared_harness(false, error); }
BpfHarness* filter_harness(std::string& error) { return shared_harness(true, error); }

#define RSTHOP_GET_HARNESS(var, getter)  \
  RSTHOP_REQUIRE_PRIVILEGED();           \
  std::string var##_error;               \
  BpfHarness* var = getter(var##_error); \
  ASSERT_NE(var, nullptr) << "cannot load rsthop.bpf.o: " << var##_error

std::string case_name(Hook hook, const Case& c) { return std::string(hook_name(hook)) + "_" + c.name; }

class TableTest : public ::testing::TestWithParam<std::tuple<Hook, Case>> {};

TEST_P(TableTest, Row) {
  RSTHOP_GET_HARNESS(h, default_harness);
  const auto& [hook, row] = GetParam();
  run_case(*h, hook, row);
}

INSTANTIATE_TEST_SUITE_P(Tracking, TableTest,
                         ::testing::Combine(::testing::ValuesIn(kHooks), ::testing::ValuesIn(tracking_cases())),
                         [](const auto& info) { return case_name(std::get<0>(info.param), std::get<1>(info.param)); });
INSTANTIATE_TEST_SUITE_P(Parsing, TableTest,
                         ::testing::Combine(::testing::ValuesIn(kHooks), ::testing::ValuesIn(parsing_cases())),
                         [](const auto& info) { return case_name(std::get<0>(info.param), std::get<1>(info.param)); });

class FilterTest : public ::testing::TestWithParam<std::tuple<Hook, Case>> {};

TEST_P(FilterTest, Row) {
  RSTHOP_GET_HARNESS(h, filter_harness);
  const auto& [hook, row] = GetParam();
  run_case(*h, hook, row);
}

INSTANTIATE_TEST_SUITE_P(Filter, FilterTest,
                         ::testing::Combine(::testing::ValuesIn(kHooks), ::testing::ValuesIn(filter_cases())),
                         [](const auto& info) { return case_name(std::get<0>(info.param), std::get<1>(info.param)); });

// The filter applies to the quoted flow of an ICMP error, not to the router.
TEST(FilterIcmp, QuotedFlowDecides) {
  RSTHOP_GET_HARNESS(h, filter_harness);
  auto icmp = [](uint16_t dport) {
    Bytes quote = PacketBuilder().ipv4("10.0.0.1", "10.0.0.2").ttl(1).tcp(kClientPort, dport).build_l3();
    return PacketBuilder().eth().ipv4("198.51.100.1", "10.0.0.1").icmp_time_exceeded(truncate(quote, 28)).build();
  };
  for (Hook hook : kHooks) {
    SCOPED_TRACE(hook_name(hook));
    h->reset();
    Counters before = h->counters();
    ASSERT_EQ(h->run(hook, icmp(kServerPort)).err, 0);
    ASSERT_EQ(h->run(hook, icmp(80)).err, 0);
    Counters after = h->counters();
    auto events = h->drain_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].ev().kind, RH_EV_ICMP);
    EXPECT_EQ(events[0].ev().inner_dport, kServerPort);
    EXPECT_EQ(after[RH_C_FILTERED] - before[RH_C_FILTERED], 1u);
    EXPECT_EQ(after[RH_C_ICMP_ERRORS] - before[RH_C_ICMP_ERRORS], 1u);
  }
}

// GSO: a tc super-packet stands for gso_segs segments in the packet count.
TEST(TcGso, PacketsCountSegments) {
  RSTHOP_GET_HARNESS(h, default_harness);
  const Net& n = net_v4();
  for (Hook hook : {Hook::TcIngress, Hook::TcEgress}) {
    SCOPED_TRACE(hook_name(hook));
    h->reset();
    ASSERT_EQ(h->run(hook, base_syn(n)).err, 0);
    Bytes big = tcp_frame(n, true, kAck).seq(1001).payload(Bytes(1000, 'x')).build();
    ASSERT_EQ(h->run(hook, big, 4).err, 0);
    auto st = h->flow(tcp_event(n, true, 0).key);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->packets[RH_SIDE_A], 5u);
  }
}

// A SYN with options cut at every length: always passed, never an event, and
// exactly the counter of the layer that was cut moves.  Frames shorter than
// an Ethernet header never reach a program: BPF_PROG_TEST_RUN refuses them
// (EINVAL), as drivers never deliver them; so trunc_l2 is exercised by the
// tagged bases, cut inside a VLAN tag (and trunc_l3 on tc by the tagged bases).
class TruncationTest : public ::testing::TestWithParam<Hook> {};

TEST_P(TruncationTest, SynCutAtEveryByte) {
  RSTHOP_GET_HARNESS(h, default_harness);
  const Hook hook = GetParam();
  for (const TruncBase& base : trunc_bases()) {
    ASSERT_GT(base.frame.size(), base.l3_end + 20) << base.name << ": the base must reach into TCP options";
    for (size_t len = 0; len < base.frame.size(); len++) {
      SCOPED_TRACE(std::string(base.name) + " cut at " + std::to_string(len) + " of " +
                   std::to_string(base.frame.size()));
      h->reset();
      Counters before = h->counters();
      RunResult r = h->run(hook, truncate(base.frame, len));
      Counters after = h->counters();
      // Below the kernel's minimum the frame may be refused (EINVAL) and
      // no program runs; if it does run, the counters below must hold.
      size_t min_len = hook == Hook::Xdp ? 14 : base.tc_min_len;
      if (len < min_len && r.err == -EINVAL) {
        EXPECT_EQ(after[RH_C_PACKETS], before[RH_C_PACKETS]);
        continue;
      }
      ASSERT_EQ(r.err, 0);
      EXPECT_EQ(r.retval, pass_verdict(hook));
      EXPECT_TRUE(h->drain_events().empty());
      int layer = len < base.l2_end ? RH_C_TRUNC_L2 : len < base.l3_end ? RH_C_TRUNC_L3 : RH_C_TRUNC_L4;
      for (int i = 0; i < RH_C_MAX; i++) {
        uint64_t want = (i == RH_C_PACKETS || i == layer) ? 1 : 0;
        EXPECT_EQ(after[static_cast<size_t>(i)] - before[static_cast<size_t>(i)], want)
            << "counter " << counter_name(i) << ", expected " << counter_name(layer);
      }
      EXPECT_TRUE(h->flow_keys().empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllHooks, TruncationTest, ::testing::ValuesIn(kHooks),
                         [](const auto& info) { return std::string(hook_name(info.param)); });

}  // namespace
}  // namespace rsthop::test
