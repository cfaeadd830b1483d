#pragma once
// FlowCompleter: a ring record carries only the part of its flow's state that
// moves with every packet (rh_flow_sum, bpf/abi.h); the fields set once per
// connection (ts_synack, ts_first_payload, ts_fin, the SYN / SYN-ACK
// baselines) and ts_rst come in the event that set them.  The completer
// remembers those per flow and fills them into every later event, so readers
// see the whole rh_flow_state as the kernel held it.  What it did not see
// (the event was lost to a full ring, the flow was forgotten) stays zero.
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "bpf/abi.h"
#include "flow/timeline.h"

namespace rsthop::kernel {

class FlowCompleter {
 public:
  // Remembers at least the last max_flows flows that had an event (the kernel's flow table holds 65536).
  explicit FlowCompleter(size_t max_flows = 65536) : max_(max_flows ? max_flows : 1) {}

  // ev as rh_record_decode() left it; a no-op for events without a flow state.
  void complete(rh_event& ev);
  size_t size() const { return cur_.size() + old_.size(); }
  void clear();

 private:
  struct Baseline {
    uint8_t ttl = 0;
    uint16_t ip_id = 0;
    uint16_t window = 0;
    uint8_t mac[6] = {};
    bool known = false;
  };
  struct Known {
    uint64_t ts_syn = 0;  // the connection these fields belong to (with syn_seq)
    uint32_t syn_seq = 0;
    uint64_t packets = 0;  // both sides' packets at the last event
    uint64_t ts_synack = 0;
    uint64_t ts_first_payload[2] = {};
    uint64_t ts_fin[2] = {};
    uint64_t ts_rst[2] = {};
    uint32_t rst_seen[2] = {};  // rst_count[] when ts_rst[] was learned
    Baseline init, peer;
  };
  using Map = std::unordered_map<rh_flow_key, Known, flow::KeyHash, flow::KeyEq>;

  Known& entry(const rh_flow_key& k);
  static void learn(Known& k, const rh_event& ev);
  static void fill(const Known& k, rh_flow_state& st);

  // Two generations: a flow unseen for max_ events moves to old_, then is dropped (an LRU in O(1)).
  Map cur_, old_;
  size_t max_;
};

}  // namespace rsthop::kernel
