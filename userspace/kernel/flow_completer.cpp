#include "kernel/flow_completer.h"

#include <cstring>
#include <utility>

namespace rsthop::kernel {
namespace {

// Two CPUs copying one flow's counters may hand them on a few packets out of order; a new flow
// table entry (the kernel's LRU forgot the flow) starts again from one packet.
constexpr uint64_t kReorderSlack = 8;

uint64_t packets_of(const rh_flow_state& st) { return uint64_t{st.packets[0]} + st.packets[1]; }

// Another connection than the one k describes: a new SYN (port reuse) or a new table entry.
bool other_connection(const auto& k, const rh_flow_state& st) {
  return k.ts_syn != st.ts_syn || k.syn_seq != st.syn_seq || packets_of(st) + kReorderSlack < k.packets;
}

template <typename B>
void keep(B& b, uint8_t ttl, uint16_t ip_id, uint16_t window, const uint8_t* mac) {
  b.ttl = ttl;
  b.ip_id = ip_id;
  b.window = window;
  std::memcpy(b.mac, mac, 6);
  b.known = true;
}

template <typename B>
void give(const B& b, uint8_t& ttl, uint16_t& ip_id, uint16_t& window, uint8_t* mac) {
  if (!b.known) return;
  ttl = b.ttl;
  ip_id = b.ip_id;
  window = b.window;
  std::memcpy(mac, b.mac, 6);
}

}  // namespace

FlowCompleter::Known& FlowCompleter::entry(const rh_flow_key& k) {
  if (auto it = cur_.find(k); it != cur_.end()) return it->second;
  Known found{};
  if (auto it = old_.find(k); it != old_.end()) {
    found = it->second;
    old_.erase(it);
  }
  if (cur_.size() >= max_) {
    old_ = std::move(cur_);
    cur_.clear();
  }
  return cur_.emplace(k, found).first->second;
}

// What this event delivered: the fields it set (bpf/record.h rh_flow_expand() put them in ev.flow).
void FlowCompleter::learn(Known& k, const rh_event& ev) {
  const rh_flow_state& st = ev.flow;
  const unsigned side = ev.side & 1U;
  if (ev.kind == RH_EV_RST) {
    k.ts_rst[side] = st.ts_rst[side];
    k.rst_seen[side] = st.rst_count[side];
  }
  if (!(ev.flow_flags & RH_FLOW_FIRST)) return;
  switch (ev.kind) {
    case RH_EV_SYN:
      keep(k.init, st.init_ttl, st.init_ip_id, st.init_window, st.init_mac);
      break;
    case RH_EV_SYNACK:
      k.ts_synack = st.ts_synack;
      keep(k.peer, st.peer_ttl, st.peer_ip_id, st.peer_window, st.peer_mac);
      break;
    case RH_EV_FIN:
      k.ts_fin[side] = st.ts_fin[side];
      break;
    case RH_EV_PAYLOAD:
      k.ts_first_payload[side] = st.ts_first_payload[side];
      break;
    default:
      break;
  }
}

void FlowCompleter::fill(const Known& k, rh_flow_state& st) {
  st.ts_synack = k.ts_synack;
  for (int s = 0; s < 2; s++) {
    st.ts_first_payload[s] = k.ts_first_payload[s];
    st.ts_fin[s] = k.ts_fin[s];
    // The last RST of a side is known only when no RST of that side was missed since.
    st.ts_rst[s] = k.rst_seen[s] == st.rst_count[s] ? k.ts_rst[s] : 0;
  }
  give(k.init, st.init_ttl, st.init_ip_id, st.init_window, st.init_mac);
  give(k.peer, st.peer_ttl, st.peer_ip_id, st.peer_window, st.peer_mac);
}

void FlowCompleter::complete(rh_event& ev) {
  if (!(ev.flow_flags & RH_FLOW_STATE)) return;
  Known& k = entry(ev.key);
  if (other_connection(k, ev.flow)) k = Known{};
  k.ts_syn = ev.flow.ts_syn;
  k.syn_seq = ev.flow.syn_seq;
  k.packets = packets_of(ev.flow);
  learn(k, ev);
  fill(k, ev.flow);
}

void FlowCompleter::clear() {
  cur_.clear();
  old_.clear();
}

}  // namespace rsthop::kernel
