#include "flow/completion.h"

#include <cstring>

namespace rsthop::flow {
namespace {

// Two CPUs copying one flow's counters may hand them on a few packets out of order; a new flow
// table entry (the kernel's LRU forgot the flow) starts again from one packet.
constexpr uint64_t kReorderSlack = 8;

uint64_t packets_of(const rh_flow_state& st) { return uint64_t{st.packets[0]} + st.packets[1]; }

template <typename B>
void keep(B& b, uint8_t ttl, uint16_t ip_id, uint16_t window, const uint8_t* mac) {
  b.ttl = ttl;
  b.ip_id = ip_id;
  b.window = window;
  std::memcpy(b.mac, mac, 6);
  b.known = true;
}

// Into a baseline the event does not carry (all zero) only.
template <typename B>
void give(const B& b, uint8_t& ttl, uint16_t& ip_id, uint16_t& window, uint8_t* mac) {
  static const uint8_t zero[6] = {};
  if (!b.known || ttl || ip_id || window || std::memcmp(mac, zero, 6) != 0) return;
  ttl = b.ttl;
  ip_id = b.ip_id;
  window = b.window;
  std::memcpy(mac, b.mac, 6);
}

void give(uint64_t known, __u64& field) {
  if (!field) field = known;
}

}  // namespace

// What this event delivered: the fields it set (bpf/record.h rh_flow_expand() put them in ev.flow).
void FlowCompletion::learn(const rh_event& ev) {
  const rh_flow_state& st = ev.flow;
  const unsigned side = ev.side & 1U;
  if (ev.kind == RH_EV_RST) {
    ts_rst_[side] = st.ts_rst[side];
    rst_seen_[side] = st.rst_count[side];
  }
  if (!(ev.flow_flags & RH_FLOW_FIRST)) return;
  switch (ev.kind) {
    case RH_EV_SYN:
      keep(init_, st.init_ttl, st.init_ip_id, st.init_window, st.init_mac);
      break;
    case RH_EV_SYNACK:
      ts_synack_ = st.ts_synack;
      keep(peer_, st.peer_ttl, st.peer_ip_id, st.peer_window, st.peer_mac);
      break;
    case RH_EV_FIN:
      ts_fin_[side] = st.ts_fin[side];
      break;
    case RH_EV_PAYLOAD:
      ts_first_payload_[side] = st.ts_first_payload[side];
      break;
    default:
      break;
  }
}

void FlowCompletion::fill(rh_flow_state& st) const {
  give(ts_synack_, st.ts_synack);
  for (int s = 0; s < 2; s++) {
    give(ts_first_payload_[s], st.ts_first_payload[s]);
    give(ts_fin_[s], st.ts_fin[s]);
    // The last RST of a side is known only when no RST of that side was missed since.
    if (rst_seen_[s] == st.rst_count[s]) give(ts_rst_[s], st.ts_rst[s]);
  }
  give(init_, st.init_ttl, st.init_ip_id, st.init_window, st.init_mac);
  give(peer_, st.peer_ttl, st.peer_ip_id, st.peer_window, st.peer_mac);
}

void FlowCompletion::complete(rh_event& ev) {
  if (!(ev.flow_flags & RH_FLOW_STATE)) return;
  const rh_flow_state& st = ev.flow;
  // Another connection than the one these fields describe: a new SYN (port reuse) or a new table entry.
  if (ts_syn_ != st.ts_syn || syn_seq_ != st.syn_seq || packets_of(st) + kReorderSlack < packets_)
    *this = FlowCompletion{};
  ts_syn_ = st.ts_syn;
  syn_seq_ = st.syn_seq;
  packets_ = packets_of(st);
  learn(ev);
  fill(ev.flow);
}

}  // namespace rsthop::flow
