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

// v with two decimals, as printf's "%.2f" writes it (into a caller's buffer: a piece for append()).
struct Num {
  explicit Num(double v) { len_ = std::snprintf(buf_, sizeof(buf_), "%.2f", v); }
  operator std::string_view() const { return {buf_, static_cast<size_t>(len_)}; }  // NOLINT

 private:
  char buf_[32];
  int len_;
};

bool nonzero_mac(const uint8_t* m) {
  static const uint8_t zero[6] = {};
  return std::memcmp(m, zero, 6) != 0;
}

// The sequence signals need the peer's next seq and a packet of the peer besides its RSTs.
bool seq_known(const RemoteFacts& f) { return f.peer_next && f.st.packets[f.sender] > f.st.rst_count[f.sender]; }

}  // namespace

void append_endpoint(std::string& out, const uint8_t* addr, uint16_t port) {
  char a[kAddrTextMax];
  const std::string_view text(a, format_addr(a, addr));
  if (is_v4mapped(addr))
    append(out, text, ":", port);
  else
    append(out, "[", text, "]:", port);
}

std::string endpoint_str(const uint8_t* addr, uint16_t port) {
  std::string out;
  append_endpoint(out, addr, port);
  return out;
}

const char* stage_phrase(Stage stage) {
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
  return Evidence("hop_memory", 0)
      .obs("no handshake packet of the peer in this flow")
      .exp("the peer answered other connections from hop ", *f.endpoint_hop);
}

std::optional<Evidence> hop_distance_signal(const RemoteFacts& f) {
  const int h = f.rst_hop;
  // One Evidence, built in place in the optional that is returned (no moves of it).
  auto observed = [&](double weight, bool strong, const char* more) {
    std::optional<Evidence> e(std::in_place, SignalName("hop_distance"), weight, strong);
    e->obs("TTL ", f.rst.ttl, " (hop ", h, ")", std::string_view(more));
    return e;
  };
  if (!f.endpoint_hop) {
    auto e = observed(0, false, "");
    e->exp("no packet of the peer to compare with");
    return e;
  }
  const int ep = *f.endpoint_hop;
  const bool farther = h > ep;
  std::optional<Evidence> e = h < ep                                  ? observed(0.5, true, "")
                              : farther                               ? observed(0, false, ", farther than the peer")
                              : (!f.base || f.base->ttl == f.rst.ttl) ? observed(-0.3, false, "")
                                                                      : observed(-0.15, false, "");
  const std::string_view more = farther ? " (a NAT or proxy in front of the server, or a path change)" : "";
  if (f.base)
    e->exp("TTL ", f.base->ttl, " like the peer's ", std::string_view(f.base_name), " (hop ", ep, ")", more);
  else
    e->exp("hop ", ep, more);
  return e;
}

std::optional<Evidence> initial_ttl_signal(const RemoteFacts& f) {
  if (!f.endpoint_hop || !f.base || initial_ttl(f.base->ttl) == initial_ttl(f.rst.ttl)) return std::nullopt;
  return Evidence("initial_ttl", 0.2)
      .obs("initial TTL ", initial_ttl(f.rst.ttl))
      .exp("initial TTL ", initial_ttl(f.base->ttl), " like the peer's ", f.base_name);
}

// The peer kept talking after its "own" RST: someone else sent it.
std::optional<Evidence> race_signal(const RemoteFacts& f) {
  if (!f.state_after) return std::nullopt;
  const rh_flow_state& a = *f.state_after;
  const uint8_t s = f.sender;
  uint64_t before = f.st.packets[s] - f.st.rst_count[s], after = a.packets[s] - a.rst_count[s];
  if (after <= before && a.bytes[s] <= f.st.bytes[s]) return std::nullopt;
  return Evidence("race", 0.7, true)
      .obs("the peer sent ", after - before, " more packet(s), ", a.bytes[s] - f.st.bytes[s], " byte(s) after the RST")
      .exp("nothing after its own RST");
}

std::optional<Evidence> burst_ttl_signal(const RemoteFacts& f) {
  const auto& all = f.fingerprint.ttls;
  if (std::all_of(all.begin(), all.end(), [&](uint8_t t) { return t == all.front(); })) return std::nullopt;
  TtlSet ttls;
  for (uint8_t t : all) ttls.insert(t);
  return Evidence("burst_ttl", 0.3, true).obs(ttls.size(), " different TTLs in one burst").exp("one sender, one TTL");
}

// Sequence numbers against what the peer really sent.
std::optional<Evidence> seq_signal(const RemoteFacts& f) {
  if (!seq_known(f)) return std::nullopt;
  int64_t off = static_cast<int32_t>(f.rst.seq - f.peer_next);
  auto expected = [&](Evidence&& e) { return std::move(e).exp("seq ", f.peer_next, " (the peer's next)"); };
  if (off == 0) return expected(Evidence("seq", -0.15).obs("seq ", f.rst.seq));
  if (std::llabs(off) <= 65535) return expected(Evidence("seq", 0.05).obs("seq off by ", off, " (in window)"));
  return expected(Evidence("seq", 0.3).obs("seq off by ", off, " (out of window)"));
}

std::optional<Evidence> seq_change_signal(const RemoteFacts& f) {
  if (!seq_known(f)) return std::nullopt;
  const auto& offs = f.fingerprint.seq_offsets;
  bool rising = offs.size() >= 2 && std::is_sorted(offs.begin(), offs.end()) &&
                std::set<int64_t>(offs.begin(), offs.end()).size() == offs.size() && offs.back() > 0;
  if (!rising) return std::nullopt;
  return Evidence("seq_change", 0.4, true)
      .obs(offs.size(), " RSTs with rising seq beyond what the peer sent")
      .exp("an endpoint resends one seq (RST_SEQ_CHANGE, Weaver et al. 2009)");
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
  const char* after = st.bytes[f.receiver] ? " ms after our first data" : " ms after our handshake";
  if (delay < *f.rtt_ms * 0.5)
    return Evidence("timing", 0.5, true)
        .obs(Num(delay), after)
        .exp("at least one round trip (", Num(*f.rtt_ms), " ms)");
  return Evidence("timing", -0.05).obs(Num(delay), after).exp(">= round trip ", Num(*f.rtt_ms), " ms");
}

std::optional<Evidence> window_signal(const RemoteFacts& f) {
  if (!f.rst.window) return std::nullopt;
  return Evidence("window", 0.1).obs("window ", f.rst.window).exp("window 0, as endpoint stacks send");
}

std::optional<Evidence> ip_df_signal(const RemoteFacts& f) {
  if (!f.base || f.rst.family != 4) return std::nullopt;
  bool rst_df = f.rst.ip_flags & RH_IPF_DF, base_df = f.base->ip_flags & RH_IPF_DF;
  if (!base_df || rst_df) return std::nullopt;
  return Evidence("ip_df", 0.1).obs("DF clear").exp("DF set like the peer's ", f.base_name);
}

// Linux sends its SYN-ACK with IP ID 0 but a socket's RST from its own
// counter: a non-zero ID after a zero one is context, not evidence.
std::optional<Evidence> ip_id_signal(const RemoteFacts& f) {
  if (!f.base || f.rst.family != 4 || f.rst.ip_id == 0) return std::nullopt;
  const uint16_t base_id = f.base->ip_id;
  uint16_t dist = static_cast<uint16_t>(f.rst.ip_id - base_id);
  if (base_id == 0) return Evidence("ip_id", 0).obs("IP ID ", f.rst.ip_id).exp("IP ID 0 like the peer's ", f.base_name);
  if (dist > 4096 && dist < 61440)
    return Evidence("ip_id", 0.1).obs("IP ID ", f.rst.ip_id).exp("near ", base_id, " (the peer's counter)");
  return std::nullopt;
}

std::optional<Evidence> l2_source_signal(const RemoteFacts& f) {
  if (!f.base || !f.l2_mac || !nonzero_mac(f.base->smac)) return std::nullopt;
  char mac[kMacTextLen], base_mac[kMacTextLen];
  const std::string_view rst_mac(mac, format_mac(mac, f.rst.smac));
  if (std::memcmp(f.base->smac, f.rst.smac, 6) != 0)
    return Evidence("l2_source", 0.1)
        .obs("from MAC ", rst_mac)
        .exp("MAC ", std::string_view(base_mac, format_mac(base_mac, f.base->smac)), " like the peer's ", f.base_name,
             " (another device on this segment, or asymmetric routing)");
  return Evidence("l2_source", -0.05).obs("from MAC ", rst_mac).exp("the same L2 neighbour as the peer's packets");
}

std::optional<Evidence> l2_vendor_signal(const RemoteFacts& f) {
  if (f.l2_vendor.empty()) return std::nullopt;
  return Evidence("l2_vendor", 0).obs(f.l2_vendor);
}

std::optional<Evidence> payload_signal(const RemoteFacts& f) {
  if (f.diagnostic) return Evidence("rst_diagnostic", 0).obs("reason code ", f.diagnostic->reason_code);
  if (f.payload_text.empty()) return std::nullopt;
  return Evidence("payload_text", 0.1).obs("\"", f.payload_text, "\"").exp("no text in an endpoint stack's RST");
}

std::optional<Evidence> stack_response_signal(const RemoteFacts& f) {
  if (!f.local_events || !f.receiver_local) return std::nullopt;
  if (f.local_receive) return Evidence("accepted", 0).obs("this host's stack accepted the RST");
  return Evidence("discarded", 0.2)
      .obs("this host's stack discarded the RST (out of window or late)")
      .exp("an endpoint's RST is in window and accepted");
}

// The same address answering from different distances on different ports.
std::optional<Evidence> port_distance_signal(const RemoteFacts& f) {
  if (!f.endpoint_hop || !f.port_hops) return std::nullopt;
  const int ep = *f.endpoint_hop;
  for (const auto& [port, h] : *f.port_hops) {
    if (port == f.rst.sport || h <= ep) continue;
    return Evidence("port_distance", 0.6, true)
        .obs("port ", f.rst.sport, " answers from hop ", ep)
        .exp("port ", port, " answers from hop ", h, ": an intercepting proxy or load balancer terminates port ",
             f.rst.sport);
  }
  return std::nullopt;
}

std::optional<Evidence> ttl_varies_signal(const RemoteFacts& f) {
  // One TTL for the address's SYN-ACKs (or just this flow's), and RST TTLs unlike it.
  TtlSet server = f.synack_ttls_seen;
  if (f.base) server.insert(f.base->ttl);
  if (!server.single() || server.contains(f.rst.ttl)) return std::nullopt;
  TtlSet foreign;
  f.rst_ttls_seen.each([&](uint8_t t) {
    if (!server.contains(t)) foreign.insert(t);
  });
  foreign.insert(f.rst.ttl);
  // Three TTLs at least: two devices at two hops give two.
  if (foreign.size() < 3) return std::nullopt;
  Evidence e("ttl_varies", 0.5, true);
  std::string seen;
  foreign.each([&](uint8_t t) { append(seen, seen.empty() ? "" : ", ", t); });
  return std::move(e)
      .obs("RSTs from this address carried ", foreign.size(), " different TTLs over as many connections (", seen, ")")
      .exp("one TTL, like its SYN-ACKs' (TTL ", server.front(),
           "): a TTL chosen per connection is forged and tells no distance");
}

std::optional<Evidence> copied_fields_signal(const RemoteFacts& f) {
  if (!f.answered) return std::nullopt;
  const auto& a = *f.answered;
  if (f.rst.family != 4 || !a.ip_id || f.rst.ip_id != static_cast<uint16_t>(a.ip_id + 1)) return std::nullopt;
  Evidence e("copied_fields", 0.4, true);
  // A window alone is no proof (two hosts of one kind advertise the same): only beside the IP ID.
  if (f.rst.window && f.rst.window == a.window)
    e.obs("IP ID ", f.rst.ip_id, " = the request's + 1, window ", f.rst.window, " = the request's");
  else
    e.obs("IP ID ", f.rst.ip_id, " = the request's + 1");
  e.obs(": the RST is built from the request it answers").exp("the peer's own IP ID counter and window");
  return e;
}

std::optional<Evidence> injected_answer_signal(const RemoteFacts& f) {
  if (!f.fin || !f.st.bytes[f.sender] || f.st.ts_first_payload[f.sender]) return std::nullopt;
  // The FIN carried the sender's only data before the RST: an answer in one segment.
  const bool same_ttl = f.fin->ttl == f.rst.ttl;
  const bool peer_ttl = f.base && f.fin->ttl == f.base->ttl;
  Evidence e("injected_answer", peer_ttl ? 0 : 0.2);
  e.obs("a FIN carrying ", f.st.bytes[f.sender],
        " byte(s) (an answer: a blockpage or a redirect) came just before the RST, TTL ", f.fin->ttl,
        same_ttl ? " like the RST's" : "");
  if (f.base && !peer_ttl)
    e.exp("the peer's answer with TTL ", f.base->ttl);
  else if (!peer_ttl)
    e.exp("the peer's answer with TTL ?");
  return e;
}

std::vector<int> sender_hops(const RemoteFacts& f) {
  std::set<int> hops;
  for (uint8_t t : f.fingerprint.ttls) hops.insert(hops_from_ttl(t, f.rst.hook == RH_HOOK_TC_EGRESS));
  return {hops.begin(), hops.end()};
}

std::vector<Evidence> remote_evidence(const RemoteFacts& f) {
  std::vector<Evidence> out;
  out.reserve(kEvidenceReserved);  // one block of malloc's per-thread cache (verdict.h)
  for (Signal s : kRemoteSignals)
    if (auto e = s(f)) out.push_back(std::move(*e));
  return out;
}

}  // namespace rsthop::attribution
