// pcap::StepScan: a capture may hold a ladder step only when a client's
// payload went out below its SYN's TTL on the same tuple.  (That it never
// misses a ladder the recogniser finds is checked in every
// tests/unit/diagnose/captured_ladder_test.cpp scene.)  Every case runs on
// both roads in: each frame to add(), and each frame to a Tracker that hands
// its TCP segments to add_tcp() (Tracker::set_scan, analyze's one-read pass).
#include "pcap/step_scan.h"

#include <gtest/gtest.h>

#include "conversation.h"
#include "pcap/tracker.h"

namespace rsthop::test {
namespace {

class Scanner {
 public:
  explicit Scanner(bool tracked) : tracked_(tracked) { tracker_.set_scan(&scan_); }
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;
  void add(std::span<const uint8_t> frame, bool has_l2) {
    if (!tracked_)
      scan_.add(frame, has_l2);
    else
      tracker_.feed(frame, pcap::FrameInfo{.ts_ns = ++ts_, .has_l2 = has_l2});
  }
  bool maybe() const { return scan_.maybe(); }

 private:
  bool tracked_;
  pcap::StepScan scan_;
  pcap::Tracker tracker_;
  uint64_t ts_ = 0;
};

class StepScan : public testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Roads, StepScan, testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Tracker" : "Frames"; });

struct Net {
  const char* client;
  const char* server;
};

PacketBuilder seg(const Net& n, bool from_client, uint8_t ttl, uint8_t flags) {
  PacketBuilder b;
  b.eth();
  if (std::string(n.client).find(':') != std::string::npos)
    b.ipv6(from_client ? n.client : n.server, from_client ? n.server : n.client);
  else
    b.ipv4(from_client ? n.client : n.server, from_client ? n.server : n.client);
  b.ttl(ttl);
  if (from_client)
    b.tcp(40000, 80);
  else
    b.tcp(80, 40000);
  b.flags(flags);
  return b;
}

const std::string kGet = "GET / HTTP/1.1\r\nHost: blocked.example\r\n\r\n";

// SYN, SYN/ACK, ACK at TTL 64 from the client, then the request at `req_ttl`, the server's answer at 50:
// whether the scan may see a step.
bool scan(bool tracked, const Net& n, uint8_t req_ttl) {
  Scanner s(tracked);
  s.add(seg(n, true, 64, kSyn).build(), true);
  s.add(seg(n, false, 50, kSyn | kAck).build(), true);
  s.add(seg(n, true, 64, kAck).build(), true);
  s.add(seg(n, true, req_ttl, kPsh | kAck).payload(kGet).build(), true);
  s.add(seg(n, false, 50, kPsh | kAck).payload(std::string("HTTP/1.1 200 OK\r\n\r\n")).build(), true);
  return s.maybe();
}

const Net kV4{"198.18.0.1", "198.19.0.1"};
const Net kV6{"2001:db8::1", "2001:db8::2"};

// The server's answers come at 50 < 64 too, on the reversed tuple, which sent no SYN: no step either.
TEST_P(StepScan, RequestAtTheSynsTtlIsNoStep) {
  EXPECT_FALSE(scan(GetParam(), kV4, 64));
  EXPECT_FALSE(scan(GetParam(), kV6, 64));
}

TEST_P(StepScan, RequestBelowTheSynsTtlMayBeAStep) {
  EXPECT_TRUE(scan(GetParam(), kV4, 3));
  EXPECT_TRUE(scan(GetParam(), kV6, 3));
}

TEST_P(StepScan, OnlyPayloadAfterAPureSynCounts) {
  Scanner s(GetParam());
  s.add(seg(kV4, true, 3, kPsh | kAck).payload(kGet).build(), true);  // before any SYN
  s.add(seg(kV4, true, 64, kSyn).build(), true);
  s.add(seg(kV4, true, 3, kAck).build(), true);                       // no payload
  s.add(seg(kV4, true, 3, kFin | kAck).payload(kGet).build(), true);  // FIN: the tracker's FIN event, no payload event
  s.add(seg(kV4, false, 70, kSyn | kAck).build(), true);              // a SYN/ACK is no SYN
  s.add(seg(kV4, false, 3, kPsh | kAck).payload(kGet).build(), true);
  EXPECT_FALSE(s.maybe());
  s.add(seg(kV4, true, 63, kPsh | kAck).payload(kGet).build(), true);
  EXPECT_TRUE(s.maybe());
}

TEST_P(StepScan, RawIpFramesToo) {
  Scanner s(GetParam());
  s.add(seg(kV6, true, 64, kSyn).build_l3(), false);
  s.add(seg(kV6, true, 2, kPsh | kAck).payload(kGet).build_l3(), false);
  EXPECT_TRUE(s.maybe());
}

// The scan reads the TTL and flags of plain frames itself; other shapes go through the parsers.  Each shape's
// request below its SYN's TTL is a possible step, at the SYN's TTL none (both with the quick read and without).
TEST_P(StepScan, EveryFrameShapeIsSeen) {
  auto scan_shape = [](auto shape, uint8_t req_ttl) {
    Scanner s(GetParam());
    PacketBuilder syn, req;
    shape(syn.eth());
    shape(req.eth());
    syn.ttl(64).tcp(40000, 80).flags(kSyn);
    req.ttl(req_ttl).tcp(40000, 80).flags(kPsh | kAck).payload(kGet);
    s.add(syn.build(), true);
    s.add(req.build(), true);
    return s.maybe();
  };
  auto v4_options = [](PacketBuilder& b) { b.ipv4(kV4.client, kV4.server).ip_options({1, 1, 1, 1, 1, 1, 1, 1}); };
  auto v4_vlan = [](PacketBuilder& b) { b.vlan(7).ipv4(kV4.client, kV4.server); };
  auto v6_vlan = [](PacketBuilder& b) { b.vlan(7).ipv6(kV6.client, kV6.server); };
  auto v6_ext = [](PacketBuilder& b) { b.ipv6(kV6.client, kV6.server).hop_by_hop().dest_opts(); };
  EXPECT_TRUE(scan_shape(v4_options, 3));
  EXPECT_FALSE(scan_shape(v4_options, 64));
  EXPECT_TRUE(scan_shape(v4_vlan, 3));
  EXPECT_FALSE(scan_shape(v4_vlan, 64));
  EXPECT_TRUE(scan_shape(v6_vlan, 3));
  EXPECT_FALSE(scan_shape(v6_vlan, 64));
  EXPECT_TRUE(scan_shape(v6_ext, 3));
  EXPECT_FALSE(scan_shape(v6_ext, 64));
}

// The SYN's tuple is remembered whatever its frame's shape: a later plain request of the same tuple is seen
// below its TTL, and one of another tuple (another port) is not.
TEST_P(StepScan, ATupleIsTheSameAcrossFrameShapes) {
  for (bool v6 : {false, true}) {
    const Net& n = v6 ? kV6 : kV4;
    Scanner s(GetParam());
    PacketBuilder syn;
    syn.eth().vlan(7);
    if (!v6)
      syn.ipv4(n.client, n.server);
    else
      syn.ipv6(n.client, n.server).hop_by_hop();
    s.add(syn.ttl(64).tcp(40000, 80).flags(kSyn).build(), true);
    PacketBuilder other;
    other.eth();
    if (!v6)
      other.ipv4(n.client, n.server);
    else
      other.ipv6(n.client, n.server);
    s.add(other.ttl(3).tcp(40001, 80).flags(kPsh | kAck).payload(kGet).build(), true);
    EXPECT_FALSE(s.maybe());
    s.add(seg(n, true, 3, kPsh | kAck).payload(kGet).build(), true);
    EXPECT_TRUE(s.maybe());
  }
}

// A frame cut inside its TCP header is refused by the parsers, and so is no step.
TEST_P(StepScan, CutFramesAreNoStep) {
  Scanner s(GetParam());
  s.add(seg(kV4, true, 64, kSyn).build(), true);
  auto req = seg(kV4, true, 3, kPsh | kAck).payload(kGet).build();
  req.resize(14 + 20 + 10);
  s.add(req, true);
  EXPECT_FALSE(s.maybe());
}

// The Tracker's road sees only what its --host / --port filter lets through, as the ladder pass's
// pipeline does: a step of a flow the filter drops is none there.
TEST(StepScanTracker, SeesOnlyWhatTheFilterLetsThrough) {
  for (uint16_t port : {80, 443}) {
    pcap::Tracker::Options o;
    o.filter.ports = {port};
    pcap::Tracker t(o);
    pcap::StepScan scan;
    t.set_scan(&scan);
    uint64_t ts = 0;
    for (const auto& b : {seg(kV4, true, 64, kSyn).build(), seg(kV4, true, 3, kPsh | kAck).payload(kGet).build()})
      t.feed(b, pcap::FrameInfo{.ts_ns = ++ts});
    EXPECT_EQ(scan.maybe(), port == 80) << port;
  }
}

}  // namespace
}  // namespace rsthop::test
