// flow_slots, the IPv4 flows' direct-mapped first table (abi.h's
// rh_flow_slot): with one slot every new flow collides, so each one moves
// the slot's flow to flows4 with its state, and every flow stays findable
// (kernel::flow_lookup, the readers' one road) and is counted once.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/flow_key.h"
#include "bpf_harness.h"
#include "case_table.h"
#include "kernel/flow_tables.h"
#include "rsthop.skel.h"
#include "tests/common/privileged.h"

namespace rsthop::test {
namespace {

constexpr Hook kHooks[] = {Hook::Xdp, Hook::TcIngress, Hook::TcEgress};

// A harness whose flow_slots has a single slot (flows4 and flows keep the harness's size).
std::unique_ptr<BpfHarness> one_slot_harness(std::string* error) {
  return BpfHarness::load(
      [](rsthop_bpf* s) {
        s->rodata->cfg_flow_slots = 1;
        bpf_map__set_max_entries(s->maps.flow_slots, 1);
      },
      error);
}

Bytes syn_from(const Net& n, uint16_t sport) {
  return PacketBuilder().eth().ipv4(n.client, n.server).tcp(sport, kServerPort).flags(kSyn).seq(1000).build();
}

Bytes ack_from(const Net& n, uint16_t sport) {
  return PacketBuilder().eth().ipv4(n.client, n.server).tcp(sport, kServerPort).flags(kAck).seq(1001).ack(1).build();
}

rh_flow_key key_of(const Net& n, uint16_t sport) { return canonical_key(n.client, sport, n.server, kServerPort); }

// The key the only slot holds, if it holds one.
std::optional<rh_flow_key4> slot_key(BpfHarness& h) {
  uint32_t zero = 0;
  rh_flow_slot slot{};
  if (bpf_map_lookup_elem(bpf_map__fd(h.skel()->maps.flow_slots), &zero, &slot) || slot.live != RH_SLOT_LIVE)
    return std::nullopt;
  return slot.key;
}

TEST(FlowSlots, CollisionsMoveTheOldFlowToFlows4) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string error;
  auto h = one_slot_harness(&error);
  ASSERT_NE(h, nullptr) << "cannot load rsthop.bpf.o: " << error;
  const Net& n = net_v4();
  for (Hook hook : kHooks) {
    SCOPED_TRACE(hook_name(hook));
    h->reset();
    Counters before = h->counters();
    ASSERT_EQ(h->run(hook, syn_from(n, 40001)).err, 0);
    ASSERT_EQ(h->run(hook, ack_from(n, 40001)).err, 0);  // flow 1: two packets in the slot
    ASSERT_EQ(h->run(hook, syn_from(n, 40002)).err, 0);  // flow 2 takes the slot, flow 1 moves
    ASSERT_EQ(h->run(hook, ack_from(n, 40001)).err, 0);  // flow 1, now found in flows4
    ASSERT_EQ(h->run(hook, syn_from(n, 40003)).err, 0);  // flow 3 takes the slot, flow 2 moves
    Counters after = h->counters();
    EXPECT_EQ(after[RH_C_FLOW_NEW] - before[RH_C_FLOW_NEW], 3u) << "each flow is new once";
    EXPECT_EQ(after[RH_C_FLOW_MIDSTREAM] - before[RH_C_FLOW_MIDSTREAM], 0u);
    EXPECT_EQ(after[RH_C_LOST_FLOW_TABLE] - before[RH_C_LOST_FLOW_TABLE], 0u);
    auto one = h->flow(key_of(n, 40001)), two = h->flow(key_of(n, 40002)), three = h->flow(key_of(n, 40003));
    ASSERT_TRUE(one && two && three);
    uint8_t side = 0;
    canonical_key(n.client, 40001, n.server, kServerPort, &side);
    EXPECT_EQ(one->packets[side], 3u) << "the moved flow kept its state and went on counting";
    EXPECT_EQ(two->packets[side], 1u);
    EXPECT_EQ(three->packets[side], 1u);
    EXPECT_EQ(h->flow_keys().size(), 3u) << "a flow is in exactly one table";
    auto in_slot = slot_key(*h);
    ASSERT_TRUE(in_slot.has_value());
    rh_flow_key4 want;
    rh_flow_key k3 = key_of(n, 40003);
    rh_flow_key4_make(&want, &k3);
    EXPECT_EQ(in_slot->port_a, want.port_a);
    EXPECT_EQ(in_slot->port_b, want.port_b);
    h->clear_flows();
    EXPECT_TRUE(h->flow_keys().empty());
    EXPECT_FALSE(slot_key(*h).has_value()) << "clear_flows empties the slots too";
  }
}

}  // namespace
}  // namespace rsthop::test
