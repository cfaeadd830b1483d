// The flow room's data model: what the timeline hands to attribution and
// output.  Plain structs over the ABI event (bpf/abi.h); no libbpf, no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/abi.h"

namespace rsthop::flow {

// An event's header (its first RH_REC_HEAD_SIZE bytes: the wire features),
// all a handshake baseline keeps: nothing reads the flow state, RST payload or
// ICMP parts of a SYN or SYN-ACK, which are three quarters of the 416-byte
// event and were copied into every flow and every reset record.  The members
// are rh_event's, by the same names at the same offsets (asserted below), so
// code reads either alike.
struct EventHead {
  EventHead() = default;
  // Implicit on purpose: a baseline is assigned straight from the event.
  EventHead(const rh_event& ev) {  // NOLINT(google-explicit-constructor)
    std::memcpy(static_cast<void*>(this), &ev, sizeof(EventHead));
  }
  __u64 ts_ns;
  __u32 ifindex;
  __u8 kind, hook, family, side;
  __u8 saddr[16], daddr[16];
  __u16 sport, dport;
  __u32 seq, ack;
  __u16 window;
  __u8 tcp_flags, ttl;
  __u16 ip_id, ip_len;
  __u8 ip_flags, opts, wscale, vlan_depth;
  __u16 mss, payload_len;
  __u32 tsval, tsecr;
  __u8 smac[6], dmac[6];
  __u16 snap_len, reason;
  __u8 flow_flags;
  __u8 pad0[3];
};
static_assert(sizeof(EventHead) == RH_REC_HEAD_SIZE, "EventHead is rh_event's header");
#define RSTHOP_SAME_OFFSET(m) \
  static_assert(offsetof(EventHead, m) == offsetof(rh_event, m), "EventHead." #m " is at rh_event's offset")
RSTHOP_SAME_OFFSET(ts_ns);
RSTHOP_SAME_OFFSET(ifindex);
RSTHOP_SAME_OFFSET(kind);
RSTHOP_SAME_OFFSET(hook);
RSTHOP_SAME_OFFSET(family);
RSTHOP_SAME_OFFSET(side);
RSTHOP_SAME_OFFSET(saddr);
RSTHOP_SAME_OFFSET(daddr);
RSTHOP_SAME_OFFSET(sport);
RSTHOP_SAME_OFFSET(dport);
RSTHOP_SAME_OFFSET(seq);
RSTHOP_SAME_OFFSET(ack);
RSTHOP_SAME_OFFSET(window);
RSTHOP_SAME_OFFSET(tcp_flags);
RSTHOP_SAME_OFFSET(ttl);
RSTHOP_SAME_OFFSET(ip_id);
RSTHOP_SAME_OFFSET(ip_len);
RSTHOP_SAME_OFFSET(ip_flags);
RSTHOP_SAME_OFFSET(opts);
RSTHOP_SAME_OFFSET(wscale);
RSTHOP_SAME_OFFSET(vlan_depth);
RSTHOP_SAME_OFFSET(mss);
RSTHOP_SAME_OFFSET(payload_len);
RSTHOP_SAME_OFFSET(tsval);
RSTHOP_SAME_OFFSET(tsecr);
RSTHOP_SAME_OFFSET(smac);
RSTHOP_SAME_OFFSET(dmac);
RSTHOP_SAME_OFFSET(snap_len);
RSTHOP_SAME_OFFSET(reason);
RSTHOP_SAME_OFFSET(flow_flags);
RSTHOP_SAME_OFFSET(pad0);
#undef RSTHOP_SAME_OFFSET

// A packet that leaves through tc egress with an unspent initial TTL (32, 64,
// 128, 255) was made on this host.  An rh_event or its head.
template <typename Event>
bool made_here(const Event& e) {
  return e.hook == RH_HOOK_TC_EGRESS && (e.ttl == 32 || e.ttl == 64 || e.ttl == 128 || e.ttl == 255);
}

// One event from either road (ring buffer or capture file).
struct Packet {
  rh_event ev{};
  std::vector<uint8_t> data;  // first payload bytes, only for RH_EV_PAYLOAD
  // Capture files only (the pcap room): 1-based frame number in `file`; 0 and "" live.
  uint64_t frame = 0;
  std::string file;
};

// What the first payload of a direction said, when it was TLS or HTTP.
struct AppHint {
  std::string tls_sni;       // tls.client.server_name
  std::string http_host;     // url.domain
  std::string http_request;  // request line, e.g. "GET / HTTP/1.1"
};

// One endpoint of a flow, as seen on the wire.
struct Endpoint {
  std::array<uint8_t, 16> ip{};  // network order, IPv4-mapped for IPv4
  uint16_t port = 0;
  std::optional<std::array<uint8_t, 6>> mac;  // source MAC of its packets, when an L2 hook saw them
  uint64_t bytes = 0;
  uint64_t packets = 0;
};

// What the output computes once per flow and every line of the flow reuses:
// its Community ID (the reset lines and the flow line hash the same tuple,
// often far apart in time; packet lines, trace --packets, come first).  Shared
// by the flow's records (FlowSummary::memo, ResetRecord::memo), handed to
// packet lines by Timeline::Seen; written by the output layer.
struct FlowMemo {
  char community_id[32] = {};
  uint8_t community_id_len = 0;  // 0: not computed yet
  uint16_t community_id_seed = 0;
};

// One summary per connection when it ends, times out or the trace stops.
// `source` is the side that sent the first SYN (or, without a SYN seen, the
// side that sent the first packet rsthop saw).
struct FlowSummary {
  rh_flow_key key{};
  uint8_t family = 4;
  uint32_t ifindex = 0;
  Endpoint source, destination;
  uint64_t start_ns = 0;         // CLOCK_MONOTONIC of the first packet seen
  uint64_t end_ns = 0;           // last activity
  std::optional<double> rtt_ms;  // SYN -> SYN-ACK as seen here
  std::string conn_state;        // Zeek conn_state (S0, S1, SF, REJ, RSTO, RSTR, ...)
  std::string history;           // Zeek history letters (ShADadFfRr...)
  std::string closed_by;         // "source" | "destination" | "timeout" | "evicted" | "trace_end" | "unknown"
  bool handshake_seen = false;
  AppHint app;             // from the initiator's first payload
  uint64_t cgroup_id = 0;  // cgroup v2 id of this host's socket, from a tracepoint event of the flow; 0 = unknown
  // Capture files only: the file and the first / last frame that produced an event of this flow.
  uint64_t first_frame = 0, last_frame = 0;
  std::string file;
  std::shared_ptr<FlowMemo> memo;  // the flow's memo; null when no reset record or packet line made one
};

inline constexpr size_t kMaxBurstDetail = 16;

// The header fields of one packet that attribution compares a RST with.
struct PacketMark {
  uint8_t ttl = 0;
  uint8_t hook = 0;
  uint16_t ip_id = 0, window = 0;
  uint32_t seq = 0;
  uint64_t ts_ns = 0;
};

// What a burst of RSTs says while it lasts (the timeline holds one per reset
// flow until the burst's window closes): the part of a ResetRecord its RSTs
// fill.  The rest is known when the record is emitted.
struct ResetBurst {
  Packet first;                             // the first RST of the burst (wire features)
  uint32_t count = 1;                       // RSTs in the burst
  std::vector<uint64_t> frames;             // capture files only: frame numbers of the burst's RSTs (as seqs)
  std::optional<uint16_t> local_reason;     // enum sk_rst_reason when this host sent it
  bool local_receive = false;               // a socket here accepted a RST (tcp_receive_reset)
  bool wire_seen = false;                   // seen by an XDP / tc hook (false: only a tracepoint saw it)
  std::optional<rh_flow_state> flow_state;  // flow state when the RST was seen
  // The burst's wire RSTs (their seq, TTL...), the first kMaxBurstDetail, once
  // there are two: a burst of one keeps it in `first` alone (most bursts; no
  // 416-byte copy per reset flow).  Read them with wire_rsts().
  std::vector<rh_event> rsts;

  // The burst's wire RSTs in order: `rsts`, or `first` alone (none when only a tracepoint saw it).
  std::span<const rh_event> wire_rsts() const {
    if (!rsts.empty()) return rsts;
    return wire_seen ? std::span<const rh_event>(&first.ev, 1) : std::span<const rh_event>();
  }
};

// One RST, or a burst of RSTs from the same sender on the same flow: the
// burst and what the flow knew when the record was emitted.
struct ResetRecord : ResetBurst {
  std::optional<EventHead> synack;           // the responder's SYN-ACK, when seen (baseline)
  std::optional<EventHead> syn;              // the initiator's SYN, when seen (baseline at the server)
  std::optional<rh_flow_state> state_after;  // the flow's state when the record was emitted
  bool initiator_local = false;              // the initiator's SYN left this host (tc egress, fresh TTL)
  bool responder_local = false;              // the responder's SYN-ACK left this host
  std::optional<double> rtt_ms;
  AppHint app;                          // what the initiator sent first
  std::optional<PacketMark> answered;   // the RST receiver's first payload (the request the RST answers)
  std::optional<PacketMark> fin;        // the RST sender's first FIN, when it came before the RST
  uint8_t initiator = RH_SIDE_UNKNOWN;  // side of the canonical key that sent the first SYN
  uint64_t cgroup_id = 0;               // cgroup v2 id of this host's socket (FlowSummary::cgroup_id)
  std::shared_ptr<FlowMemo> memo;       // shared with the flow's other records and its summary
};

}  // namespace rsthop::flow
