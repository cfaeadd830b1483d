// --pcap-out: the packets behind each reset event, as a pcapng file.
//
// The Evidence keeper sees every frame the tracker sees (add()) and keeps, per
// flow (canonical key, both directions), a bounded ring of the last frames,
// the handshake (SYN, SYN-ACK and the initiator's first ACK), every RST with
// the frames just before it and a few after, and the ICMP errors quoting the
// flow.  When the timeline emits a reset record, write() puts that record's
// frames into the file, each at most once, in time order, every one with an
// opt_comment "rsthop reset #N: <verdict label> [<role>]".  One Interface
// Description Block per source (file and link type), its if_description
// "pcap FILE (linktype N)".
//
// Memory is bounded (flows and bytes, least recently active flow evicted
// first); what did not fit is counted in stats().
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"
#include "common/result.h"
#include "flow/model.h"
#include "flow/timeline.h"
#include "pcap/pcapng_writer.h"

namespace rsthop::pcap {

// "middlebox at hop 2 (confidence 0.90): <summary>" (hop and summary when known).
std::string verdict_label(const std::string& origin, std::optional<int> hops, double confidence,
                          const std::string& summary);

class Evidence {
 public:
  struct Options {
    size_t frames_before = 8;  // ring: frames kept before a RST
    size_t frames_after = 4;   // frames kept after each RST
    size_t max_pinned = 256;   // RSTs, context and ICMP errors kept per flow
    size_t max_flows = 65536;
    size_t max_bytes = 128u << 20;  // frame bytes held over all flows
  };
  struct Stats {
    uint64_t resets = 0;          // reset events written
    uint64_t packets = 0;         // packets written
    uint64_t flows_evicted = 0;   // flows dropped to stay within max_flows / max_bytes
    uint64_t frames_dropped = 0;  // kept frames lost that way, or beyond max_pinned
  };

  static Result<Evidence> create(const std::string& path, Options opt);
  static Result<Evidence> create(const std::string& path) { return create(path, Options{}); }

  // A new source: flows do not continue across files.  Writes its IDB
  // (`dlt` as libpcap reports it; the IDB holds the LINKTYPE_ value).
  Result<void> begin_file(const std::string& file, int dlt);
  // A live source (rsthop trace / diagnose): an IDB named `name` with
  // if_description `description` ("xdp on eth0"); flows are kept across
  // interfaces (a flow is seen at ingress and egress).  Returns its id for
  // use_interface().
  Result<uint32_t> begin_interface(const std::string& name, const std::string& description, int dlt);
  // Frames add()ed from now on belong to interface `id`.
  void use_interface(uint32_t id) { iface_ = id; }
  // One frame of the current file (or interface): `frame` from its link-layer header,
  // `l3_offset` / `has_l2` as pcap::link_l3() found them.
  void add(std::span<const uint8_t> frame, uint32_t wire_len, uint64_t ts_ns, uint64_t frame_no, size_t l3_offset,
           bool has_l2);
  // The frames behind one reset record (of the current file).
  Result<void> write(const flow::ResetRecord& r, const std::string& label);
  // Every frame still kept for one flow (e.g. a diagnose probe's connection),
  // commented "rsthop <label> [role]"; frames already written are not repeated.
  Result<void> write_flow(const rh_flow_key& key, const std::string& label);
  Result<void> close();

  const Stats& stats() const { return stats_; }

 private:
  enum Role : uint8_t { handshake, before, rst, after, icmp };
  struct Kept {
    std::vector<uint8_t> bytes;
    uint64_t ts = 0, frame = 0;
    uint32_t wire_len = 0;
    uint32_t iface = 0;   // IDB it was seen on
    uint64_t anchor = 0;  // frame number of the RST it was kept for (0: any, ICMP errors)
    uint8_t side = 0;     // side of the anchoring RST's sender
    Role role = before;
  };
  struct Flow {
    std::vector<Kept> hs;
    size_t hs_written = 0;  // hs[0, hs_written) are in the file
    std::deque<Kept> ring;
    std::vector<Kept> pinned;
    uint32_t after_left = 0;
    uint64_t after_anchor = 0;
    uint8_t after_side = 0;
    uint8_t syn_side = 0;
    bool synack_seen = false, ack_seen = false;
    size_t bytes = 0;
    std::list<rh_flow_key>::iterator lru;
  };

  explicit Evidence(PcapngWriter w, Options opt) : w_(std::move(w)), opt_(opt) {}
  Flow& flow(const rh_flow_key& k);
  Kept keep(std::span<const uint8_t> frame, uint32_t wire_len, uint64_t ts, uint64_t no, Role role, Flow& f);
  void pin(Flow& f, Kept k);
  void drop(Flow& f, size_t n);
  void evict_lru(const Flow* keep);

  PcapngWriter w_;
  Options opt_;
  uint32_t iface_ = 0;
  std::unordered_map<rh_flow_key, Flow, flow::KeyHash, flow::KeyEq> flows_;
  std::list<rh_flow_key> lru_;  // front = most recently active
  size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace rsthop::pcap
