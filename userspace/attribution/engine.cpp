#include "attribution/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <span>

#include "common/addr.h"
#include "attribution/local.h"
#include "attribution/signals.h"

namespace rsthop::attribution {
namespace {

constexpr size_t kMaxRememberedAddrs = 4096;

std::string flags_string(uint8_t f) {
  static const char kLetters[] = "FSRPAUEC";
  std::string s;
  for (int i = 0; i < 8; i++)
    if (f & (1 << i)) s.push_back(kLetters[i]);
  return s;
}

std::string num(double v, int prec = 2) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", prec, v);
  return buf;
}

bool made_here(const rh_event& e) {
  return e.hook == RH_HOOK_TC_EGRESS && e.ttl == initial_ttl(e.ttl);
}

bool nonzero_mac(const uint8_t* m) {
  static const uint8_t zero[6] = {};
  return std::memcmp(m, zero, 6) != 0;
}

std::string endpoint_str(const uint8_t* addr, uint16_t port) {
  std::string a = addr_to_string(addr);
  if (!is_v4mapped(addr)) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

std::string stage_of(const rh_flow_state& st, uint8_t init) {
  uint8_t resp = init ^ 1;
  // Neither SYN nor SYN-ACK seen: the connection began before the trace.
  if (!st.ts_syn && !st.ts_synack) return "later";
  if (!st.ts_synack) return "post_syn";
  if (!st.bytes[init]) return "post_ack";
  if (!st.bytes[resp]) return "post_psh";
  return "later";
}

std::string stage_phrase(const std::string& stage) {
  if (stage == "post_syn") return "right after the SYN";
  if (stage == "post_ack") return "after the handshake, before any data";
  if (stage == "post_psh") return "right after the first request";
  return "after data was exchanged";
}

// Accumulates evidence and its weight.
struct Score {
  std::vector<Evidence>& ev;
  double pos = 0, neg = 0;
  bool strong = false;  // a signal that an endpoint's own RST cannot produce
  void add(std::string signal, std::string observed, std::string expected, double w, bool is_strong = false) {
    ev.push_back({std::move(signal), std::move(observed), std::move(expected), w});
    if (w > 0) pos += w;
    if (w < 0) neg += w;
    if (is_strong && w > 0) strong = true;
  }
};

// The sender's next sequence number, 0 when unknown.  rh_track() sets
// seq_next from the SYN and from payload only: a responder that has sent no
// data yet is at its SYN-ACK's seq + 1.
uint32_t next_seq(const flow::ResetRecord& r, const rh_flow_state& st, uint8_t sender) {
  if (st.seq_next[sender]) return st.seq_next[sender];
  for (const auto* hs : {&r.synack, &r.syn})
    if (*hs && ((*hs)->side & 1) == sender) return (*hs)->seq + 1;
  return 0;
}

Fingerprint fingerprint(const flow::ResetRecord& r, const rh_flow_state& st, uint8_t sender) {
  Fingerprint fp;
  fp.count = r.count;
  std::vector<rh_event> rsts = r.rsts;
  if (rsts.empty()) rsts.push_back(r.first.ev);
  const uint32_t next = next_seq(r, st, sender);
  bool known_seq = next != 0;
  for (const auto& e : rsts) {
    std::string f = flags_string(e.tcp_flags);
    if (std::find(fp.flags.begin(), fp.flags.end(), f) == fp.flags.end()) fp.flags.push_back(f);
    fp.windows.push_back(e.window);
    fp.ip_ids.push_back(e.ip_id);
    fp.ttls.push_back(e.ttl);
    if (known_seq) fp.seq_offsets.push_back(static_cast<int32_t>(e.seq - next));
  }
  fp.ip_id_pattern = ip_id_pattern(fp.ip_ids, r.first.ev.family == 6);
  fp.ttl_pattern = std::set<uint8_t>(fp.ttls.begin(), fp.ttls.end()).size() > 1 ? "varying" : "constant";
  std::string id = "n" + std::to_string(fp.count) + "/";
  for (size_t i = 0; i < fp.flags.size(); i++) id += (i ? "," : "") + fp.flags[i];
  id += "/win";
  for (size_t i = 0; i < fp.windows.size(); i++) id += (i ? "," : "") + std::to_string(fp.windows[i]);
  id += "/ipid:" + fp.ip_id_pattern + "/ttl:" + fp.ttl_pattern;
  if (!fp.seq_offsets.empty()) {
    id += "/off";
    for (size_t i = 0; i < fp.seq_offsets.size(); i++) id += (i ? "," : "") + std::to_string(fp.seq_offsets[i]);
  }
  fp.id = id;
  return fp;
}

}  // namespace

void Engine::observe(const flow::Packet& p) {
  const rh_event& e = p.ev;
  if (e.kind != RH_EV_SYNACK || e.hook == RH_HOOK_TP_SEND_RESET || made_here(e)) return;
  if (hops_by_port_.size() >= kMaxRememberedAddrs) hops_by_port_.clear();
  Key k;
  std::memcpy(k.addr.data(), e.saddr, 16);
  hops_by_port_[k][e.sport] = hops_from_ttl(e.ttl, e.hook == RH_HOOK_TC_EGRESS);
}

Verdict Engine::classify(const flow::ResetRecord& r) const {
  Verdict v;
  const rh_event& rst = r.first.ev;
  const rh_flow_state st = r.flow_state ? *r.flow_state : rst.flow;
  const uint8_t sender = rst.side & 1, receiver = sender ^ 1;
  const uint8_t init = r.initiator == RH_SIDE_UNKNOWN ? receiver : r.initiator;
  const bool sender_is_init = sender == init;
  const std::string peer = endpoint_str(rst.saddr, rst.sport);
  v.stage = stage_of(st, init);
  v.fingerprint = fingerprint(r, st, sender);
  if (rst.snap_len) {
    std::span<const uint8_t> payload(rst.payload, std::min<size_t>(rst.snap_len, RH_RST_PAYLOAD_MAX));
    v.diagnostic = rst_diagnostic(payload);
    v.payload_text = v.diagnostic ? v.diagnostic->text : payload_text(payload);
  }
  if (r.wire_seen && nonzero_mac(rst.smac)) {
    std::array<uint8_t, 6> m;
    std::memcpy(m.data(), rst.smac, 6);
    v.l2_mac = m;
    if (oui_) v.l2_vendor = oui_->vendor(m);
  }
  Score s{v.evidence};

  // This host: its TCP stack, or a firewall rule here.
  if (r.local_reason) {
    s.add("local_stack", "tcp_send_reset fired (kernel reason " + std::to_string(*r.local_reason) + ")",
          "no local RST for a remote reset", 1.0);
    v.origin = "local";
    v.hops = 0;
    v.confidence = 0.95;
    v.summary = "This host's TCP stack reset the connection to " + endpoint_str(rst.daddr, rst.dport) + " " +
                stage_phrase(v.stage) + ".";
    return v;
  }
  if (r.wire_seen && made_here(rst)) {
    s.add("local_wire", "RST left this host with an unspent TTL " + std::to_string(rst.ttl),
          "a forwarded RST has a decremented TTL", 0.8);
    if (opt_.local_events)
      s.add("local_stack", "tcp_send_reset did not fire", "the TCP stack reports the RSTs it sends", 0.2);
    v.origin = "local";
    v.hops = 0;
    v.confidence = opt_.local_events ? 0.85 : 0.7;
    v.summary = "This host sent the RST to " + endpoint_str(rst.daddr, rst.dport) +
                (opt_.local_events ? " but its TCP stack did not: a firewall rule here (netfilter REJECT) forged it."
                                   : ".");
    return v;
  }
  if (local_firewall_refusal(r, opt_, v)) return v;
  if (!r.wire_seen) {
    bool flow_on_wire = st.packets[0] + st.packets[1] > 0 || r.syn || r.synack;
    if (r.local_receive && flow_on_wire) {
      s.add("not_on_wire", "a socket here accepted a RST that never crossed the traced interface",
            "a remote RST arrives through the interface", 0.9);
      v.origin = "local";
      v.hops = 0;
      v.confidence = 0.85;
      v.summary = "A RST from " + peer + " reached the socket here without crossing the wire: this host's own "
                  "firewall forged it (e.g. an OUTPUT rule 'reject with tcp reset').";
    } else {
      s.add("not_on_wire", "only a tracepoint saw this RST", "the flow's packets on a traced interface", 0);
      v.origin = "unknown";
      v.confidence = 0.2;
      v.summary = "A socket here was reset by " + peer + " on a flow rsthop does not see on the wire (another interface?).";
    }
    return v;
  }

  // A remote sender: compare the RST with the peer it claims to be.
  const bool at_egress = rst.hook == RH_HOOK_TC_EGRESS;
  const int rst_hops = hops_from_ttl(rst.ttl, at_egress);
  v.hops = rst_hops;
  std::optional<rh_event> base = sender_is_init ? r.syn : r.synack;
  if (base && made_here(*base)) base.reset();
  std::optional<int> ep;
  if (base) {
    ep = hops_from_ttl(base->ttl, base->hook == RH_HOOK_TC_EGRESS);
  } else if (auto it = hops_by_port_.find(Key{[&] {
               std::array<uint8_t, 16> a;
               std::memcpy(a.data(), rst.saddr, 16);
               return a;
             }()});
             it != hops_by_port_.end() && !it->second.empty()) {
    ep = it->second.begin()->second;
    s.add("hop_memory", "no handshake packet of the peer in this flow",
          "the peer answered other connections from hop " + std::to_string(*ep), 0);
  }
  v.endpoint_hops = ep;
  const char* base_name = sender_is_init ? "SYN" : "SYN-ACK";

  if (ep) {
    std::string obs = "TTL " + std::to_string(rst.ttl) + " (hop " + std::to_string(rst_hops) + ")";
    std::string exp = base ? "TTL " + std::to_string(base->ttl) + " like the peer's " + base_name + " (hop " +
                                 std::to_string(*ep) + ")"
                           : "hop " + std::to_string(*ep);
    if (rst_hops < *ep) {
      s.add("hop_distance", obs, exp, 0.5, true);
    } else if (rst_hops == *ep && (!base || base->ttl == rst.ttl)) {
      s.add("hop_distance", obs, exp, -0.3);
    } else if (rst_hops == *ep) {
      s.add("hop_distance", obs, exp, -0.15);
    } else {
      s.add("hop_distance", obs + ", farther than the peer",
            exp + " (a NAT or proxy in front of the server, or a path change)", 0);
    }
    if (base && initial_ttl(base->ttl) != initial_ttl(rst.ttl))
      s.add("initial_ttl", "initial TTL " + std::to_string(initial_ttl(rst.ttl)),
            "initial TTL " + std::to_string(initial_ttl(base->ttl)) + " like the peer's " + base_name, 0.2);
  } else {
    s.add("hop_distance", "TTL " + std::to_string(rst.ttl) + " (hop " + std::to_string(rst_hops) + ")",
          "no packet of the peer to compare with", 0);
  }

  // The peer kept talking after its "own" RST: someone else sent it.
  if (r.state_after) {
    const rh_flow_state& a = *r.state_after;
    uint64_t before = st.packets[sender] - st.rst_count[sender], after = a.packets[sender] - a.rst_count[sender];
    if (after > before || a.bytes[sender] > st.bytes[sender])
      s.add("race",
            "the peer sent " + std::to_string(after - before) + " more packet(s), " +
                std::to_string(a.bytes[sender] - st.bytes[sender]) + " byte(s) after the RST",
            "nothing after its own RST", 0.7, true);
  }
  std::set<uint8_t> ttls(v.fingerprint.ttls.begin(), v.fingerprint.ttls.end());
  if (ttls.size() > 1)
    s.add("burst_ttl", std::to_string(ttls.size()) + " different TTLs in one burst", "one sender, one TTL", 0.3, true);

  // Sequence numbers against what the peer really sent.
  const uint32_t peer_next = next_seq(r, st, sender);
  if (peer_next && st.packets[sender] > st.rst_count[sender]) {
    int64_t off = static_cast<int32_t>(rst.seq - peer_next);
    std::string exp = "seq " + std::to_string(peer_next) + " (the peer's next)";
    if (off == 0)
      s.add("seq", "seq " + std::to_string(rst.seq), exp, -0.15);
    else if (std::llabs(off) <= 65535)
      s.add("seq", "seq off by " + std::to_string(off) + " (in window)", exp, 0.05);
    else
      s.add("seq", "seq off by " + std::to_string(off) + " (out of window)", exp, 0.3);
    const auto& offs = v.fingerprint.seq_offsets;
    bool rising = offs.size() >= 2 && std::is_sorted(offs.begin(), offs.end()) &&
                  std::set<int64_t>(offs.begin(), offs.end()).size() == offs.size() && offs.back() > 0;
    if (rising)
      s.add("seq_change", std::to_string(offs.size()) + " RSTs with rising seq beyond what the peer sent",
            "an endpoint resends one seq (RST_SEQ_CHANGE, Weaver et al. 2009)", 0.4, true);
  }

  // A RST faster than a round trip to the peer cannot come from the peer.
  bool receiver_local = receiver == init ? r.initiator_local : r.responder_local;
  // Measured from the start of what the RST answers, not from our latest
  // packet: a reply to the first segment of a long request arrives right
  // after a later one.  Once the peer has sent data, which of our packets a
  // RST answers is unknown, so there is no timing signal.
  if (r.rtt_ms && *r.rtt_ms >= 0.5 && receiver_local && !st.bytes[sender]) {
    uint64_t last = st.bytes[receiver] ? st.ts_first_payload[receiver] : receiver == init ? st.ts_syn : st.ts_synack;
    if (last > rst.ts_ns) last = 0;
    if (last) {
      double delay = (rst.ts_ns - last) / 1e6;
      std::string obs = num(delay) + (st.bytes[receiver] ? " ms after our first data" : " ms after our handshake");
      if (delay < *r.rtt_ms * 0.5)
        s.add("timing", obs, "at least one round trip (" + num(*r.rtt_ms) + " ms)", 0.5, true);
      else
        s.add("timing", obs, ">= round trip " + num(*r.rtt_ms) + " ms", -0.05);
    }
  }

  if (rst.window)
    s.add("window", "window " + std::to_string(rst.window), "window 0, as endpoint stacks send", 0.1);
  if (base && rst.family == 4) {
    bool rst_df = rst.ip_flags & RH_IPF_DF, base_df = base->ip_flags & RH_IPF_DF;
    if (base_df && !rst_df) s.add("ip_df", "DF clear", std::string("DF set like the peer's ") + base_name, 0.1);
    uint16_t dist = static_cast<uint16_t>(rst.ip_id - base->ip_id);
    // Linux sends its SYN-ACK with IP ID 0 but a socket's RST from its own
    // counter: a non-zero ID after a zero one is context, not evidence.
    if (base->ip_id == 0 && rst.ip_id != 0)
      s.add("ip_id", "IP ID " + std::to_string(rst.ip_id), "IP ID 0 like the peer's " + std::string(base_name), 0);
    else if (base->ip_id != 0 && rst.ip_id != 0 && dist > 4096 && dist < 61440)
      s.add("ip_id", "IP ID " + std::to_string(rst.ip_id),
            "near " + std::to_string(base->ip_id) + " (the peer's counter)", 0.1);
  }
  if (base && v.l2_mac && nonzero_mac(base->smac)) {
    if (std::memcmp(base->smac, rst.smac, 6) != 0)
      s.add("l2_source", "from MAC " + mac_to_string(rst.smac),
            "MAC " + mac_to_string(base->smac) + " like the peer's " + base_name +
                " (another device on this segment, or asymmetric routing)",
            0.1);
    else
      s.add("l2_source", "from MAC " + mac_to_string(rst.smac), "the same L2 neighbour as the peer's packets", -0.05);
  }
  if (!v.l2_vendor.empty()) s.add("l2_vendor", v.l2_vendor, "", 0);
  if (v.diagnostic)
    s.add("rst_diagnostic", "reason code " + std::to_string(v.diagnostic->reason_code), "", 0);
  else if (!v.payload_text.empty())
    s.add("payload_text", "\"" + v.payload_text + "\"", "no text in an endpoint stack's RST", 0.1);
  if (opt_.local_events && receiver_local) {
    if (r.local_receive)
      s.add("accepted", "this host's stack accepted the RST", "", 0);
    else
      s.add("discarded", "this host's stack discarded the RST (out of window or late)",
            "an endpoint's RST is in window and accepted", 0.2);
  }

  // The same address answering from different distances on different ports.
  Key key;
  std::memcpy(key.addr.data(), rst.saddr, 16);
  if (auto it = hops_by_port_.find(key); ep && it != hops_by_port_.end()) {
    for (const auto& [port, h] : it->second) {
      if (port != rst.sport && h > *ep) {
        s.add("port_distance",
              "port " + std::to_string(rst.sport) + " answers from hop " + std::to_string(*ep),
              "port " + std::to_string(port) + " answers from hop " + std::to_string(h) +
                  ": an intercepting proxy or load balancer terminates port " + std::to_string(rst.sport),
              0.6, true);
        break;
      }
    }
  }

  // The verdict.  A strong positive signal is needed to accuse a middlebox.
  double score = s.pos + s.neg;
  bool race = std::any_of(v.evidence.begin(), v.evidence.end(), [](const Evidence& e) { return e.signal == "race"; });
  bool proxy = std::any_of(v.evidence.begin(), v.evidence.end(),
                           [](const Evidence& e) { return e.signal == "port_distance"; });
  // Behind an intercepting proxy the "peer's" SYN-ACK is the proxy's: a RST
  // matching it is the proxy's too, which agrees with port_distance.
  bool proxy_match = proxy && ep && rst_hops == *ep;
  // Conflict means one signal clearly says "the peer" (the TTL matches it
  // exactly) while others say "someone else"; a sum of weak agreements does not.
  double strongest_neg = 0;
  for (const auto& e : v.evidence) strongest_neg = std::min(strongest_neg, e.weight);
  v.conflicting = !proxy_match && s.pos >= 0.3 && strongest_neg <= -0.25;
  std::string why;
  for (const auto& e : v.evidence)
    if (e.weight > 0 && (why.empty() || e.weight >= 0.4)) why = e.signal + ": " + e.observed + ", expected " + e.expected;
  if (s.strong && (score >= 0.3 || race || proxy_match)) {
    v.origin = "middlebox";
    v.confidence = std::clamp(0.5 + 0.35 * score, 0.5, 0.95);
    if (v.conflicting) v.confidence = std::max(0.45, v.confidence - 0.2);
    // A port answered from nearer than the address's other ports may also be
    // a router answering for itself while forwarding the rest: stay modest.
    if (proxy_match && !race) v.confidence = std::min(v.confidence, 0.7);
    // A box in front of the peer is closer than the peer: a RST from the
    // peer's distance or beyond carries a forged (or foreign) TTL that tells
    // no distance.
    bool ttl_forged = ep && rst_hops >= *ep && !proxy_match;
    if (ttl_forged) v.hops.reset();
    // At hop 1 the L2 neighbour is the device itself; farther, it is the gateway it sits behind.
    std::string l2;
    if (v.l2_mac && !v.l2_vendor.empty() && v.l2_vendor != "locally administered")
      l2 = std::string(v.hops && *v.hops == 1 ? "; its MAC " : "; it came through the gateway ") +
           mac_to_string(v.l2_mac->data()) + " belongs to " + v.l2_vendor;
    v.summary = std::string(proxy ? "An intercepting proxy" : "A middlebox") +
                (v.hops ? " at hop " + std::to_string(*v.hops) : "") + " reset the connection to " +
                endpoint_str(rst.saddr, rst.sport) + " " + stage_phrase(v.stage) +
                (ttl_forged ? " (its TTL is forged: it tells no distance)" : "") + l2 + "; " + why + ".";
  } else if (!s.strong && score <= -0.2) {
    v.origin = "endpoint";
    v.hops = ep;
    v.confidence = std::clamp(0.55 + 0.5 * -score, 0.55, 0.95);
    v.summary = "The peer " + peer + " itself reset the connection " + stage_phrase(v.stage) +
                (base ? ": the RST matches its " + std::string(base_name) + " (TTL, hop distance" +
                            (peer_next ? ", sequence number" : "") + ")."
                      : ": it comes from the hop at which the peer answered other connections.");
  } else {
    v.origin = "unknown";
    v.confidence = v.conflicting ? 0.3 : 0.25;
    if (v.conflicting)
      v.summary = "Unclear who reset the connection to " + peer + " " + stage_phrase(v.stage) +
                  ": the evidence conflicts (" + why + ").";
    else if (!ep)
      v.summary = "The connection to " + peer + " was refused or reset " + stage_phrase(v.stage) +
                  " from hop " + std::to_string(rst_hops) +
                  "; with no packet of the peer to compare, rsthop cannot tell the server from a device in front of it.";
    else
      v.summary = "Unclear who reset the connection to " + peer + " " + stage_phrase(v.stage) +
                  ": too little evidence either way.";
  }
  return v;
}

}  // namespace rsthop::attribution
