// FlowCompletion: one flow's once-set fields, kept in the Timeline's own flow
// entry.  A ring record carries only the part of its flow's state that moves
// with every packet (rh_flow_sum, bpf/abi.h); the fields set once per
// connection (ts_synack, ts_first_payload, ts_fin, the SYN / SYN-ACK
// baselines) and ts_rst come in the event that set them (RH_FLOW_FIRST, and
// every RST).  complete() remembers those and fills them into the later events
// of the same connection, so readers see the whole rh_flow_state as the kernel
// held it.  The event's own fields win: an event that arrives whole (the
// offline Tracker's) is left as it is.  What was never delivered (the event
// was lost to a full ring, the flow was first seen mid-stream) stays zero, and
// another connection on the tuple (a new SYN, a new kernel table entry)
// starts afresh.
#pragma once

#include <cstdint>

#include "bpf/abi.h"

namespace rsthop::flow {

class FlowCompletion {
 public:
  // ev as rh_record_decode() left it (or whole); a no-op without a flow state (RH_FLOW_STATE).
  void complete(rh_event& ev);

 private:
  struct Baseline {
    uint8_t ttl = 0;
    uint16_t ip_id = 0;
    uint16_t window = 0;
    uint8_t mac[6] = {};
    bool known = false;
  };
  void learn(const rh_event& ev);
  void fill(rh_flow_state& st) const;

  uint64_t ts_syn_ = 0;  // the connection these fields belong to (with syn_seq_)
  uint32_t syn_seq_ = 0;
  uint64_t packets_ = 0;  // both sides' packets at the last event
  uint64_t ts_synack_ = 0;
  uint64_t ts_first_payload_[2] = {};
  uint64_t ts_fin_[2] = {};
  uint64_t ts_rst_[2] = {};
  uint32_t rst_seen_[2] = {};  // rst_count[] when ts_rst_[] was learned
  Baseline init_, peer_;
};

}  // namespace rsthop::flow
