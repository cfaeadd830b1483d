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
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace rsthop::pcap {

class StepScan {
 public:
  // One frame from its IP header (`has_l2`: from its Ethernet header), in file order.
  void add(std::span<const uint8_t> bytes, bool has_l2);
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
  static constexpr int kBitsLog2 = 20;
  static size_t tuple_bit(int family, const uint8_t* l3, const uint8_t* tcp);

  std::unordered_map<Tuple, uint8_t, TupleHash> syn_ttl_;  // the highest TTL of each tuple's SYNs
  // One bit per tuple hash, set for every tuple in syn_ttl_: a clear bit rejects a segment without a lookup.
  std::vector<uint64_t> syn_bits_ = std::vector<uint64_t>(size_t{1} << (kBitsLog2 - 6));
  uint8_t max_syn_ttl_ = 0;  // of all of them: a payload at or above it is no step
  bool maybe_ = false;
};

}  // namespace rsthop::pcap
