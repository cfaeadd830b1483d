// One fluent builder for every packet a test needs: BPF_PROG_TEST_RUN tables,
// pcap fixtures and fuzz seeds.  It builds well-formed frames by default
// (lengths and checksums computed at build()) and lets a test break one field
// on purpose (override_*), so a malformed case differs from a good one in
// exactly the way it says.
//
// Each setter belongs to one layer, so call order matters only where the wire
// order does: VLAN tags, IPv6 extension headers and TCP options.
//
//   auto syn = PacketBuilder()
//                  .eth().vlan(100)
//                  .ipv4("10.0.0.1", "10.0.0.2").ttl(63).df()
//                  .tcp(40000, 443).flags(kSyn).seq(1000).mss(1460).sack_perm()
//                  .timestamps(1, 0).nop().wscale(7)
//                  .build();
//
// ICMP errors quote a packet built by the same builder:
//
//   auto quote = PacketBuilder().ipv4(a, b).ttl(1).tcp(1, 2).build_l3();
//   auto te = PacketBuilder().eth().ipv4(router, a).icmp_time_exceeded(quote).build();
//
// Depends on the C++ standard library and POSIX inet_pton only.
#ifndef RSTHOP_TESTS_PACKET_BUILDER_H
#define RSTHOP_TESTS_PACKET_BUILDER_H

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rsthop::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

// TCP flag bits (byte 13 of the TCP header).
inline constexpr uint8_t kFin = 0x01;
inline constexpr uint8_t kSyn = 0x02;
inline constexpr uint8_t kRst = 0x04;
inline constexpr uint8_t kPsh = 0x08;
inline constexpr uint8_t kAck = 0x10;
inline constexpr uint8_t kUrg = 0x20;

inline constexpr uint16_t kTpid8021Q = 0x8100;
inline constexpr uint16_t kTpid8021ad = 0x88A8;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeArp = 0x0806;

inline constexpr Mac kDefaultSrcMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
inline constexpr Mac kDefaultDstMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

// "10.0.0.1" or "2001:db8::1" -> 4 or 16 network-order bytes; throws
// std::invalid_argument on anything else (tests want to hear about typos).
Bytes parse_addr(std::string_view text);

// 16-byte IPv4-mapped (::ffff:a.b.c.d) or IPv6 address, the ABI's address form.
std::array<uint8_t, 16> addr16(std::string_view text);

// RFC 1071 one's-complement sum folded to 16 bits, not inverted.
uint32_t csum_add(uint32_t sum, std::span<const uint8_t> bytes);
uint16_t csum_fold(uint32_t sum);

// The first n bytes of a frame (or all of it): a capture cut short.
Bytes truncate(const Bytes& frame, size_t n);

class PacketBuilder {
 public:
  // L2.  eth() is optional: without it build() starts at the IP header.
  PacketBuilder& eth(Mac src = kDefaultSrcMac, Mac dst = kDefaultDstMac);
  PacketBuilder& vlan(uint16_t vid, uint16_t tpid = kTpid8021Q, uint8_t pcp = 0);
  PacketBuilder& ethertype(uint16_t type);  // overrides the EtherType after the tags

  // IPv4.  Setters below apply to the IP layer (v4 or v6 where both make sense).
  PacketBuilder& ipv4(std::string_view src, std::string_view dst);
  PacketBuilder& ipv6(std::string_view src, std::string_view dst);
  PacketBuilder& ttl(uint8_t ttl);  // IPv4 TTL or IPv6 hop limit
  PacketBuilder& ip_id(uint16_t id);
  PacketBuilder& df(bool on = true);
  PacketBuilder& tos(uint8_t tos);           // IPv4 TOS or IPv6 traffic class
  PacketBuilder& ip_options(Bytes options);  // IPv4 option bytes, padded to 4 with EOL
  // IPv4 fragment fields: offset in 8-byte units, More Fragments flag.
  PacketBuilder& frag(uint16_t offset8, bool more_fragments);
  PacketBuilder& protocol(uint8_t proto);                 // overrides the IPv4 protocol / last IPv6 next header
  PacketBuilder& override_ip_total_length(uint16_t len);  // IPv4 total / IPv6 payload length
  PacketBuilder& override_ihl(uint8_t ihl_words);
  PacketBuilder& override_ip_version(uint8_t version);

  // IPv6 extension headers, in the order called.  Option areas are padded
  // with PadN to a multiple of 8 bytes.
  PacketBuilder& hop_by_hop(Bytes options = {});
  PacketBuilder& dest_opts(Bytes options = {});
  PacketBuilder& routing(uint8_t type, uint8_t segments_left, Bytes data = Bytes(4, 0));
  PacketBuilder& fragment6(uint16_t offset8, bool more_fragments, uint32_t id = 0x1234);

  // TCP.  Options are emitted in call order and padded to 4 with EOL.
  PacketBuilder& tcp(uint16_t sport, uint16_t dport);
  PacketBuilder& flags(uint8_t flags);
  PacketBuilder& seq(uint32_t seq);
  PacketBuilder& ack(uint32_t ack);  // sets the number; add kAck to flags() yourself
  PacketBuilder& window(uint16_t window);
  PacketBuilder& urgent(uint16_t urg);
  PacketBuilder& mss(uint16_t mss);
  PacketBuilder& wscale(uint8_t shift);
  PacketBuilder& sack_perm();
  PacketBuilder& sack(std::span<const std::pair<uint32_t, uint32_t>> blocks);
  PacketBuilder& timestamps(uint32_t tsval, uint32_t tsecr);
  PacketBuilder& nop();
  PacketBuilder& eol();
  PacketBuilder& tcp_option(uint8_t kind, Bytes data);  // any other option
  PacketBuilder& raw_tcp_options(Bytes bytes);          // verbatim, e.g. a malformed list
  PacketBuilder& override_data_offset(uint8_t words);
  PacketBuilder& bad_l4_checksum();  // checksum off by one

  // UDP, ICMP.
  PacketBuilder& udp(uint16_t sport, uint16_t dport);
  PacketBuilder& icmp_echo(uint16_t id = 1, uint16_t seq = 1);  // echo request (v4 type 8, v6 128)
  // ICMP errors quoting `quote` (an IP packet, e.g. PacketBuilder::build_l3()).
  // Types follow the IP family: time exceeded is 11 / ICMPv6 3, destination
  // unreachable is 3 / ICMPv6 1.
  PacketBuilder& icmp_time_exceeded(Bytes quote, uint8_t code = 0);
  PacketBuilder& icmp_dest_unreachable(Bytes quote, uint8_t code = 3);
  PacketBuilder& icmp_raw(uint8_t type, uint8_t code, uint32_t rest, Bytes body);

  // ARP request (no IP layer).
  PacketBuilder& arp(std::string_view sender_ip, std::string_view target_ip);

  // Bytes after the L4 header (or after the IP header when there is no L4).
  PacketBuilder& payload(Bytes bytes);
  PacketBuilder& payload(std::string_view text);

  // The whole frame, from the Ethernet header when eth() was called.
  Bytes build() const;
  // From the IP header, whatever eth()/vlan() said.
  Bytes build_l3() const;

 private:
  enum class L3 { None, Ipv4, Ipv6, Arp };
  enum class L4 { None, Tcp, Udp, Icmp };
  struct VlanTag {
    uint16_t tpid;
    uint16_t tci;
  };
  struct ExtHeader {
    uint8_t type;  // 0 hop-by-hop, 43 routing, 44 fragment, 60 destination options
    Bytes body;    // everything after the next-header byte
  };

  Bytes build_ip() const;
  Bytes build_l4(uint8_t proto) const;
  uint8_t l4_proto() const;
  uint32_t pseudo_header_sum(uint8_t proto, size_t l4_len) const;

  bool has_eth_ = false;
  Mac src_mac_ = kDefaultSrcMac;
  Mac dst_mac_ = kDefaultDstMac;
  std::vector<VlanTag> tags_;
  std::optional<uint16_t> ethertype_;

  L3 l3_ = L3::None;
  Bytes saddr_;
  Bytes daddr_;
  uint8_t ttl_ = 64;
  uint16_t ip_id_ = 0x1111;
  bool df_ = false;
  uint8_t tos_ = 0;
  Bytes ip_options_;
  uint16_t frag_offset8_ = 0;
  bool more_fragments_ = false;
  std::optional<uint8_t> protocol_;
  std::optional<uint16_t> ip_len_override_;
  std::optional<uint8_t> ihl_override_;
  std::optional<uint8_t> version_override_;
  std::vector<ExtHeader> ext_;

  L4 l4_ = L4::None;
  uint16_t sport_ = 0;
  uint16_t dport_ = 0;
  uint8_t tcp_flags_ = kAck;
  uint32_t seq_ = 1;
  uint32_t ack_ = 0;
  uint16_t window_ = 65535;
  uint16_t urgent_ = 0;
  Bytes tcp_options_;
  std::optional<uint8_t> data_offset_override_;
  bool bad_l4_checksum_ = false;
  uint8_t icmp_type_ = 0;  // resolved per family at build time when icmp_kind_ says so
  uint8_t icmp_code_ = 0;
  uint32_t icmp_rest_ = 0;
  enum class IcmpKind { Raw, Echo, TimeExceeded, DestUnreachable };
  IcmpKind icmp_kind_ = IcmpKind::Raw;
  Bytes icmp_body_;

  Bytes arp_sender_;
  Bytes arp_target_;

  Bytes payload_;
};

}  // namespace rsthop::test

#endif  // RSTHOP_TESTS_PACKET_BUILDER_H
