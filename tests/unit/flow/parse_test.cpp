// bpf/parse.h in userspace: TCP options and the canonical flow key.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "bpf/flow_key.h"
#include "bpf/parse.h"
#include "tests/common/packet_builder.h"

namespace rsthop::test {
namespace {

// Parses a frame up to the TCP header; fails the test when it does not parse.
struct Parsed {
  explicit Parsed(Bytes f, bool has_l2 = true) : frame(std::move(f)) {
    rh_cursor c{frame.data(), frame.data() + frame.size()};
    l4 = rh_parse_l3(&c, &p, frame.data(), has_l2 ? 1 : 0);
    tcp = l4 == RH_IPPROTO_TCP ? rh_parse_tcp(&c, &p) : -1;
  }
  rh_tcp_opts opts(size_t cut_at = SIZE_MAX) const {
    rh_tcp_opts o{};
    const uint8_t* end = frame.data() + std::min(cut_at, frame.size());
    rh_parse_tcp_opts(&p, end, &o);
    return o;
  }
  Bytes frame;
  rh_pkt p{};
  int l4 = -1;
  int tcp = -1;
};

TEST(ParseTcpOpts, SynWithTheUsualOptions) {
  Parsed s(PacketBuilder()
               .eth()
               .ipv4("10.0.0.1", "10.0.0.2")
               .tcp(40000, 443)
               .flags(kSyn)
               .seq(42)
               .mss(1460)
               .sack_perm()
               .timestamps(0xdeadbeef, 0x01020304)
               .nop()
               .wscale(7)
               .build());
  ASSERT_EQ(s.l4, RH_IPPROTO_TCP);
  ASSERT_EQ(s.tcp, 0);
  EXPECT_EQ(s.p.tcp_hlen, 40);
  EXPECT_EQ(s.p.seq, 42u);
  EXPECT_EQ(s.p.tcp_flags, RH_TCP_SYN);
  rh_tcp_opts o = s.opts();
  EXPECT_EQ(o.opts, RH_OPT_MSS | RH_OPT_SACK_PERM | RH_OPT_TIMESTAMP | RH_OPT_WSCALE);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.wscale, 7);
  EXPECT_EQ(o.tsval, 0xdeadbeefu);
  EXPECT_EQ(o.tsecr, 0x01020304u);
}

TEST(ParseTcpOpts, SackBlocksAndUnknownOptions) {
  std::pair<uint32_t, uint32_t> blocks[] = {{100, 200}};
  Parsed s(PacketBuilder()
               .eth()
               .ipv4("10.0.0.1", "10.0.0.2")
               .tcp(1, 2)
               .nop()
               .nop()
               .sack(blocks)
               .tcp_option(30, {1, 2})
               .build());
  rh_tcp_opts o = s.opts();
  EXPECT_EQ(o.opts, RH_OPT_SACK | RH_OPT_OTHER);
  EXPECT_EQ(o.mss, 0);
}

TEST(ParseTcpOpts, OptionLongerThanTheListIsFlaggedTruncated) {
  // MSS is fine, then a timestamp option claiming 10 bytes with 2 left.
  Parsed s(PacketBuilder()
               .eth()
               .ipv4("10.0.0.1", "10.0.0.2")
               .tcp(1, 2)
               .flags(kSyn)
               .raw_tcp_options({2, 4, 0x05, 0xb4, 8, 10, 0, 0})
               .build());
  ASSERT_EQ(s.tcp, 0);
  rh_tcp_opts o = s.opts();
  EXPECT_EQ(o.opts, RH_OPT_MSS | RH_OPT_TRUNCATED);
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.tsval, 0u);
}

TEST(ParseTcpOpts, OptionLengthBelowTwoIsFlaggedTruncated) {
  Parsed s(PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).raw_tcp_options({3, 1, 7, 0}).build());
  EXPECT_EQ(s.opts().opts, RH_OPT_TRUNCATED);
}

TEST(ParseTcpOpts, CaptureCutInsideTheOptionsIsFlaggedTruncated) {
  Parsed s(PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).flags(kSyn).mss(1400).timestamps(7, 8).build());
  ASSERT_EQ(s.tcp, 0);
  size_t opts_at = 14 + 20 + 20;
  rh_tcp_opts o = s.opts(opts_at + 6);  // MSS and half the timestamp
  EXPECT_EQ(o.opts, RH_OPT_MSS | RH_OPT_TRUNCATED);
  EXPECT_EQ(o.mss, 1400);
  EXPECT_EQ(o.tsval, 0u);
  // Every cut point: no crash, and truncation is flagged until all 16 bytes are there.
  for (size_t n = opts_at; n <= s.frame.size(); n++) {
    rh_tcp_opts c = s.opts(n);
    EXPECT_EQ((c.opts & RH_OPT_TRUNCATED) != 0, n < opts_at + 16) << "cut at " << n;
    EXPECT_EQ((c.opts & RH_OPT_TIMESTAMP) != 0, n >= opts_at + 14) << "cut at " << n;
  }
}

TEST(ParseTcpOpts, NoOptions) {
  Parsed s(PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(1, 2).build());
  rh_tcp_opts o = s.opts();
  EXPECT_EQ(o.opts, 0);
  EXPECT_EQ(s.p.tcp_hlen, 20);
}

TEST(ParseL3, Ipv6WithAnExtensionHeaderAndVlan) {
  Parsed s(PacketBuilder()
               .eth()
               .vlan(100)
               .ipv6("2001:db8::1", "2001:db8::2")
               .ttl(33)
               .hop_by_hop()
               .tcp(5555, 80)
               .flags(kSyn)
               .payload("")
               .build());
  ASSERT_EQ(s.l4, RH_IPPROTO_TCP);
  ASSERT_EQ(s.tcp, 0);
  EXPECT_EQ(s.p.family, 6);
  EXPECT_EQ(s.p.ttl, 33);
  EXPECT_EQ(s.p.vlan_depth, 1);
  EXPECT_EQ(s.p.ip_flags & RH_IPF_VLAN, RH_IPF_VLAN);
  EXPECT_EQ(s.p.sport, 5555);
  EXPECT_EQ(s.p.payload_len, 0);
  EXPECT_EQ(0, std::memcmp(s.p.saddr, addr16("2001:db8::1").data(), 16));
}

// TSO / GRO super-frames captured before segmentation can carry an
// IPv4 total length of 0: the length comes from the captured frame.
TEST(ParseL3, Ipv4TotalLengthZeroTakesTheFrameLength) {
  Bytes f =
      PacketBuilder().eth().ipv4("198.18.0.1", "198.18.0.2").tcp(5555, 80).flags(kAck).payload("0123456789").build();
  f[14 + 2] = 0;
  f[14 + 3] = 0;
  Parsed s(f);
  ASSERT_EQ(s.l4, RH_IPPROTO_TCP);
  ASSERT_EQ(s.tcp, 0);
  EXPECT_EQ(s.p.ip_len, f.size() - 14);
  EXPECT_EQ(s.p.payload_len, 10);
}

struct KeyCase {
  const char* a;
  const char* b;
  uint16_t pa, pb;
  uint8_t family;
  bool a_is_side_a;  // whether (a, pa) is the smaller endpoint
};

void PrintTo(const KeyCase& k, std::ostream* os) { *os << k.a << ":" << k.pa << " -> " << k.b << ":" << k.pb; }

class FlowKey : public ::testing::TestWithParam<KeyCase> {};

TEST_P(FlowKey, BothDirectionsGiveOneKeyAndComplementarySides) {
  const KeyCase& kc = GetParam();
  auto a = addr16(kc.a), b = addr16(kc.b);
  rh_flow_key fwd, rev;
  std::memset(&fwd, 0xaa, sizeof(fwd));  // padding must be cleared by the maker
  std::memset(&rev, 0x55, sizeof(rev));
  uint8_t s_fwd = rh_flow_key_make(&fwd, kc.family, a.data(), kc.pa, b.data(), kc.pb);
  uint8_t s_rev = rh_flow_key_make(&rev, kc.family, b.data(), kc.pb, a.data(), kc.pa);
  EXPECT_EQ(0, std::memcmp(&fwd, &rev, sizeof(fwd)));
  EXPECT_EQ(s_fwd ^ s_rev, 1);
  EXPECT_EQ(s_fwd, kc.a_is_side_a ? RH_SIDE_A : RH_SIDE_B);
  EXPECT_EQ(fwd.family, kc.family);
  EXPECT_EQ(fwd.pad[0] | fwd.pad[1] | fwd.pad[2], 0);
  const auto& lo = kc.a_is_side_a ? a : b;
  EXPECT_EQ(0, std::memcmp(fwd.addr_a, lo.data(), 16));
  EXPECT_EQ(fwd.port_a, kc.a_is_side_a ? kc.pa : kc.pb);
  EXPECT_EQ(fwd.port_b, kc.a_is_side_a ? kc.pb : kc.pa);
}

const KeyCase kKeyCases[] = {KeyCase{"10.0.0.1", "10.0.0.2", 40000, 443, 4, true},
                             KeyCase{"10.0.0.20", "10.0.0.3", 40000, 443, 4, false},
                             KeyCase{"9.0.0.1", "10.0.0.1", 1, 2, 4, true},  // byte order, not text order
                             KeyCase{"192.168.1.1", "10.0.0.1", 1, 2, 4, false},
                             KeyCase{"127.0.0.1", "127.0.0.1", 5000, 80, 4, false},  // same host: by port
                             KeyCase{"127.0.0.1", "127.0.0.1", 80, 5000, 4, true},
                             KeyCase{"10.0.0.255", "10.0.1.0", 9, 9, 4, true},  // the last byte alone misorders
                             KeyCase{"2001:db8::2", "2001:db8::10", 40000, 443, 6, true},
                             KeyCase{"2001:db8:1::1", "2001:db8::ffff", 1, 2, 6, false},
                             KeyCase{"fe80::1", "::1", 1, 2, 6, false},
                             KeyCase{"::1", "::1", 8443, 443, 6, false}};

INSTANTIATE_TEST_SUITE_P(V4AndV6, FlowKey, ::testing::ValuesIn(kKeyCases),
                         [](const ::testing::TestParamInfo<KeyCase>& i) {
                           return std::string(i.param.family == 4 ? "v4_" : "v6_") + std::to_string(i.index);
                         });

// The kernel's IPv4 road: the 12-byte key and the side straight from the IP header equal the 40-byte key's, converted.
TEST(FlowKeyV4, KeyFromTheHeaderIsTheConvertedKey) {
  int n = 0;
  for (const KeyCase& kc : kKeyCases) {
    if (kc.family != 4) continue;
    SCOPED_TRACE(std::string(kc.a) + ":" + std::to_string(kc.pa) + " -> " + kc.b + ":" + std::to_string(kc.pb));
    auto a = addr16(kc.a), b = addr16(kc.b);
    for (bool rev : {false, true}) {  // both directions of the connection
      const auto& src = rev ? b : a;
      const auto& dst = rev ? a : b;
      const uint16_t sport = rev ? kc.pb : kc.pa, dport = rev ? kc.pa : kc.pb;
      uint8_t ip[20] = {0x45};
      std::memcpy(ip + 12, src.data() + 12, 4);
      std::memcpy(ip + 16, dst.data() + 12, 4);
      rh_flow_key k;
      rh_flow_key4 want, got;
      uint8_t side = rh_flow_key_make(&k, 4, src.data(), sport, dst.data(), dport);
      rh_flow_key4_make(&want, &k);
      std::memset(&got, 0xaa, sizeof(got));
      EXPECT_EQ(rh_flow_key4_of(&got, ip, sport, dport), side) << "reverse " << rev;
      EXPECT_EQ(0, std::memcmp(&got, &want, sizeof(got))) << "reverse " << rev;
    }
    n++;
  }
  EXPECT_GE(n, 6);
}

TEST(FlowKeyV4, StoredIpv4Mapped) {
  Parsed s(PacketBuilder().eth().ipv4("10.1.2.3", "10.1.2.4").tcp(1, 2).build());
  rh_flow_key k;
  rh_flow_key_make(&k, s.p.family, s.p.saddr, s.p.sport, s.p.daddr, s.p.dport);
  const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  EXPECT_EQ(0, std::memcmp(k.addr_a, want, 16));
  EXPECT_TRUE(rh_addr_is_v4mapped(k.addr_b));
}

// The kernel's IPv4 table key (flows4) keeps the endpoints A and B and expands back to the same rh_flow_key.
TEST(FlowKeyV4, CompactKeyRoundTrips) {
  Parsed s(PacketBuilder().eth().ipv4("10.1.2.9", "10.1.2.4").tcp(40000, 443).build());
  rh_flow_key k, back;
  rh_flow_key_make(&k, s.p.family, s.p.saddr, s.p.sport, s.p.daddr, s.p.dport);
  rh_flow_key4 k4;
  std::memset(&k4, 0xaa, sizeof(k4));
  rh_flow_key4_make(&k4, &k);
  const uint8_t a[4] = {10, 1, 2, 4}, b[4] = {10, 1, 2, 9};  // A is the smaller address: the destination
  EXPECT_EQ(0, std::memcmp(&k4.addr_a, a, 4));
  EXPECT_EQ(0, std::memcmp(&k4.addr_b, b, 4));
  EXPECT_EQ(k4.port_a, 443);
  EXPECT_EQ(k4.port_b, 40000);
  std::memset(&back, 0x55, sizeof(back));
  rh_flow_key4_expand(&back, &k4);
  EXPECT_EQ(0, std::memcmp(&back, &k, sizeof(k)));
  static_assert(sizeof(rh_flow_key4) == 12);
}

// flow_slots' index (rh_flow_slot_of): in range for any table size, spread
// over the table even by keys that differ only in one port, moved by the
// seed; and a slot holds a flow only while live and with its very key.
TEST(FlowSlot, IndexInRangeSpreadAndSeeded) {
  rh_flow_key4 k4{};
  k4.addr_a = 0x010012c6;
  k4.addr_b = 0x020012c6;
  k4.port_a = 443;
  std::vector<bool> used(4096);
  size_t distinct = 0, moved = 0;
  for (uint32_t port = 1024; port < 1024 + 4096; port++) {
    k4.port_b = static_cast<uint16_t>(port);
    for (uint32_t n : {1u, 3u, 1000u, 65536u}) EXPECT_LT(rh_flow_slot_of(&k4, n, 7), n);
    uint32_t i = rh_flow_slot_of(&k4, 4096, 7);
    distinct += !used[i];
    used[i] = true;
    moved += rh_flow_slot_of(&k4, 4096, 8) != i;
  }
  // 4096 keys into 4096 slots: about 1 - 1/e of the slots (2589) when the hash spreads.
  EXPECT_GT(distinct, 2400u);
  EXPECT_GT(moved, 4000u) << "another seed, other slots";
  rh_flow_slot slot{};
  slot.key = k4;
  EXPECT_FALSE(rh_flow_slot_holds(&slot, &k4)) << "an empty slot holds nothing";
  slot.live = RH_SLOT_BUSY;
  EXPECT_FALSE(rh_flow_slot_holds(&slot, &k4)) << "a slot being rewritten holds nothing";
  slot.live = RH_SLOT_LIVE;
  EXPECT_TRUE(rh_flow_slot_holds(&slot, &k4));
  rh_flow_key4 other = k4;
  other.port_a = 80;
  EXPECT_FALSE(rh_flow_slot_holds(&slot, &other));
}

}  // namespace
}  // namespace rsthop::test
