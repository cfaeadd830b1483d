// The remote-sender signals: each compares one feature of the RST with what
// the peer it claims to be would have sent.  Weights: > 0 towards a
// middlebox, < 0 towards the endpoint, 0 for context.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "attribution/remote.h"
#include "attribution/signals.h"
#include "common/addr.h"

namespace rsthop::attribution {
namespace {

std::string num(double v, int prec = 2) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", prec, v);
  return buf;
}

Evidence ev(std::string signal, std::string observed, std::string expected, double weight, bool strong = false) {
  return Evidence{std::move(signal), std::move(observed), std::move(expected), weight, strong};
}

bool nonzero_mac(const uint8_t* m) {
  static const uint8_t zero[6] = {};
  return std::memcmp(m, zero, 6) != 0;
}

// The sequence signals need the peer's next seq and a packet of the peer besides its RSTs.
bool seq_known(const RemoteFacts& f) { return f.peer_next && f.st.packets[f.sender] > f.st.rst_count[f.sender]; }

}  // namespace

std::string endpoint_str(const uint8_t* addr, uint16_t port) {
  std::string a = addr_to_string(addr);
  if (!is_v4mapped(addr)) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

std::string stage_phrase(Stage stage) {
  switch (stage) {
    case Stage::post_syn:
      return "right after the SYN";
    case Stage::post_ack:
      return "after the handshake, before any data";
    case Stage::post_psh:
      return "right after the first request";
    case Stage::later:
      break;
  }
  return "after data was exchanged";
}

std::optional<Evidence> hop_memory_signal(const RemoteFacts& f) {
  if (!f.endpoint_hop_remembered || !f.endpoint_hop) return std::nullopt;
  return ev("hop_memory", "no handshake packet of the peer in this flow",
            "the peer answered other connections from hop " + std::to_string(*f.endpoint_hop), 0);
}

std::optional<Evidence> hop_distance_signal(const RemoteFacts& f) {
  const int h = f.rst_hop;
  std::string obs = "TTL " + std::to_string(f.rst.ttl) + " (hop " + std::to_string(h) + ")";
  if (!f.endpoint_hop) return ev("hop_distance", obs, "no packet of the peer to compare with", 0);
  const int ep = *f.endpoint_hop;
  std::string exp = f.base ? "TTL " + std::to_string(f.base->ttl) + " like the peer's " + f.base_name + " (hop " +
                                 std::to_string(ep) + ")"
                           : "hop " + std::to_string(ep);
  if (h < ep) return ev("hop_distance", obs, exp, 0.5, true);
  if (h == ep && (!f.base || f.base->ttl == f.rst.ttl)) return ev("hop_distance", obs, exp, -0.3);
  if (h == ep) return ev("hop_distance", obs, exp, -0.15);
  return ev("hop_distance", obs + ", farther than the peer",
            exp + " (a NAT or proxy in front of the server, or a path change)", 0);
}

std::optional<Evidence> initial_ttl_signal(const RemoteFacts& f) {
  if (!f.endpoint_hop || !f.base || initial_ttl(f.base->ttl) == initial_ttl(f.rst.ttl)) return std::nullopt;
  return ev("initial_ttl", "initial TTL " + std::to_string(initial_ttl(f.rst.ttl)),
            "initial TTL " + std::to_string(initial_ttl(f.base->ttl)) + " like the peer's " + f.base_name, 0.2);
}

// The peer kept talking after its "own" RST: someone else sent it.
std::optional<Evidence> race_signal(const RemoteFacts& f) {
  if (!f.state_after) return std::nullopt;
  const rh_flow_state& a = *f.state_after;
  const uint8_t s = f.sender;
  uint64_t before = f.st.packets[s] - f.st.rst_count[s], after = a.packets[s] - a.rst_count[s];
  if (after <= before && a.bytes[s] <= f.st.bytes[s]) return std::nullopt;
  return ev("race",
            "the peer sent " + std::to_string(after - before) + " more packet(s), " +
                std::to_string(a.bytes[s] - f.st.bytes[s]) + " byte(s) after the RST",
            "nothing after its own RST", 0.7, true);
}

std::optional<Evidence> burst_ttl_signal(const RemoteFacts& f) {
  std::set<uint8_t> ttls(f.fingerprint.ttls.begin(), f.fingerprint.ttls.end());
  if (ttls.size() <= 1) return std::nullopt;
  return ev("burst_ttl", std::to_string(ttls.size()) + " different TTLs in one burst", "one sender, one TTL", 0.3,
            true);
}

// Sequence numbers against what the peer really sent.
std::optional<Evidence> seq_signal(const RemoteFacts& f) {
  if (!seq_known(f)) return std::nullopt;
  int64_t off = static_cast<int32_t>(f.rst.seq - f.peer_next);
  std::string exp = "seq " + std::to_string(f.peer_next) + " (the peer's next)";
  if (off == 0) return ev("seq", "seq " + std::to_string(f.rst.seq), exp, -0.15);
  if (std::llabs(off) <= 65535) return ev("seq", "seq off by " + std::to_string(off) + " (in window)", exp, 0.05);
  return ev("seq", "seq off by " + std::to_string(off) + " (out of window)", exp, 0.3);
}

std::optional<Evidence> seq_change_signal(const RemoteFacts& f) {
  if (!seq_known(f)) return std::nullopt;
  const auto& offs = f.fingerprint.seq_offsets;
  bool rising = offs.size() >= 2 && std::is_sorted(offs.begin(), offs.end()) &&
                std::set<int64_t>(offs.begin(), offs.end()).size() == offs.size() && offs.back() > 0;
  if (!rising) return std::nullopt;
  return ev("seq_change", std::to_string(offs.size()) + " RSTs with rising seq beyond what the peer sent",
            "an endpoint resends one seq (RST_SEQ_CHANGE, Weaver et al. 2009)", 0.4, true);
}

// A RST faster than a round trip to the peer cannot come from the peer.
// Measured from the start of what the RST answers, not from our latest
// packet: a reply to the first segment of a long request arrives right
// after a later one.  Once the peer has sent data, which of our packets a
// RST answers is unknown, so there is no timing signal.
std::optional<Evidence> timing_signal(const RemoteFacts& f) {
  const auto& st = f.st;
  if (!f.rtt_ms || *f.rtt_ms < 0.5 || !f.receiver_local || st.bytes[f.sender]) return std::nullopt;
  uint64_t last = st.bytes[f.receiver] ? st.ts_first_payload[f.receiver]
                  : f.receiver_is_init ? st.ts_syn
                                       : st.ts_synack;
  if (last > f.rst.ts_ns) last = 0;
  if (!last) return std::nullopt;
  double delay = (f.rst.ts_ns - last) / 1e6;
  std::string obs = num(delay) + (st.bytes[f.receiver] ? " ms after our first data" : " ms after our handshake");
  if (delay < *f.rtt_ms * 0.5)
    return ev("timing", obs, "at least one round trip (" + num(*f.rtt_ms) + " ms)", 0.5, true);
  return ev("timing", obs, ">= round trip " + num(*f.rtt_ms) + " ms", -0.05);
}

std::optional<Evidence> window_signal(const RemoteFacts& f) {
  if (!f.rst.window) return std::nullopt;
  return ev("window", "window " + std::to_string(f.rst.window), "window 0, as endpoint stacks send", 0.1);
}

std::optional<Evidence> ip_df_signal(const RemoteFacts& f) {
  if (!f.base || f.rst.family != 4) return std::nullopt;
  bool rst_df = f.rst.ip_flags & RH_IPF_DF, base_df = f.base->ip_flags & RH_IPF_DF;
  if (!base_df || rst_df) return std::nullopt;
  return ev("ip_df", "DF clear", std::string("DF set like the peer's ") + f.base_name, 0.1);
}

// Linux sends its SYN-ACK with IP ID 0 but a socket's RST from its own
// counter: a non-zero ID after a zero one is context, not evidence.
std::optional<Evidence> ip_id_signal(const RemoteFacts& f) {
  if (!f.base || f.rst.family != 4 || f.rst.ip_id == 0) return std::nullopt;
  const uint16_t base_id = f.base->ip_id;
  uint16_t dist = static_cast<uint16_t>(f.rst.ip_id - base_id);
  if (base_id == 0)
    return ev("ip_id", "IP ID " + std::to_string(f.rst.ip_id), "IP ID 0 like the peer's " + std::string(f.base_name),
              0);
  if (dist > 4096 && dist < 61440)
    return ev("ip_id", "IP ID " + std::to_string(f.rst.ip_id),
              "near " + std::to_string(base_id) + " (the peer's counter)", 0.1);
  return std::nullopt;
}

std::optional<Evidence> l2_source_signal(const RemoteFacts& f) {
  if (!f.base || !f.l2_mac || !nonzero_mac(f.base->smac)) return std::nullopt;
  if (std::memcmp(f.base->smac, f.rst.smac, 6) != 0)
    return ev("l2_source", "from MAC " + mac_to_string(f.rst.smac),
              "MAC " + mac_to_string(f.base->smac) + " like the peer's " + f.base_name +
                  " (another device on this segment, or asymmetric routing)",
              0.1);
  return ev("l2_source", "from MAC " + mac_to_string(f.rst.smac), "the same L2 neighbour as the peer's packets", -0.05);
}

std::optional<Evidence> l2_vendor_signal(const RemoteFacts& f) {
  if (f.l2_vendor.empty()) return std::nullopt;
  return ev("l2_vendor", f.l2_vendor, "", 0);
}

std::optional<Evidence> payload_signal(const RemoteFacts& f) {
  if (f.diagnostic) return ev("rst_diagnostic", "reason code " + std::to_string(f.diagnostic->reason_code), "", 0);
  if (f.payload_text.empty()) return std::nullopt;
  return ev("payload_text", "\"" + f.payload_text + "\"", "no text in an endpoint stack's RST", 0.1);
}

std::optional<Evidence> stack_response_signal(const RemoteFacts& f) {
  if (!f.local_events || !f.receiver_local) return std::nullopt;
  if (f.local_receive) return ev("accepted", "this host's stack accepted the RST", "", 0);
  return ev("discarded", "this host's stack discarded the RST (out of window or late)",
            "an endpoint's RST is in window and accepted", 0.2);
}

// The same address answering from different distances on different ports.
std::optional<Evidence> port_distance_signal(const RemoteFacts& f) {
  if (!f.endpoint_hop) return std::nullopt;
  const int ep = *f.endpoint_hop;
  for (const auto& [port, h] : f.port_hops) {
    if (port == f.rst.sport || h <= ep) continue;
    return ev("port_distance", "port " + std::to_string(f.rst.sport) + " answers from hop " + std::to_string(ep),
              "port " + std::to_string(port) + " answers from hop " + std::to_string(h) +
                  ": an intercepting proxy or load balancer terminates port " + std::to_string(f.rst.sport),
              0.6, true);
  }
  return std::nullopt;
}

std::optional<Evidence> ttl_varies_signal(const RemoteFacts& f) {
  // One TTL for the address's SYN-ACKs (or just this flow's), and RST TTLs unlike it.
  std::set<uint8_t> server = f.synack_ttls_seen;
  if (f.base) server.insert(f.base->ttl);
  if (server.size() != 1 || server.count(f.rst.ttl)) return std::nullopt;
  std::set<uint8_t> foreign;
  for (uint8_t t : f.rst_ttls_seen)
    if (!server.count(t)) foreign.insert(t);
  foreign.insert(f.rst.ttl);
  // Three TTLs at least: two devices at two hops give two.
  if (foreign.size() < 3) return std::nullopt;
  std::string seen;
  for (uint8_t t : foreign) seen += (seen.empty() ? "" : ", ") + std::to_string(t);
  return ev("ttl_varies",
            "RSTs from this address carried " + std::to_string(foreign.size()) +
                " different TTLs over as many "
                "connections (" +
                seen + ")",
            "one TTL, like its SYN-ACKs' (TTL " + std::to_string(*server.begin()) +
                "): a TTL chosen per connection is forged and tells no distance",
            0.5, true);
}

std::optional<Evidence> copied_fields_signal(const RemoteFacts& f) {
  if (!f.answered) return std::nullopt;
  const auto& a = *f.answered;
  std::string copied;
  if (f.rst.family == 4 && a.ip_id && f.rst.ip_id == static_cast<uint16_t>(a.ip_id + 1))
    copied = "IP ID " + std::to_string(f.rst.ip_id) + " = the request's + 1";
  // A window alone is no proof (two hosts of one kind advertise the same): only beside the IP ID.
  if (!copied.empty() && f.rst.window && f.rst.window == a.window)
    copied += ", window " + std::to_string(f.rst.window) + " = the request's";
  if (copied.empty()) return std::nullopt;
  return ev("copied_fields", copied + ": the RST is built from the request it answers",
            "the peer's own IP ID counter and window", 0.4, true);
}

std::optional<Evidence> injected_answer_signal(const RemoteFacts& f) {
  if (!f.fin || !f.st.bytes[f.sender] || f.st.ts_first_payload[f.sender]) return std::nullopt;
  // The FIN carried the sender's only data before the RST: an answer in one segment.
  const bool same_ttl = f.fin->ttl == f.rst.ttl;
  const bool peer_ttl = f.base && f.fin->ttl == f.base->ttl;
  return ev("injected_answer",
            "a FIN carrying " + std::to_string(f.st.bytes[f.sender]) +
                " byte(s) (an answer: a blockpage or a "
                "redirect) came just before the RST, TTL " +
                std::to_string(f.fin->ttl) + (same_ttl ? " like the RST's" : ""),
            peer_ttl ? "" : std::string("the peer's answer with TTL ") + (f.base ? std::to_string(f.base->ttl) : "?"),
            peer_ttl ? 0 : 0.2);
}

std::vector<int> sender_hops(const RemoteFacts& f) {
  std::set<int> hops;
  for (uint8_t t : f.fingerprint.ttls) hops.insert(hops_from_ttl(t, f.rst.hook == RH_HOOK_TC_EGRESS));
  return {hops.begin(), hops.end()};
}

std::vector<Evidence> remote_evidence(const RemoteFacts& f) {
  std::vector<Evidence> out;
  for (Signal s : kRemoteSignals)
    if (auto e = s(f)) out.push_back(std::move(*e));
  return out;
}

}  // namespace rsthop::attribution
