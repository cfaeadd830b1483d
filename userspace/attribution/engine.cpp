#include "attribution/engine.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <span>

#include "attribution/local.h"
#include "attribution/remote.h"
#include "attribution/signals.h"
#include "common/addr.h"
#include "common/decimal.h"

namespace rsthop::attribution {
namespace {

constexpr size_t kMaxRememberedAddrs = 4096;
constexpr size_t kMaxRememberedTtls = 16;

// The letters of the set TCP flags ("RA"), at out (room for 8); returns their count.
size_t flag_letters(char* out, uint8_t f) {
  static const char kLetters[] = "FSRPAUEC";
  size_t n = 0;
  for (int i = 0; i < 8; i++)
    if (f & (1 << i)) out[n++] = kLetters[i];
  return n;
}

// True when `list` (comma-separated, `count` entries) holds `item`.
bool listed(std::string_view list, size_t count, std::string_view item) {
  for (size_t at = 0; count > 0; count--) {
    const size_t comma = std::min(list.find(',', at), list.size());
    if (list.substr(at, comma - at) == item) return true;
    at = comma + 1;
  }
  return false;
}

using flow::made_here;

bool nonzero_mac(const uint8_t* m) {
  static const uint8_t zero[6] = {};
  return std::memcmp(m, zero, 6) != 0;
}

Stage stage_of(const rh_flow_state& st, uint8_t init) {
  uint8_t resp = init ^ 1;
  // Neither SYN nor SYN-ACK seen: the connection began before the trace.
  if (!st.ts_syn && !st.ts_synack) return Stage::later;
  if (!st.ts_synack) return Stage::post_syn;
  if (!st.bytes[init]) return Stage::post_ack;
  if (!st.bytes[resp]) return Stage::post_psh;
  return Stage::later;
}

// The sender's next sequence number, 0 when unknown.  rh_track() sets
// seq_next from the SYN and from payload only: a responder that has sent no
// data yet is at its SYN-ACK's seq + 1.
uint32_t next_seq(const flow::ResetRecord& r, const rh_flow_state& st, uint8_t sender) {
  if (st.seq_next[sender]) return st.seq_next[sender];
  for (const auto* hs : {&r.synack, &r.syn})
    if (*hs && ((*hs)->side & 1) == sender) return (*hs)->seq + 1;
  return 0;
}

// Everything but the id, which build_id() writes once the patterns are final.
Fingerprint fingerprint(const flow::ResetRecord& r, const rh_flow_state& st, uint8_t sender) {
  Fingerprint fp;
  fp.count = r.count;
  // The burst's RSTs, or the first one alone (a tracepoint's too): read in place, not copied.
  std::span<const rh_event> rsts = r.wire_rsts();
  if (rsts.empty()) rsts = std::span<const rh_event>(&r.first.ev, 1);
  static_assert(flow::kMaxBurstDetail <= BurstValues<uint8_t>::kMaxValues, "a burst's RSTs fit the fingerprint");
  const uint32_t next = next_seq(r, st, sender);
  bool known_seq = next != 0;
  size_t distinct = 0;  // flag strings in fp.flags
  for (const auto& e : rsts) {
    char letters[8];
    const std::string_view f(letters, flag_letters(letters, e.tcp_flags));
    if (!listed(fp.flags, distinct, f)) {
      if (distinct++) fp.flags += ',';
      fp.flags += f;
    }
    fp.windows.push_back(e.window);
    fp.ip_ids.push_back(e.ip_id);
    fp.ttls.push_back(e.ttl);
    if (known_seq) fp.seq_offsets.push_back(static_cast<int32_t>(e.seq - next));
  }
  fp.ip_id_pattern =
      ip_id_pattern(std::span<const uint16_t>(fp.ip_ids.data(), fp.ip_ids.size()), r.first.ev.family == 6);
  const bool varying = std::any_of(fp.ttls.begin(), fp.ttls.end(), [&](uint8_t t) { return t != fp.ttls.front(); });
  fp.ttl_pattern = varying ? "varying" : "constant";
  return fp;
}

// "n<count>/<flags,...>/win<w,...>/ipid:<pattern>/ttl:<pattern>[/off<o,...>]",
// written in one pass into the id, sized first for the longest text.
void build_id(Fingerprint& fp) {
  // "n", "/", "/win", "/ipid:", "/ttl:", "/off" and a 10-digit count; a window
  // and its comma 6, an offset and its comma 12.
  const size_t most = 31 + fp.flags.size() + fp.ip_id_pattern.size() + fp.ttl_pattern.size() + 6 * fp.windows.size() +
                      12 * fp.seq_offsets.size();
  fp.id.resize(most);
  char* p = fp.id.data();
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  auto number = [&p](int64_t v) { p = format_decimal(p, v); };
  *p++ = 'n';
  number(fp.count);
  *p++ = '/';
  put(fp.flags);
  put("/win");
  for (size_t i = 0; i < fp.windows.size(); i++) {
    if (i) *p++ = ',';
    number(fp.windows[i]);
  }
  put("/ipid:");
  put(fp.ip_id_pattern);
  put("/ttl:");
  put(fp.ttl_pattern);
  if (!fp.seq_offsets.empty()) {
    put("/off");
    for (size_t i = 0; i < fp.seq_offsets.size(); i++) {
      if (i) *p++ = ',';
      number(fp.seq_offsets[i]);
    }
  }
  fp.id.resize(static_cast<size_t>(p - fp.id.data()));
}

// This host sent the RST (its TCP stack, or a firewall rule here), or only a
// tracepoint saw it: fills `v` and returns true; false for a remote sender.
bool local_verdict(const flow::ResetRecord& r, const rh_flow_state& st, bool local_events, Verdict& v) {
  const rh_event& rst = r.first.ev;
  auto add = [&](SignalName signal, std::string_view observed, std::string_view expected, double w) {
    v.evidence.emplace_back(signal, observed, expected, w);
  };
  if (r.local_reason) {
    v.evidence.push_back(Evidence("local_stack", 1.0)
                             .obs("tcp_send_reset fired (kernel reason ", *r.local_reason, ")")
                             .exp("no local RST for a remote reset"));
    v.origin = Origin::local;
    v.hop = 0;
    v.confidence = 0.95;
    v.summary = "This host's TCP stack reset the connection to " + endpoint_str(rst.daddr, rst.dport) + " " +
                stage_phrase(v.stage) + ".";
    return true;
  }
  if (r.wire_seen && made_here(rst)) {
    v.evidence.push_back(Evidence("local_wire", 0.8)
                             .obs("RST left this host with an unspent TTL ", rst.ttl)
                             .exp("a forwarded RST has a decremented TTL"));
    if (local_events) add("local_stack", "tcp_send_reset did not fire", "the TCP stack reports the RSTs it sends", 0.2);
    v.origin = Origin::local;
    v.hop = 0;
    v.confidence = local_events ? 0.85 : 0.7;
    v.summary = "This host sent the RST to " + endpoint_str(rst.daddr, rst.dport) +
                (local_events ? " but its TCP stack did not: a firewall rule here (netfilter REJECT) forged it." : ".");
    return true;
  }
  if (r.wire_seen) return false;
  const std::string peer = endpoint_str(rst.saddr, rst.sport);
  bool flow_on_wire = st.packets[0] + st.packets[1] > 0 || r.syn || r.synack;
  if (r.local_receive && flow_on_wire) {
    add("not_on_wire", "a socket here accepted a RST that never crossed the traced interface",
        "a remote RST arrives through the interface", 0.9);
    v.origin = Origin::local;
    v.hop = 0;
    v.confidence = 0.85;
    v.summary = "A RST from " + peer +
                " reached the socket here without crossing the wire: this host's own "
                "firewall forged it (e.g. an OUTPUT rule 'reject with tcp reset').";
  } else {
    add("not_on_wire", "only a tracepoint saw this RST", "the flow's packets on a traced interface", 0);
    v.origin = Origin::unknown;
    v.confidence = 0.2;
    v.summary =
        "A socket here was reset by " + peer + " on a flow rsthop does not see on the wire (another interface?).";
  }
  return true;
}

}  // namespace

void Engine::observe(const flow::Packet& p) {
  const rh_event& e = p.ev;
  const bool wire = e.hook != RH_HOOK_TP_SEND_RESET && e.hook != RH_HOOK_TP_RECV_RESET;
  if ((e.kind != RH_EV_SYNACK && e.kind != RH_EV_RST) || !wire || made_here(e)) return;
  Key k;
  std::memcpy(k.addr.data(), e.saddr, 16);
  if (ttls_.size() >= kMaxRememberedAddrs) ttls_.clear();
  auto& t = ttls_[k];
  auto& set = e.kind == RH_EV_RST ? t.rst : t.synack;
  if (!set.contains(e.ttl) && set.size() < kMaxRememberedTtls) set.insert(e.ttl);
  if (e.kind != RH_EV_SYNACK) return;
  if (hops_by_port_.size() >= kMaxRememberedAddrs) hops_by_port_.clear();
  hops_by_port_[k][e.sport] = hops_from_ttl(e.ttl, e.hook == RH_HOOK_TC_EGRESS);
}

RemoteFacts Engine::remote_facts(const flow::ResetRecord& r, const rh_flow_state& st, Verdict& v) const {
  RemoteFacts f;
  f.rst = r.first.ev;
  f.st = st;
  f.state_after = r.state_after;
  f.sender = f.rst.side & 1;
  f.receiver = f.sender ^ 1;
  const uint8_t init = r.initiator == RH_SIDE_UNKNOWN ? f.receiver : r.initiator;
  const bool sender_is_init = f.sender == init;
  f.receiver_is_init = f.receiver == init;
  f.receiver_local = f.receiver_is_init ? r.initiator_local : r.responder_local;
  f.local_events = opt_.local_events;
  f.local_receive = r.local_receive;
  f.rtt_ms = r.rtt_ms;
  f.rst_hop = hops_from_ttl(f.rst.ttl, f.rst.hook == RH_HOOK_TC_EGRESS);
  f.base = sender_is_init ? r.syn : r.synack;
  if (f.base && made_here(*f.base)) f.base.reset();
  f.base_name = sender_is_init ? "SYN" : "SYN-ACK";
  Key key;
  std::memcpy(key.addr.data(), f.rst.saddr, 16);
  if (auto it = hops_by_port_.find(key); it != hops_by_port_.end()) f.port_hops = &it->second;
  if (auto it = ttls_.find(key); it != ttls_.end()) {
    f.rst_ttls_seen = it->second.rst;
    f.synack_ttls_seen = it->second.synack;
  }
  f.answered = r.answered;
  f.fin = r.fin;
  if (f.base) {
    f.endpoint_hop = hops_from_ttl(f.base->ttl, f.base->hook == RH_HOOK_TC_EGRESS);
  } else if (f.port_hops && !f.port_hops->empty()) {
    f.endpoint_hop = f.port_hops->begin()->second;
    f.endpoint_hop_remembered = true;
  }
  f.peer_next = next_seq(r, st, f.sender);
  // Lent, not copied: classify() takes them back once the facts are used.
  f.fingerprint = std::move(v.fingerprint);
  f.l2_mac = v.l2_mac;
  f.l2_vendor = std::move(v.l2_vendor);
  f.diagnostic = std::move(v.diagnostic);
  f.payload_text = std::move(v.payload_text);
  return f;
}

Verdict Engine::classify(const flow::ResetRecord& r) const {
  Verdict v;
  const rh_event& rst = r.first.ev;
  const rh_flow_state st = r.flow_state ? *r.flow_state : rst.flow;
  const uint8_t sender = rst.side & 1, receiver = sender ^ 1;
  const uint8_t init = r.initiator == RH_SIDE_UNKNOWN ? receiver : r.initiator;
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
  if (local_firewall_refusal(r, opt_, v) || local_verdict(r, st, opt_.local_events, v)) {
    build_id(v.fingerprint);
    return v;
  }

  // A remote sender: compare the RST with the peer it claims to be.
  RemoteFacts f = remote_facts(r, st, v);
  v.evidence = remote_evidence(f);
  // One TTL per burst, another per connection: the fingerprint says so
  // (decide() and the summary read the fingerprint's TTLs, not its pattern).
  Fingerprint& fp = f.fingerprint;
  if (fp.ttl_pattern == "constant" &&
      std::any_of(v.evidence.begin(), v.evidence.end(), [](const Evidence& e) { return e.signal == "ttl_varies"; })) {
    fp.ttl_pattern = "per_connection";
  }
  build_id(fp);
  const Decision d = decide(f, v.evidence);
  v.origin = d.origin;
  v.hop = d.hop;
  v.endpoint_hop = f.endpoint_hop;
  v.confidence = d.confidence;
  v.conflicting = d.conflicting;
  v.summary = remote_summary(f, d, v.stage);
  v.fingerprint = std::move(f.fingerprint);
  v.l2_vendor = std::move(f.l2_vendor);
  v.diagnostic = std::move(f.diagnostic);
  v.payload_text = std::move(f.payload_text);
  return v;
}

}  // namespace rsthop::attribution
