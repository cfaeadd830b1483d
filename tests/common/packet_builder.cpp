#include "tests/common/packet_builder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <stdexcept>

namespace rsthop::test {
namespace {

void put8(Bytes& b, uint8_t v) { b.push_back(v); }

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}

void append(Bytes& b, std::span<const uint8_t> more) { b.insert(b.end(), more.begin(), more.end()); }

void store16(Bytes& b, size_t off, uint16_t v) {
  b.at(off) = static_cast<uint8_t>(v >> 8);
  b.at(off + 1) = static_cast<uint8_t>(v);
}

// An IPv6 option area (hop-by-hop, destination options) padded with Pad1/PadN
// so that the whole header, 2 bytes of next-header and length included, is a
// multiple of 8 bytes.
Bytes ext_option_header(Bytes options) {
  size_t pad = (8 - (2 + options.size()) % 8) % 8;
  if (pad == 1) {
    options.push_back(0);  // Pad1
  } else if (pad >= 2) {
    options.push_back(1);  // PadN
    options.push_back(static_cast<uint8_t>(pad - 2));
    options.insert(options.end(), pad - 2, 0);
  }
  Bytes body;
  put8(body, static_cast<uint8_t>((2 + options.size()) / 8 - 1));
  append(body, options);
  return body;
}

}  // namespace

PacketBuilder& PacketBuilder::eth(Mac src, Mac dst) {
  has_eth_ = true;
  src_mac_ = src;
  dst_mac_ = dst;
  return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t vid, uint16_t tpid, uint8_t pcp) {
  has_eth_ = true;
  tags_.push_back({tpid, static_cast<uint16_t>((pcp & 7) << 13 | (vid & 0x0fff))});
  return *this;
}

PacketBuilder& PacketBuilder::ethertype(uint16_t type) {
  ethertype_ = type;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(std::string_view src, std::string_view dst) {
  l3_ = L3::Ipv4;
  saddr_ = parse_addr(src);
  daddr_ = parse_addr(dst);
  if (saddr_.size() != 4 || daddr_.size() != 4) throw std::invalid_argument("ipv4() wants IPv4 addresses");
  return *this;
}

PacketBuilder& PacketBuilder::ipv6(std::string_view src, std::string_view dst) {
  l3_ = L3::Ipv6;
  saddr_ = parse_addr(src);
  daddr_ = parse_addr(dst);
  if (saddr_.size() != 16 || daddr_.size() != 16) throw std::invalid_argument("ipv6() wants IPv6 addresses");
  return *this;
}

PacketBuilder& PacketBuilder::ttl(uint8_t ttl) {
  ttl_ = ttl;
  return *this;
}
PacketBuilder& PacketBuilder::ip_id(uint16_t id) {
  ip_id_ = id;
  return *this;
}
PacketBuilder& PacketBuilder::df(bool on) {
  df_ = on;
  return *this;
}
PacketBuilder& PacketBuilder::tos(uint8_t tos) {
  tos_ = tos;
  return *this;
}

PacketBuilder& PacketBuilder::ip_options(Bytes options) {
  while (options.size() % 4) options.push_back(0);  // EOL padding
  if (options.size() > 40) throw std::invalid_argument("IPv4 options longer than 40 bytes");
  ip_options_ = std::move(options);
  return *this;
}

PacketBuilder& PacketBuilder::frag(uint16_t offset8, bool more_fragments) {
  frag_offset8_ = offset8 & 0x1fff;
  more_fragments_ = more_fragments;
  return *this;
}

PacketBuilder& PacketBuilder::protocol(uint8_t proto) {
  protocol_ = proto;
  return *this;
}
PacketBuilder& PacketBuilder::override_ip_total_length(uint16_t len) {
  ip_len_override_ = len;
  return *this;
}
PacketBuilder& PacketBuilder::override_ihl(uint8_t ihl_words) {
  ihl_override_ = ihl_words;
  return *this;
}
PacketBuilder& PacketBuilder::override_ip_version(uint8_t version) {
  version_override_ = version;
  return *this;
}

PacketBuilder& PacketBuilder::hop_by_hop(Bytes options) {
  ext_.push_back({0, ext_option_header(std::move(options))});
  return *this;
}

PacketBuilder& PacketBuilder::dest_opts(Bytes options) {
  ext_.push_back({60, ext_option_header(std::move(options))});
  return *this;
}

PacketBuilder& PacketBuilder::routing(uint8_t type, uint8_t segments_left, Bytes data) {
  // Next header, length, type and segments left take 4 bytes; the rest pads to 8.
  while ((4 + data.size()) % 8) data.push_back(0);
  Bytes body;
  put8(body, static_cast<uint8_t>((4 + data.size()) / 8 - 1));
  put8(body, type);
  put8(body, segments_left);
  append(body, data);
  ext_.push_back({43, std::move(body)});
  return *this;
}

PacketBuilder& PacketBuilder::fragment6(uint16_t offset8, bool more_fragments, uint32_t id) {
  Bytes body;
  put8(body, 0);
  put16(body, static_cast<uint16_t>((offset8 & 0x1fff) << 3 | (more_fragments ? 1 : 0)));
  put32(body, id);
  ext_.push_back({44, std::move(body)});
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Tcp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::flags(uint8_t flags) {
  tcp_flags_ = flags;
  return *this;
}
PacketBuilder& PacketBuilder::seq(uint32_t seq) {
  seq_ = seq;
  return *this;
}
PacketBuilder& PacketBuilder::ack(uint32_t ack) {
  ack_ = ack;
  return *this;
}
PacketBuilder& PacketBuilder::window(uint16_t window) {
  window_ = window;
  return *this;
}
PacketBuilder& PacketBuilder::urgent(uint16_t urg) {
  urgent_ = urg;
  return *this;
}

PacketBuilder& PacketBuilder::mss(uint16_t mss) {
  Bytes d;
  put16(d, mss);
  return tcp_option(2, d);
}

PacketBuilder& PacketBuilder::wscale(uint8_t shift) { return tcp_option(3, {shift}); }
PacketBuilder& PacketBuilder::sack_perm() { return tcp_option(4, {}); }

PacketBuilder& PacketBuilder::sack(std::span<const std::pair<uint32_t, uint32_t>> blocks) {
  Bytes d;
  for (auto [left, right] : blocks) {
    put32(d, left);
    put32(d, right);
  }
  return tcp_option(5, d);
}

PacketBuilder& PacketBuilder::timestamps(uint32_t tsval, uint32_t tsecr) {
  Bytes d;
  put32(d, tsval);
  put32(d, tsecr);
  return tcp_option(8, d);
}

PacketBuilder& PacketBuilder::nop() {
  tcp_options_.push_back(1);
  return *this;
}
PacketBuilder& PacketBuilder::eol() {
  tcp_options_.push_back(0);
  return *this;
}

PacketBuilder& PacketBuilder::tcp_option(uint8_t kind, Bytes data) {
  tcp_options_.push_back(kind);
  tcp_options_.push_back(static_cast<uint8_t>(2 + data.size()));
  append(tcp_options_, data);
  return *this;
}

PacketBuilder& PacketBuilder::raw_tcp_options(Bytes bytes) {
  append(tcp_options_, bytes);
  return *this;
}
PacketBuilder& PacketBuilder::override_data_offset(uint8_t words) {
  data_offset_override_ = words;
  return *this;
}
PacketBuilder& PacketBuilder::bad_l4_checksum() {
  bad_l4_checksum_ = true;
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Udp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::icmp_echo(uint16_t id, uint16_t seq) {
  l4_ = L4::Icmp;
  icmp_kind_ = IcmpKind::Echo;
  icmp_code_ = 0;
  icmp_rest_ = static_cast<uint32_t>(id) << 16 | seq;
  icmp_body_.clear();
  return *this;
}

PacketBuilder& PacketBuilder::icmp_time_exceeded(Bytes quote, uint8_t code) {
  l4_ = L4::Icmp;
  icmp_kind_ = IcmpKind::TimeExceeded;
  icmp_code_ = code;
  icmp_rest_ = 0;
  icmp_body_ = std::move(quote);
  return *this;
}

PacketBuilder& PacketBuilder::icmp_dest_unreachable(Bytes quote, uint8_t code) {
  l4_ = L4::Icmp;
  icmp_kind_ = IcmpKind::DestUnreachable;
  icmp_code_ = code;
  icmp_rest_ = 0;
  icmp_body_ = std::move(quote);
  return *this;
}

PacketBuilder& PacketBuilder::icmp_raw(uint8_t type, uint8_t code, uint32_t rest, Bytes body) {
  l4_ = L4::Icmp;
  icmp_kind_ = IcmpKind::Raw;
  icmp_type_ = type;
  icmp_code_ = code;
  icmp_rest_ = rest;
  icmp_body_ = std::move(body);
  return *this;
}

PacketBuilder& PacketBuilder::arp(std::string_view sender_ip, std::string_view target_ip) {
  l3_ = L3::Arp;
  arp_sender_ = parse_addr(sender_ip);
  arp_target_ = parse_addr(target_ip);
  if (arp_sender_.size() != 4 || arp_target_.size() != 4) throw std::invalid_argument("arp() wants IPv4 addresses");
  return *this;
}

PacketBuilder& PacketBuilder::payload(Bytes bytes) {
  payload_ = std::move(bytes);
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::string_view text) {
  payload_.assign(text.begin(), text.end());
  return *this;
}

uint8_t PacketBuilder::l4_proto() const {
  if (protocol_) return *protocol_;
  switch (l4_) {
    case L4::Tcp:
      return 6;
    case L4::Udp:
      return 17;
    case L4::Icmp:
      return l3_ == L3::Ipv6 ? 58 : 1;
    case L4::None:
      break;
  }
  return l3_ == L3::Ipv6 ? 59 : 253;  // "no next header" / experimental
}

uint32_t PacketBuilder::pseudo_header_sum(uint8_t proto, size_t l4_len) const {
  // The checksum covers the source and the (final) destination; with a
  // routing header whose segments_left > 0 real stacks would use the last
  // segment, which this builder leaves to raw bytes.
  uint32_t sum = csum_add(0, saddr_);
  sum = csum_add(sum, daddr_);
  if (l3_ == L3::Ipv6) {
    sum += static_cast<uint32_t>(l4_len >> 16) + static_cast<uint32_t>(l4_len & 0xffff);
    sum += proto;
  } else {
    sum += proto;
    sum += static_cast<uint32_t>(l4_len);
  }
  return sum;
}

Bytes PacketBuilder::build_l4(uint8_t proto) const {
  Bytes b;
  size_t csum_off = 0;
  bool has_csum = true;
  bool pseudo = true;
  switch (l4_) {
    case L4::Tcp: {
      Bytes opts = tcp_options_;
      while (opts.size() % 4) opts.push_back(0);  // EOL padding
      if (opts.size() > 40) throw std::invalid_argument("TCP options longer than 40 bytes");
      uint8_t doff = data_offset_override_.value_or(static_cast<uint8_t>((20 + opts.size()) / 4));
      put16(b, sport_);
      put16(b, dport_);
      put32(b, seq_);
      put32(b, ack_);
      put8(b, static_cast<uint8_t>(doff << 4));
      put8(b, tcp_flags_);
      put16(b, window_);
      put16(b, 0);
      put16(b, urgent_);
      append(b, opts);
      csum_off = 16;
      break;
    }
    case L4::Udp:
      put16(b, sport_);
      put16(b, dport_);
      put16(b, static_cast<uint16_t>(8 + payload_.size()));
      put16(b, 0);
      csum_off = 6;
      break;
    case L4::Icmp: {
      bool v6 = l3_ == L3::Ipv6;
      uint8_t type = icmp_type_;
      if (icmp_kind_ == IcmpKind::Echo)
        type = v6 ? 128 : 8;
      else if (icmp_kind_ == IcmpKind::TimeExceeded)
        type = v6 ? 3 : 11;
      else if (icmp_kind_ == IcmpKind::DestUnreachable)
        type = v6 ? 1 : 3;
      put8(b, type);
      put8(b, icmp_code_);
      put16(b, 0);
      put32(b, icmp_rest_);
      append(b, icmp_body_);
      csum_off = 2;
      pseudo = v6;  // ICMPv4 sums the message only
      break;
    }
    case L4::None:
      has_csum = false;
      break;
  }
  append(b, payload_);
  if (has_csum) {
    uint32_t sum = pseudo ? pseudo_header_sum(proto, b.size()) : 0;
    uint16_t c = static_cast<uint16_t>(~csum_fold(csum_add(sum, b)));
    if (l4_ == L4::Udp && c == 0) c = 0xffff;
    if (bad_l4_checksum_) c = static_cast<uint16_t>(c + 1);
    store16(b, csum_off, c);
  }
  return b;
}

Bytes PacketBuilder::build_ip() const {
  uint8_t proto = l4_proto();
  Bytes l4 = build_l4(proto);
  Bytes b;
  if (l3_ == L3::Ipv4) {
    size_t hlen = 20 + ip_options_.size();
    uint8_t ihl = ihl_override_.value_or(static_cast<uint8_t>(hlen / 4));
    uint16_t frag = static_cast<uint16_t>((df_ ? 0x4000 : 0) | (more_fragments_ ? 0x2000 : 0) | frag_offset8_);
    put8(b, static_cast<uint8_t>(version_override_.value_or(4) << 4 | (ihl & 0x0f)));
    put8(b, tos_);
    put16(b, ip_len_override_.value_or(static_cast<uint16_t>(hlen + l4.size())));
    put16(b, ip_id_);
    put16(b, frag);
    put8(b, ttl_);
    put8(b, proto);
    put16(b, 0);
    append(b, saddr_);
    append(b, daddr_);
    append(b, ip_options_);
    store16(b, 10, static_cast<uint16_t>(~csum_fold(csum_add(0, b))));
    append(b, l4);
    return b;
  }
  // IPv6: chain the extension headers, the last one naming the L4 protocol.
  Bytes ext;
  for (size_t i = 0; i < ext_.size(); i++) {
    put8(ext, i + 1 < ext_.size() ? ext_[i + 1].type : proto);
    append(ext, ext_[i].body);
  }
  uint8_t first_nh = ext_.empty() ? proto : ext_.front().type;
  uint32_t vtf = static_cast<uint32_t>(version_override_.value_or(6)) << 28 | static_cast<uint32_t>(tos_) << 20;
  put32(b, vtf);
  put16(b, ip_len_override_.value_or(static_cast<uint16_t>(ext.size() + l4.size())));
  put8(b, first_nh);
  put8(b, ttl_);
  append(b, saddr_);
  append(b, daddr_);
  append(b, ext);
  append(b, l4);
  return b;
}

Bytes PacketBuilder::build_l3() const {
  switch (l3_) {
    case L3::Ipv4:
    case L3::Ipv6:
      return build_ip();
    case L3::Arp: {
      Bytes b;
      put16(b, 1);       // Ethernet
      put16(b, 0x0800);  // IPv4
      put8(b, 6);
      put8(b, 4);
      put16(b, 1);  // request
      append(b, src_mac_);
      append(b, arp_sender_);
      b.insert(b.end(), 6, 0);
      append(b, arp_target_);
      append(b, payload_);
      return b;
    }
    case L3::None:
      break;
  }
  return payload_;
}

Bytes PacketBuilder::build() const {
  Bytes l3 = build_l3();
  if (!has_eth_) return l3;
  Bytes b;
  append(b, dst_mac_);
  append(b, src_mac_);
  for (const VlanTag& t : tags_) {
    put16(b, t.tpid);
    put16(b, t.tci);
  }
  uint16_t type = 0x88B5;  // IEEE local experimental, for frames without L3
  if (l3_ == L3::Ipv4)
    type = kEtherTypeIpv4;
  else if (l3_ == L3::Ipv6)
    type = kEtherTypeIpv6;
  else if (l3_ == L3::Arp)
    type = kEtherTypeArp;
  put16(b, ethertype_.value_or(type));
  append(b, l3);
  return b;
}

}  // namespace rsthop::test
