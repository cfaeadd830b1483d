// The DOM event builders as they were before the streaming writer (commit
// eb9c820), kept verbatim as the reference the fast lines are checked
// against: json::parse(append_*_line(...)) must equal reference_*_event(...).
#include "reference_event.h"

#include <algorithm>
#include <optional>

#include "common/addr.h"
#include "common/clock.h"
#include "output/community_id.h"
#include "output/names.h"

namespace rsthop::output::reference {

using nlohmann::json;

namespace {

bool nonzero(const uint8_t* p, size_t n) {
  return std::any_of(p, p + n, [](uint8_t b) { return b != 0; });
}

// The ABI says 4 or 6; trust the address form when a record says neither.
uint8_t family_of(uint8_t family, const uint8_t* addr) {
  if (family == 4 || family == 6) return family;
  return is_v4mapped(addr) ? 4 : 6;
}

// Only XDP and tc see Ethernet headers; tracepoint events carry zero MACs
// that must not be reported as a real address.
bool hook_has_l2(uint8_t hook) {
  return hook == RH_HOOK_XDP || hook == RH_HOOK_TC_INGRESS || hook == RH_HOOK_TC_EGRESS;
}

json base(const Context& ctx, const char* type, uint64_t mono_ns) {
  json j;
  j["@timestamp"] = rfc3339_us(ctx.clock.to_unix_ns(mono_ns));
  j["event_type"] = type;
  j["schema_version"] = kSchemaVersion;
  j["host"]["name"] = ctx.host_name;
  return j;
}

json endpoint(const uint8_t* ip, std::optional<uint16_t> port, const uint8_t* mac) {
  json e;
  e["ip"] = addr_to_string(ip);
  if (port) e["port"] = *port;
  if (mac != nullptr && nonzero(mac, 6)) e["mac"] = mac_to_string(mac);
  return e;
}

void add_network(json& j, uint8_t family, const char* transport, const std::string& community_id) {
  j["network"]["transport"] = transport;
  j["network"]["type"] = family == 4 ? "ipv4" : "ipv6";
  if (!community_id.empty()) j["network"]["community_id"] = community_id;
}

void add_observer(json& j, const Context& ctx, uint32_t ifindex) {
  if (ifindex == 0) return;  // tracepoints and summaries without an interface
  j["rsthop"]["ifindex"] = ifindex;
  if (!ctx.interface_name) return;
  std::string name = ctx.interface_name(ifindex);
  if (!name.empty()) j["observer"]["interface"]["name"] = name;
}

void add_app(json& j, const flow::AppHint& app) {
  if (!app.tls_sni.empty()) j["tls"]["client"]["server_name"] = app.tls_sni;
  if (!app.http_host.empty()) j["url"]["domain"] = app.http_host;
  if (!app.http_request.empty()) j["rsthop"]["http_request"] = app.http_request;
}

std::optional<json> tcp_options(const rh_event& ev) {
  if (ev.opts == 0) return std::nullopt;
  json o = json::object();
  if (ev.opts & RH_OPT_MSS) o["mss"] = ev.mss;
  if (ev.opts & RH_OPT_WSCALE) o["wscale"] = ev.wscale;
  if (ev.opts & RH_OPT_SACK_PERM) o["sack_perm"] = true;
  if (ev.opts & RH_OPT_TIMESTAMP) o["timestamps"] = {{"tsval", ev.tsval}, {"tsecr", ev.tsecr}};
  if (ev.opts & RH_OPT_SACK) o["sack"] = true;
  if (ev.opts & RH_OPT_OTHER) o["other"] = true;
  if (ev.opts & RH_OPT_TRUNCATED) o["truncated"] = true;
  return o;
}

// IP-level features shared by packet.* and reset.*; IP ID and DF exist only
// in IPv4, so IPv6 lines leave them out instead of reporting a fake 0/false.
void add_ip_features(json& o, const rh_event& ev, uint8_t family, const char* df_name) {
  o["ttl"] = ev.ttl;
  if (family == 4) {
    o["ip_id"] = ev.ip_id;
    o[df_name] = (ev.ip_flags & RH_IPF_DF) != 0;
  }
}

void add_tcp_features(json& o, const rh_event& ev) {
  o["flags"] = tcp_flags_string(ev.tcp_flags);
  o["seq"] = ev.seq;
  o["ack"] = ev.ack;
  o["window"] = ev.window;
  o["payload_len"] = ev.payload_len;
  if (auto opts = tcp_options(ev)) o["options"] = std::move(*opts);
}

// What the RST's sender looked like earlier in the flow, so a reader (and
// attribution) can compare TTL / IP ID / window / MAC against the RST.  The
// baseline must come from the same claimed sender: a RST from the responder
// is compared with its SYN-ACK, one from the initiator with its SYN.
std::optional<json> reset_baseline(const flow::ResetRecord& r, uint8_t family) {
  const rh_event& ev = r.first.ev;
  const rh_flow_state* st = r.flow_state ? &*r.flow_state : nullptr;
  uint8_t initiator = r.initiator != RH_SIDE_UNKNOWN ? r.initiator : (st ? st->initiator : RH_SIDE_UNKNOWN);
  bool from_initiator = initiator != RH_SIDE_UNKNOWN && ev.side == initiator;

  json b;
  const uint8_t* mac = nullptr;
  if (from_initiator) {
    if (st == nullptr || st->ts_syn == 0) return std::nullopt;
    b = {{"from", "syn"}, {"ttl", st->init_ttl}, {"window", st->init_window}};
    if (family == 4) b["ip_id"] = st->init_ip_id;
    mac = st->init_mac;
  } else if (r.synack) {
    b = {{"from", "syn-ack"}, {"ttl", r.synack->ttl}, {"window", r.synack->window}};
    if (family == 4) b["ip_id"] = r.synack->ip_id;
    if (hook_has_l2(r.synack->hook)) mac = r.synack->smac;
  } else if (st != nullptr && st->ts_synack != 0) {
    b = {{"from", "syn-ack"}, {"ttl", st->peer_ttl}, {"window", st->peer_window}};
    if (family == 4) b["ip_id"] = st->peer_ip_id;
    mac = st->peer_mac;
  } else {
    return std::nullopt;
  }
  if (mac != nullptr && nonzero(mac, 6)) b["mac"] = mac_to_string(mac);
  return b;
}

// Time from the receiver's last sign of life (its last payload, or the
// handshake) to the RST: a RST right after a request and one after a long
// idle point at different culprits.
std::optional<double> reset_delay_ms(const flow::ResetRecord& r) {
  const rh_event& ev = r.first.ev;
  if (!r.flow_state || ev.side > RH_SIDE_B) return std::nullopt;
  const rh_flow_state& st = *r.flow_state;
  uint64_t ref = std::max({st.ts_last_payload[ev.side ^ 1], st.ts_synack, st.ts_syn});
  if (ref == 0 || ref > ev.ts_ns) return std::nullopt;
  return static_cast<double>(ev.ts_ns - ref) / 1e6;
}

}  // namespace

json reference_flow_event(const Context& ctx, const flow::FlowSummary& f) {
  json j = base(ctx, "flow", f.end_ns);
  uint8_t fam = family_of(f.family, f.source.ip.data());
  auto side = [](const flow::Endpoint& e) {
    json o = endpoint(e.ip.data(), e.port, e.mac ? e.mac->data() : nullptr);
    o["bytes"] = e.bytes;
    o["packets"] = e.packets;
    return o;
  };
  j["source"] = side(f.source);
  j["destination"] = side(f.destination);
  add_network(j, fam, "tcp",
              community_id_v1(fam, f.source.ip.data(), f.destination.ip.data(), f.source.port, f.destination.port));
  add_observer(j, ctx, f.ifindex);

  json& fl = j["flow"];
  fl["conn_state"] = f.conn_state;
  fl["history"] = f.history;
  if (f.rtt_ms) fl["rtt_ms"] = *f.rtt_ms;
  uint64_t dur = f.end_ns >= f.start_ns ? f.end_ns - f.start_ns : 0;
  fl["duration_ms"] = static_cast<double>(dur) / 1e6;
  fl["closed_by"] = f.closed_by;
  fl["handshake_seen"] = f.handshake_seen;
  j["event"]["start"] = rfc3339_us(ctx.clock.to_unix_ns(f.start_ns));
  j["event"]["end"] = rfc3339_us(ctx.clock.to_unix_ns(f.end_ns));
  add_app(j, f.app);
  return j;
}

json reference_reset_event(const Context& ctx, const flow::ResetRecord& r) {
  const rh_event& ev = r.first.ev;
  json j = base(ctx, "reset", ev.ts_ns);
  uint8_t fam = family_of(ev.family, ev.saddr);
  bool l2 = hook_has_l2(ev.hook);
  j["source"] = endpoint(ev.saddr, ev.sport, l2 ? ev.smac : nullptr);
  j["destination"] = endpoint(ev.daddr, ev.dport, l2 ? ev.dmac : nullptr);
  add_network(j, fam, "tcp", community_id_v1(fam, ev.saddr, ev.daddr, ev.sport, ev.dport));
  add_observer(j, ctx, ev.ifindex);
  j["rsthop"]["hook"] = hook_name(ev.hook);

  json& rs = j["reset"];
  // Tracepoint-only records carry the tuple but no wire features.
  if (ev.kind == RH_EV_RST) {
    add_ip_features(rs, ev, fam, "ip_df");
    add_tcp_features(rs, ev);
    if (ev.snap_len > 0) rs["payload_hex"] = to_hex(ev.payload, ev.snap_len, RH_RST_PAYLOAD_MAX);
  }
  rs["count"] = r.count;
  if (r.count > 1) {
    if (!r.wire_rsts().empty()) {
      for (const auto& e : r.wire_rsts()) {
        rs["seqs"].push_back(e.seq);
        rs["ttls"].push_back(e.ttl);
      }
    }
  }
  if (r.local_reason) rs["local_reason"] = rst_reason_name(*r.local_reason);
  rs["local"] = r.local_reason.has_value() || ev.hook == RH_HOOK_TC_EGRESS || ev.hook == RH_HOOK_TP_SEND_RESET;
  rs["received_by_socket"] = r.local_receive;
  rs["wire_seen"] = r.wire_seen;
  if (r.rtt_ms) rs["rtt_ms"] = *r.rtt_ms;
  if (auto d = reset_delay_ms(r)) rs["delay_ms"] = *d;
  if (auto b = reset_baseline(r, fam)) rs["baseline"] = std::move(*b);
  add_app(j, r.app);
  return j;
}

json reference_packet_event(const Context& ctx, const flow::Packet& p) {
  const rh_event& ev = p.ev;
  json j = base(ctx, "packet", ev.ts_ns);
  uint8_t fam = family_of(ev.family, ev.saddr);
  bool l2 = hook_has_l2(ev.hook);
  bool icmp = ev.kind == RH_EV_ICMP;
  bool local = ev.kind == RH_EV_LOCAL_RST_SEND || ev.kind == RH_EV_LOCAL_RST_RECV;

  if (icmp) {
    // source is the router or host that complained; the community ID names
    // the quoted TCP flow so the line joins that flow's flow/reset lines.
    j["source"] = endpoint(ev.saddr, std::nullopt, l2 ? ev.smac : nullptr);
    j["destination"] = endpoint(ev.daddr, std::nullopt, l2 ? ev.dmac : nullptr);
    add_network(j, fam, fam == 4 ? "icmp" : "ipv6-icmp",
                community_id_v1(fam, ev.inner_saddr, ev.inner_daddr, ev.inner_sport, ev.inner_dport));
  } else {
    j["source"] = endpoint(ev.saddr, ev.sport, l2 ? ev.smac : nullptr);
    j["destination"] = endpoint(ev.daddr, ev.dport, l2 ? ev.dmac : nullptr);
    add_network(j, fam, "tcp", community_id_v1(fam, ev.saddr, ev.daddr, ev.sport, ev.dport));
  }
  add_observer(j, ctx, ev.ifindex);
  j["rsthop"]["hook"] = hook_name(ev.hook);

  json& pk = j["packet"];
  pk["kind"] = packet_kind_name(ev.kind);
  if (local) {
    if (ev.kind == RH_EV_LOCAL_RST_SEND) pk["local_reason"] = rst_reason_name(ev.reason);
    return j;
  }
  add_ip_features(pk, ev, fam, "df");
  pk["ip_len"] = ev.ip_len;
  pk["vlan_depth"] = ev.vlan_depth;
  if (!icmp) add_tcp_features(pk, ev);

  if (ev.snap_len > 0) {
    if (ev.kind == RH_EV_PAYLOAD) {
      pk["snap_hex"] = to_hex(p.data.data(), std::min<size_t>(ev.snap_len, p.data.size()), 64);
    } else {
      pk["snap_hex"] = to_hex(ev.payload, ev.snap_len, RH_RST_PAYLOAD_MAX);
    }
  }

  if (icmp) {
    json& ic = j["icmp"];
    ic["type"] = ev.icmp_type;
    ic["code"] = ev.icmp_code;
    ic["quoted"]["source"] = endpoint(ev.inner_saddr, ev.inner_sport, nullptr);
    ic["quoted"]["destination"] = endpoint(ev.inner_daddr, ev.inner_dport, nullptr);
    ic["quoted"]["ttl"] = ev.inner_ttl;
    ic["quoted"]["seq"] = ev.inner_seq;
  }
  return j;
}

json reference_stats_event(const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                           const UserspaceCounters& user, double elapsed_s, bool final) {
  json j = base(ctx, "stats", now_mono_ns);
  json& st = j["stats"];
  st["kernel"] = json::object();
  for (int i = 0; i < RH_C_MAX; i++) st["kernel"][counter_name(i)] = kernel[static_cast<size_t>(i)];
  st["userspace"] = {
      {"events_received", user.events_received},
      {"flows_emitted", user.flows_emitted},
      {"resets_emitted", user.resets_emitted},
      {"parse_errors", user.parse_errors},
      {"flows_evicted_userspace", user.flows_evicted_userspace},
  };
  st["final"] = final;
  st["elapsed_s"] = elapsed_s;
  return j;
}

json reference_lost_event(const Context& ctx, uint64_t now_mono_ns, std::string_view cause, uint64_t count,
                          uint64_t total) {
  json j = base(ctx, "lost", now_mono_ns);
  j["lost"] = {{"cause", std::string(cause)}, {"count", count}, {"total", total}};
  return j;
}

}  // namespace rsthop::output::reference
