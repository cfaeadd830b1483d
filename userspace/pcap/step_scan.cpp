#include "pcap/step_scan.h"

#include <cstring>

#include "bpf/parse.h"

namespace rsthop::pcap {

bool StepScan::Tuple::operator==(const Tuple& o) const { return std::memcmp(this, &o, sizeof(Tuple)) == 0; }

size_t StepScan::TupleHash::operator()(const Tuple& t) const {
  uint64_t w[4];
  std::memcpy(w, t.saddr + 8, 8);  // the low halves: IPv4-mapped addresses keep all 32 bits there
  std::memcpy(w + 1, t.daddr + 8, 8);
  std::memcpy(w + 2, t.saddr, 8);
  w[3] = (uint64_t{t.sport} << 16) | t.dport;
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (uint64_t x : w) h = (h ^ x) * 0xff51afd7ed558ccdULL;
  return static_cast<size_t>(h ^ (h >> 32));
}

// A plain IPv4 / IPv6 TCP segment (Ethernet without VLAN tags, or raw IP, no IPv4 options beyond the
// header's length, no IPv6 extension headers) whose headers are all in the frame: its TTL, flags and
// headers, read where bpf/parse.h reads them; false for any other shape, which the parsers then see.
[[gnu::always_inline]] inline bool StepScan::plain(std::span<const uint8_t> bytes, bool has_l2, Plain& out) {
  const uint8_t* h = bytes.data();
  const size_t n = bytes.size();
  const size_t l3 = has_l2 ? 14 : 0;
  if (n < l3 + 40) return false;  // the shortest IPv4 + TCP headers (an IPv6 one is checked below)
  const uint8_t v = h[l3] >> 4;
  out.l3 = h + l3;
  if (has_l2 ? (h[12] == 0x08 && h[13] == 0x00) : v != 6) {  // IPv4: what rh_parse_l2() says for it
    const size_t ihl = static_cast<size_t>(h[l3] & 0x0f) * 4;
    if (v != 4 || ihl < 20 || h[l3 + 9] != RH_IPPROTO_TCP || n < l3 + ihl + 20) return false;
    out.family = 4;
    out.ttl = h[l3 + 8];
    out.tcp = h + l3 + ihl;
  } else {
    if (has_l2 && !(h[12] == 0x86 && h[13] == 0xDD)) return false;
    if (v != 6 || h[l3 + 6] != RH_IPPROTO_TCP || n < l3 + 60) return false;
    out.family = 6;
    out.ttl = h[l3 + 7];
    out.tcp = h + l3 + 40;
  }
  out.flags = out.tcp[13];
  return true;
}

void StepScan::add(std::span<const uint8_t> bytes, bool has_l2) {
  if (maybe_) return;
  // Most segments end here, before the parsers (which would read the same bytes, or refuse the frame:
  // a fragment, a short TCP header, so no step either): a segment without SYN is no step when its TTL
  // is at or above every SYN's, when it carries FIN or RST, or when no SYN ever set its tuple's bit.
  if (Plain q; plain(bytes, has_l2, q) && !(q.flags & RH_TCP_SYN)) {
    if (q.ttl >= max_syn_ttl_ || (q.flags & (RH_TCP_FIN | RH_TCP_RST))) return;
    const size_t bit = tuple_bit(q.family, q.l3, q.tcp);
    if (!((syn_bits_[bit >> 6] >> (bit & 63)) & 1)) return;
  }
  add_parsed(bytes, has_l2);
}

// Out of line: add()'s fast road above then saves and restores no registers (it did for these parsers).
[[gnu::noinline]] void StepScan::add_parsed(std::span<const uint8_t> bytes, bool has_l2) {
  rh_cursor c{bytes.data(), bytes.data() + bytes.size()};
  rh_pkt p;
  int proto = rh_parse_l2(&c, &p, has_l2 ? 1 : 0);
  if (proto < 0 || rh_parse_ip(&c, &p, bytes.data(), proto) != RH_IPPROTO_TCP) return;
  if (rh_parse_tcp_ports(&c, &p) < 0) return;
  rh_parse_tcp_rest(&p);
  rh_pkt_addrs(&p);
  add_pkt(p);
}

void StepScan::add_pkt(const rh_pkt& p) {
  const uint8_t f = p.tcp_flags;
  const bool syn = (f & RH_TCP_SYN) && !(f & (RH_TCP_ACK | RH_TCP_RST));
  const bool payload = !(f & (RH_TCP_SYN | RH_TCP_FIN | RH_TCP_RST)) && p.payload_len;
  if (!syn && !(payload && p.ttl < max_syn_ttl_)) return;
  Tuple t;
  std::memcpy(t.saddr, p.saddr, 16);
  std::memcpy(t.daddr, p.daddr, 16);
  t.sport = p.sport;
  t.dport = p.dport;
  if (syn) {
    const size_t bit = tuple_bit(p.family, p.l3, p.tcp);
    syn_bits_[bit >> 6] |= uint64_t{1} << (bit & 63);
    uint8_t& ttl = syn_ttl_[t];
    if (p.ttl > ttl) ttl = p.ttl;
    if (p.ttl > max_syn_ttl_) max_syn_ttl_ = p.ttl;
    return;
  }
  auto it = syn_ttl_.find(t);
  if (it != syn_ttl_.end() && p.ttl < it->second) maybe_ = true;
}

}  // namespace rsthop::pcap
