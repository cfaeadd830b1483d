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

void StepScan::add(std::span<const uint8_t> bytes, bool has_l2) {
  if (maybe_) return;
  rh_cursor c{bytes.data(), bytes.data() + bytes.size()};
  rh_pkt p;
  int proto = rh_parse_l2(&c, &p, has_l2 ? 1 : 0);
  if (proto < 0 || rh_parse_ip(&c, &p, bytes.data(), proto) != RH_IPPROTO_TCP) return;
  if (rh_parse_tcp_ports(&c, &p) < 0) return;
  rh_parse_tcp_rest(&p);
  const uint8_t f = p.tcp_flags;
  const bool syn = (f & RH_TCP_SYN) && !(f & (RH_TCP_ACK | RH_TCP_RST));
  const bool payload = !(f & (RH_TCP_SYN | RH_TCP_FIN | RH_TCP_RST)) && p.payload_len;
  if (!syn && !(payload && p.ttl < max_syn_ttl_)) return;  // most segments end here
  rh_pkt_addrs(&p);
  Tuple t;
  std::memcpy(t.saddr, p.saddr, 16);
  std::memcpy(t.daddr, p.daddr, 16);
  t.sport = p.sport;
  t.dport = p.dport;
  if (syn) {
    uint8_t& ttl = syn_ttl_[t];
    if (p.ttl > ttl) ttl = p.ttl;
    if (p.ttl > max_syn_ttl_) max_syn_ttl_ = p.ttl;
    return;
  }
  auto it = syn_ttl_.find(t);
  if (it != syn_ttl_.end() && p.ttl < it->second) maybe_ = true;
}

}  // namespace rsthop::pcap
