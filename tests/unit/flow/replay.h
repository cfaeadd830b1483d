// Offline road in miniature: turns captured frames into the flow::Packet
// events the kernel programs (bpf/rsthop.bpf.c) would have emitted, by running
// the very same shared C (rh_parse_l3 / rh_parse_tcp / rh_parse_tcp_opts from
// bpf/parse.h, rh_flow_key_make, rh_track from bpf/track.h) over a userspace
// flow table.  Each event carries, like the kernel's, a copy of the flow state
// after the packet (ev.flow), the sender's side (ev.side) and the canonical key.
//
// Depends on the ABI headers and the flow model only: no libbpf, no I/O, no
// test framework, so it can move to the offline (pcap) road unchanged.
// Differences from the kernel, on purpose: no host/port filter, no flow-table
// capacity (the kernel's LRU never evicts here), and the clock is the frame's
// capture timestamp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "abi.h"
#include "model.h"
#include "timeline.h"

namespace rsthop::offline {

// One captured frame and where it was seen.
struct Frame {
  uint64_t ts_ns = 0;              // CLOCK_MONOTONIC-like capture time
  std::vector<uint8_t> bytes;      // from the Ethernet header (or the IP header, see has_l2)
  uint8_t hook = RH_HOOK_TC_INGRESS;  // enum rh_hook; XDP / tc only
  uint32_t ifindex = 1;
  bool has_l2 = true;
  uint32_t segs = 1;               // GSO segments the frame stands for
};

// A tcp_send_reset / tcp_receive_reset tracepoint hit on the socket
// local -> remote.  SEND: this host sent a RST; RECV: a socket here accepted one.
struct LocalReset {
  uint64_t ts_ns = 0;
  uint8_t kind = RH_EV_LOCAL_RST_SEND;  // RH_EV_LOCAL_RST_SEND or RH_EV_LOCAL_RST_RECV
  uint8_t family = 4;
  std::array<uint8_t, 16> local_addr{};   // network order, IPv4-mapped for IPv4
  uint16_t local_port = 0;
  std::array<uint8_t, 16> remote_addr{};
  uint16_t remote_port = 0;
  uint16_t reason = 0;                    // enum sk_rst_reason (SEND only)
};

class Replayer {
 public:
  // The event the kernel would emit for this frame, if any.  Losses are
  // counted in counters() by cause, as the kernel counts them.
  std::optional<flow::Packet> feed(const Frame& f);
  // The event the tracepoint programs would emit (always one).
  flow::Packet feed(const LocalReset& r);

  // The flow table, as the kernel's `flows` map answers a lookup.
  std::optional<rh_flow_state> lookup(const rh_flow_key& k) const;
  // lookup() as a Timeline::StateLookup; the Replayer must outlive it.
  flow::Timeline::StateLookup state_lookup() const;

  const rh_counters& counters() const { return counters_; }
  size_t flow_count() const { return flows_.size(); }

 private:
  rh_flow_state* flow_get(const rh_flow_key& k, uint8_t tcp_flags);
  void count(int cause);

  std::unordered_map<rh_flow_key, rh_flow_state, flow::KeyHash, flow::KeyEq> flows_;
  rh_counters counters_{};
};

// Every event of `frames`, in order.
std::vector<flow::Packet> replay(Replayer& r, std::span<const Frame> frames);

}  // namespace rsthop::offline
