// The offline road's kernel: turns captured frames into the flow::Packet
// events the kernel programs (bpf/rsthop.bpf.c) would have emitted, by running
// the very same shared C (rh_glue_frame from bpf/events.h over the parsers of
// bpf/parse.h and rh_track from bpf/track.h) over a userspace flow table.  Each event carries, like the kernel's, a
// copy of the flow state after the packet (ev.flow), the sender's side (ev.side) and the canonical key; losses are
// counted by cause in the kernel's counters.
//
// Per packet it runs what rh_handle() runs, the event glue of bpf/events.h:
// parse, --host/--port filter (the same code over the same rodata layout),
// flow table keyed by the canonical key, event kinds, RST payload and
// first-payload snapshots, ICMP quotes, counters; the record it builds is
// decoded with rh_record_decode() as the kernel's are.
//
// Differences from the kernel, on purpose: the clock is the frame's capture
// timestamp (any time domain; 0 is replaced by 1, since the state machine
// reads 0 as "not seen"), and the LRU table's evictions, silent in the
// kernel, are counted under RH_C_LOST_FLOW_TABLE.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "common/addr.h"
#include "flow/model.h"
#include "flow/timeline.h"
#include "pcap/step_scan.h"

struct rh_filter_cfg;  // bpf/events.h

namespace rsthop::pcap {

// Where and when a frame was seen.
struct FrameInfo {
  uint64_t ts_ns = 0;
  uint8_t hook = RH_HOOK_PCAP;  // enum rh_hook
  uint32_t ifindex = 0;
  bool has_l2 = true;  // bytes start at an Ethernet header (else at the IP header)
  uint32_t segs = 1;   // GSO segments the frame stands for
  uint64_t frame = 0;  // 1-based frame number in its file (0: none)
};

// One captured frame, owning its bytes (tests and the replay helper).
struct Frame {
  uint64_t ts_ns = 0;
  std::vector<uint8_t> bytes;  // from the Ethernet header (or the IP header, see has_l2)
  uint8_t hook = RH_HOOK_TC_INGRESS;
  uint32_t ifindex = 1;
  bool has_l2 = true;
  uint32_t segs = 1;
};

// A tcp_send_reset / tcp_receive_reset tracepoint hit on the socket
// local -> remote.  SEND: this host sent a RST; RECV: a socket here accepted one.
struct LocalReset {
  uint64_t ts_ns = 0;
  uint8_t kind = RH_EV_LOCAL_RST_SEND;  // RH_EV_LOCAL_RST_SEND or RH_EV_LOCAL_RST_RECV
  uint8_t family = 4;
  std::array<uint8_t, 16> local_addr{};  // network order, IPv4-mapped for IPv4
  uint16_t local_port = 0;
  std::array<uint8_t, 16> remote_addr{};
  uint16_t remote_port = 0;
  uint16_t reason = 0;  // enum sk_rst_reason (SEND only)
};

// The user's --host / --port filter; the Tracker turns it into the kernel's
// rodata layout (struct rh_filter_cfg) and runs the kernel's filter code.
struct Filter {
  std::vector<Cidr> hosts;      // empty: any address (the kernel keeps at most RH_MAX_CIDRS)
  std::vector<uint16_t> ports;  // empty: any port
};

struct TrackerRoad;  // tracker.cpp: the bpf/events.h host hooks' context

class Tracker {
 public:
  struct Options {
    Filter filter;
    size_t max_flows = 65536;  // the kernel's default flow-table size
  };
  Tracker() : Tracker(Options{}) {}
  explicit Tracker(Options opt);
  ~Tracker();
  Tracker(Tracker&&) noexcept;
  Tracker& operator=(Tracker&&) noexcept;

  // The event the kernel would emit for this frame, if any.
  std::optional<flow::Packet> feed(std::span<const uint8_t> bytes, const FrameInfo& info);
  std::optional<flow::Packet> feed(const Frame& f);
  // The event the tracepoint programs would emit (always one).
  flow::Packet feed(const LocalReset& r);
  // A frame the link layer already rejected (no IP inside, or cut short
  // before it): counted as the kernel counts a parse failure (cause is an
  // enum rh_counter).
  void count_unparsed(int cause);

  // The flow table, as the kernel's `flows` map answers a lookup.
  std::optional<rh_flow_state> lookup(const rh_flow_key& k) const;
  // lookup() as a Timeline::StateLookup; the Tracker must outlive it.
  flow::Timeline::StateLookup state_lookup() const;

  // Hands every TCP segment the filter lets through to `scan` (StepScan::add_tcp), from now on; nullptr: none.
  void set_scan(StepScan* scan);

  const rh_counters& counters() const { return counters_; }
  size_t flow_count() const { return live_; }

 private:
  // The flow table: nodes in an arena, threaded on an intrusive LRU list
  // (head = most recently used), and an open-addressing index (linear probing,
  // backward-shift deletion, load <= 1/2) of node numbers with their hash.
  // One probe and no allocation per packet of a known flow.  Until the table
  // is first full, a touch only stamps the node with a use counter (the list's
  // order is the stamps' order, and nothing reads it before an eviction); the
  // first eviction threads the list from the stamps, and it is kept from then on.
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Node {
    uint64_t key[5];  // the key as KeyWords holds it: compared without loading its pad-masked tail again
    rh_flow_state st;
    uint32_t prev, next;  // LRU neighbours (kNone at the ends), once lru_linked_
    uint32_t hash;
    uint64_t used;  // the use counter at its last touch, until lru_linked_
  };
  struct Slot {
    uint32_t node = kNone;
    uint32_t hash = 0;
  };
  struct KeyWords;  // tracker.cpp: the key's meaningful bytes as five words, loaded once per lookup
  static uint32_t hash_key(const KeyWords& kw);
  uint32_t find(const KeyWords& kw, uint32_t h) const;                              // node number or kNone
  rh_flow_state* flow_insert(const rh_flow_key& k, uint32_t h, uint8_t tcp_flags);  // flow_get()'s miss
  void index_insert(uint32_t node, uint32_t h);
  void index_erase(uint32_t node);
  void index_grow();
  void lru_unlink(uint32_t n);
  void lru_push_front(uint32_t n);
  void lru_touch(uint32_t n);  // n is the most recently used now (a stamp, or the front of the list)
  void lru_link();             // the list threaded from the stamps, most recent first (the first eviction)
  inline rh_flow_state* flow_get(const rh_flow_key& k, uint8_t tcp_flags);  // tracker.cpp: inline in feed()
  rh_flow_state* find_state(const rh_flow_key& k);                          // no LRU touch, like an ICMP error's lookup
  void count(int cause);
  friend struct TrackerRoad;

  Options opt_;
  std::shared_ptr<const rh_filter_cfg> filter_;  // immutable, shared by copies
  std::vector<Node> nodes_;
  std::vector<uint32_t> free_;
  std::vector<Slot> slots_;
  uint32_t mask_ = 0;
  size_t live_ = 0;
  uint32_t head_ = kNone, tail_ = kNone;
  bool lru_linked_ = false;  // the list holds the order (else the nodes' stamps do)
  uint64_t uses_ = 0;        // the use counter the stamps come from
  rh_counters counters_{};
  std::unique_ptr<TrackerRoad> road_;  // the frame and road feed() hands the glue: kept, only per-frame fields written
};

}  // namespace rsthop::pcap
