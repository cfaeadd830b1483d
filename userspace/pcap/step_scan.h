// Whether a capture may hold a ladder step (diagnose/captured_ladder.h): a
// client's payload sent with a lower TTL than its connection's SYN.  A cheap
// test over the frames alone, with the Tracker's own parsers (bpf/parse.h) and
// no flow state, so that `rsthop analyze` runs its ladder pass (a second full
// pipeline over every file) only when it can find something.
//
// A superset of what the recogniser counts as a step: every pure SYN (SYN
// without ACK or RST) is remembered by its directed tuple with the highest TTL
// seen, and any later segment of that tuple with payload and without
// SYN/FIN/RST below that TTL answers yes.  The recogniser's step needs such a
// SYN event and such a first payload event of the same tuple after it, so a
// "no" here means the ladder pass would find no ladder.
//
// Two roads in: add() takes every frame; add_tcp() the TCP segments a Tracker
// parsed and let through its --host / --port filter (Tracker::set_scan), so
// that a line pass scans without parsing twice.  The ladder pass's pipeline
// sees only what that filter lets through, so the second road's "no" means
// the same.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"

struct rh_pkt;  // bpf/parse.h

namespace rsthop::pcap {

class StepScan {
 public:
  // One frame from its IP header (`has_l2`: from its Ethernet header), in file order.
  void add(std::span<const uint8_t> bytes, bool has_l2);
  // One TCP segment as bpf/parse.h parsed it (addresses built, rh_parse_tcp_rest done), in file order:
  // its flags, TTL and payload length, the family and where its IP and TCP headers are, and `p` itself.
  // Inline: the Tracker calls it for every segment of the line pass; most end at the first tests.
  void add_tcp(uint8_t flags, uint8_t ttl, uint16_t payload_len, int family, const uint8_t* l3, const uint8_t* tcp,
               const rh_pkt& p) {
    if (maybe_) return;
    if (!(flags & RH_TCP_SYN)) {  // a payload below every SYN's TTL, of a tuple whose bit a SYN set, or no step
      if ((flags & (RH_TCP_FIN | RH_TCP_RST)) || !payload_len || ttl >= max_syn_ttl_) return;
      const size_t bit = tuple_bit(family, l3, tcp);
      if (!((syn_bits_[bit >> 6] >> (bit & 63)) & 1)) return;
    }
    add_pkt(p);
  }
  bool maybe() const { return maybe_; }

 private:
  struct Tuple {
    uint8_t saddr[16], daddr[16];
    uint16_t sport, dport;
    bool operator==(const Tuple& o) const;
  };
  struct TupleHash {
    size_t operator()(const Tuple& t) const;
  };
  struct Plain {  // what plain() read
    const uint8_t *l3, *tcp;
    uint8_t family, ttl, flags;
  };
  static bool plain(std::span<const uint8_t> bytes, bool has_l2, Plain& out);
  void add_parsed(std::span<const uint8_t> bytes, bool has_l2);  // add() through the shared parsers
  void add_pkt(const rh_pkt& p);                                 // the SYN or the payload, parsed
  static constexpr int kBitsLog2 = 20;
  static uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  // The directed tuple's bit, from the IP header (`l3`, `family` 4 or 6) and the TCP header's ports.
  [[gnu::always_inline]] static size_t tuple_bit(int family, const uint8_t* l3, const uint8_t* tcp) {
    uint64_t h = uint64_t{load32(tcp)} * 0x9E3779B97F4A7C15ULL;
    if (family == 4) {
      h ^= load64(l3 + 12) * 0xFF51AFD7ED558CCDULL;  // both addresses, next to each other in the header
    } else {
      h ^= load64(l3 + 8) * 0xFF51AFD7ED558CCDULL ^ load64(l3 + 16) * 0xC4CEB9FE1A85EC53ULL ^
           load64(l3 + 24) * 0xD6E8FEB86659FD93ULL ^ load64(l3 + 32) * 0xA0761D6478BD642FULL;
    }
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return static_cast<size_t>(h >> (64 - kBitsLog2));
  }

  std::unordered_map<Tuple, uint8_t, TupleHash> syn_ttl_;  // the highest TTL of each tuple's SYNs
  // One bit per tuple hash, set for every tuple in syn_ttl_: a clear bit rejects a segment without a lookup.
  std::vector<uint64_t> syn_bits_ = std::vector<uint64_t>(size_t{1} << (kBitsLog2 - 6));
  uint8_t max_syn_ttl_ = 0;  // of all of them: a payload at or above it is no step
  bool maybe_ = false;
};

}  // namespace rsthop::pcap
