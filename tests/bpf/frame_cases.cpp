// cfg_frames (--pcap-out): a packet that produces an event also produces an
// rh_frame_event right after it carrying the frame's first bytes; packets
// without an event produce none, and without the flag nothing changes.
#include <gtest/gtest.h>

#include <algorithm>

#include "bpf/record.h"
#include "bpf_harness.h"
#include "rsthop.skel.h"
#include "tests/common/packet_builder.h"
#include "tests/common/privileged.h"

namespace rsthop::test {
namespace {

constexpr Hook kFrameHooks[] = {Hook::Xdp, Hook::TcIngress, Hook::TcEgress};

BpfHarness* harness(bool frames, std::string& error) {
  static std::unique_ptr<BpfHarness> slots[2];
  static std::string errs[2];
  auto& slot = slots[frames];
  if (!slot && errs[frames].empty())
    slot = BpfHarness::load([frames](struct ::rsthop_bpf* s) { s->rodata->cfg_frames = frames; }, &errs[frames]);
  error = errs[frames];
  return slot.get();
}

Bytes syn_frame() {
  return PacketBuilder()
      .eth()
      .ipv4("10.0.0.1", "10.0.0.2")
      .ttl(64)
      .tcp(40000, 443)
      .flags(kSyn)
      .seq(1000)
      .mss(1460)
      .build();
}

// The frame record that follows `ev`: same ts, hook, and the frame's first bytes.
void expect_frame(const RawEvent& ev, const RawEvent& rec, const Bytes& frame, Hook hook) {
  const rh_frame_event* fe = nullptr;
  size_t n = 0;
  ASSERT_EQ(rh_record_kind(rec.bytes.data(), rec.bytes.size()), RH_EV_FRAME);
  ASSERT_EQ(rh_frame_decode(rec.bytes.data(), rec.bytes.size(), &fe, &n), 0);
  EXPECT_EQ(fe->ts_ns, ev.ev().ts_ns);
  EXPECT_EQ(fe->hook, abi_hook(hook));
  EXPECT_EQ(fe->ifindex, ev.ev().ifindex);
  EXPECT_EQ(fe->wire_len, frame.size());
  const size_t want = std::min<size_t>(frame.size(), RH_FRAME_SNAP_MAX);
  ASSERT_EQ(n, want);
  EXPECT_TRUE(std::equal(fe->data, fe->data + n, frame.begin()));
}

class FrameTest : public ::testing::TestWithParam<Hook> {};

TEST_P(FrameTest, SynYieldsEventThenFrame) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string err;
  BpfHarness* h = harness(true, err);
  ASSERT_NE(h, nullptr) << err;
  h->reset();
  const Bytes syn = syn_frame();
  ASSERT_EQ(h->run(GetParam(), syn).err, 0);
  auto evs = h->drain_events();
  ASSERT_EQ(evs.size(), 2u);
  ASSERT_TRUE(evs[0].decode_ok);
  EXPECT_EQ(evs[0].ev().kind, RH_EV_SYN);
  expect_frame(evs[0], evs[1], syn, GetParam());
}

TEST_P(FrameTest, LongFrameIsCutAtSnapMax) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string err;
  BpfHarness* h = harness(true, err);
  ASSERT_NE(h, nullptr) << err;
  h->reset();
  const Bytes rst = PacketBuilder()
                        .eth()
                        .ipv4("10.0.0.2", "10.0.0.1")
                        .ttl(60)
                        .tcp(443, 40000)
                        .flags(kRst)
                        .seq(5000)
                        .payload(Bytes(400, 'r'))
                        .build();
  ASSERT_EQ(h->run(GetParam(), rst).err, 0);
  auto evs = h->drain_events();
  ASSERT_EQ(evs.size(), 2u);
  ASSERT_TRUE(evs[0].decode_ok);
  EXPECT_EQ(evs[0].ev().kind, RH_EV_RST);
  expect_frame(evs[0], evs[1], rst, GetParam());
}

TEST_P(FrameTest, NoEventNoFrame) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string err;
  BpfHarness* h = harness(true, err);
  ASSERT_NE(h, nullptr) << err;
  h->reset();
  const Bytes ack = PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 443).flags(kAck).seq(1001).build();
  ASSERT_EQ(h->run(GetParam(), ack).err, 0);
  EXPECT_TRUE(h->drain_events().empty());
}

TEST_P(FrameTest, WithoutFlagOnlyTheEvent) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string err;
  BpfHarness* h = harness(false, err);
  ASSERT_NE(h, nullptr) << err;
  h->reset();
  ASSERT_EQ(h->run(GetParam(), syn_frame()).err, 0);
  auto evs = h->drain_events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_TRUE(evs[0].decode_ok);
  EXPECT_EQ(evs[0].ev().kind, RH_EV_SYN);
}

INSTANTIATE_TEST_SUITE_P(AllHooks, FrameTest, ::testing::ValuesIn(kFrameHooks),
                         [](const auto& info) { return std::string(hook_name(info.param)); });

}  // namespace
}  // namespace rsthop::test
