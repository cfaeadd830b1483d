#include "output/event.h"

#include <algorithm>
#include <cstring>
#include <optional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/addr.h"
#include "common/decimal.h"
#include "output/community_id.h"
#include "output/event_parts.h"
#include "output/json_writer.h"
#include "output/line_members.h"
#include "output/names.h"
#include "output/verdict_fields.h"
#include "output/where_fields.h"

namespace rsthop::output {

namespace {

bool nonzero(const uint8_t* p, size_t n) {
  return std::any_of(p, p + n, [](uint8_t b) { return b != 0; });
}

}  // namespace

namespace parts {

// event.type pairs come from the network category's expected types.
const EventClass kFlowClass{"flow", "event", "network", "connection", "end", "flow-summary"};
const EventClass kResetClass{"reset", "event", "network", "connection", "end", "tcp-reset"};
const EventClass kPacketClass{"packet", "event", "network", "info", {}, "packet"};
const EventClass kStatsClass{"stats", "metric", "network", "info", {}, "stats"};
const EventClass kLostClass{"lost", "metric", "network", "info", {}, "events-lost"};
// Many resets summarised in one line: information about connections, not one
// connection's end (a query on connection/end counts the reset lines only).
const EventClass kIncidentClass{"incident", "event", "network", "info", {}, "tcp-reset-incident"};

void timestamp(JsonWriter& w, std::string_view name, const Context& ctx, uint64_t mono_ns) {
  w.verbatim(name, kRfc3339UsLen, [&](char* o) { return format_rfc3339_us(o, ctx.clock.to_unix_ns(mono_ns)); });
}

namespace {

// ecs.* and event.* up to event.action, as begin_event used to write them
// member by member: the same for every line of a class.
std::string render_class(const EventClass& c) {
  std::string text;
  {
    JsonWriter w(text);
    w.begin_object();
    w.plain("x", "");  // a member before, so the run starts with its comma
    w.begin_object("ecs");
    w.plain("version", kEcsVersion);
    w.end_object();
    w.begin_object("event");
    w.plain("kind", c.kind);
    w.begin_array("category");
    w.plain(c.category);
    w.end_array();
    w.begin_array("type");
    w.plain(c.type1);
    if (!c.type2.empty()) w.plain(c.type2);
    w.end_array();
    w.plain("action", c.action);
  }
  return text.substr(std::string_view(R"({"x":"")").size());
}

// render_class(c), kept per thread.  Classes are static tables (names.h,
// the k*Class constants), so their strings' addresses identify them.
std::string_view class_prelude(const EventClass& c) {
  struct Entry {
    EventClass c;
    std::string text;
  };
  thread_local std::vector<Entry> cache;
  // The same text at the same address: a pointer and a length compare per string.
  auto same = [](std::string_view a, std::string_view b) { return a.data() == b.data() && a.size() == b.size(); };
  for (const Entry& e : cache) {
    if (same(e.c.action, c.action) && same(e.c.kind, c.kind) && same(e.c.category, c.category) &&
        same(e.c.type1, c.type1) && same(e.c.type2, c.type2))
      return e.text;
  }
  if (cache.size() >= 64) cache.clear();  // bounded, whatever the caller passes
  cache.push_back(Entry{c, render_class(c)});
  return cache.back().text;
}

// `},"host":{"name":...}`: closes event.* and writes host.*, escaped once per host name.
std::string_view host_tail(const std::string& host_name) {
  struct Cached {
    std::string name, text;
    bool set = false;
  };
  thread_local Cached cached;
  if (!cached.set || cached.name != host_name) {
    cached.name = host_name;
    cached.text = R"(},"host":{"name":)";
    append_json_string(cached.text, host_name);
    cached.text += '}';
    cached.set = true;
  }
  return cached.text;
}

}  // namespace

// The fields every event starts with: @timestamp, then the class's constant
// ecs.* and event.* (class_prelude), the line's own event.* members, host.*.
void begin_event(JsonWriter& w, const Context& ctx, const EventClass& c, uint64_t mono_ns, const EventFields& f) {
  w.begin_object();
  timestamp(w, "@timestamp", ctx, mono_ns);
  w.raw(class_prelude(c));
  if (!f.outcome.empty()) w.plain("outcome", f.outcome);
  if (f.duration_ns) w.uint("duration", *f.duration_ns);
  if (f.start_mono_ns) timestamp(w, "start", ctx, *f.start_mono_ns);
  if (f.end_mono_ns) timestamp(w, "end", ctx, *f.end_mono_ns);
  w.raw(host_tail(ctx.host_name));
}

void begin_rsthop(JsonWriter& w, const EventClass& c) {
  w.begin_object("rsthop");
  w.plain("event_type", c.event_type);
  w.sint("schema_version", kSchemaVersion);
}

void mac_field(JsonWriter& w, const uint8_t* mac) {
  if (mac != nullptr && nonzero(mac, 6)) {
    w.verbatim("mac", kMacTextLen, [&](char* o) { return format_mac_ecs(o, mac); });
  }
}

// Opens the endpoint object; the caller may add members, then closes it.
void begin_endpoint(JsonWriter& w, std::string_view name, const uint8_t* ip, std::optional<uint16_t> port,
                    const uint8_t* mac) {
  w.begin_object(name);
  w.verbatim("ip", kAddrTextMax, [&](char* o) { return format_addr(o, ip); });
  if (port) w.uint("port", *port);
  mac_field(w, mac);
}

void endpoint(JsonWriter& w, std::string_view name, const uint8_t* ip, std::optional<uint16_t> port,
              const uint8_t* mac) {
  begin_endpoint(w, name, ip, port, mac);
  w.end_object();
}

}  // namespace parts

using namespace parts;

namespace {

void interface(JsonWriter& w, std::string_view side, uint32_t ifindex, const std::string& name) {
  w.begin_object(side);
  w.begin_object("interface");
  // ECS keeps interface ids as keywords: the digits, quoted.
  w.verbatim("id", 10, [&](char* o) { return static_cast<size_t>(format_decimal(o, ifindex) - o); });
  if (!name.empty()) w.string("name", name);
  w.end_object();
  w.end_object();
}

}  // namespace

namespace lines {

void network(JsonWriter& w, uint8_t family, std::string_view transport, const CommunityId& community_id) {
  w.begin_object("network");
  w.plain("transport", transport);
  w.plain("type", family == 4 ? "ipv4" : "ipv6");
  if (community_id.len != 0) w.plain("community_id", community_id.view());
  w.end_object();
}

// A flow's lines hash its tuple once: the memo keeps what the first line computed.
CommunityId tuple_id(const Context& ctx, uint8_t family, const uint8_t* s, const uint8_t* d, uint16_t sport,
                     uint16_t dport, flow::FlowMemo* memo) {
  CommunityId id;
  if (memo && memo->community_id_len && memo->community_id_seed == ctx.community_id_seed) {
    static_assert(sizeof(memo->community_id) == sizeof(id.text));
    std::memcpy(id.text, memo->community_id, sizeof(id.text));
    id.len = memo->community_id_len;
    return id;
  }
  id = community_id_v1_fixed(family, s, d, sport, dport, 6, ctx.community_id_seed);
  if (memo && id.len) {
    std::memcpy(memo->community_id, id.text, sizeof(id.text));
    memo->community_id_len = id.len;
    memo->community_id_seed = ctx.community_id_seed;
  }
  return id;
}

// observer.ingress.interface.{id,name} / observer.egress.interface.*: the
// ifindex, and the name when known; tracepoints and summaries without an
// interface have neither it nor rsthop.ifindex.
std::string interface_name(const Context& ctx, uint32_t ifindex) {
  return ifindex != 0 && ctx.interface_name ? ctx.interface_name(ifindex) : std::string();
}

void observer(JsonWriter& w, uint32_t ifindex, const std::string& name, Direction dir) {
  if (ifindex == 0) return;
  w.begin_object("observer");
  if (dir != Direction::egress) interface(w, "ingress", ifindex, name);
  if (dir != Direction::ingress) interface(w, "egress", ifindex, name);
  w.end_object();
}

// The common members of rsthop.*, after event_type and schema_version:
// where the tracer runs (where_fields.h), ifindex when known, the hook for
// per-packet events (empty for flows), the initiator's HTTP request line
// when seen, and the capture file's name and frame numbers for `rsthop
// analyze`.  The caller adds its own object (rsthop.flow, rsthop.reset...)
// and closes rsthop.
void rsthop_members(JsonWriter& w, const Context& ctx, uint32_t ifindex, std::string_view hook,
                    const flow::AppHint* app, const FileRef& ref, const Where& where) {
  bool http = app != nullptr && !app->http_request.empty();
  bool file = !ref.file.empty();
  where_fields(w, ctx, where);
  if (ifindex != 0) w.uint("ifindex", ifindex);
  if (!hook.empty()) w.plain("hook", hook);
  if (http) w.string("http_request", app->http_request);
  if (file) {
    w.string("file", ref.file);
    if (ref.frames) {
      w.begin_array("frames");
      for (uint64_t f : *ref.frames) w.uint(f);
      w.end_array();
    }
    if (ref.first_frame) w.uint("first_frame", ref.first_frame);
    if (ref.last_frame) w.uint("last_frame", ref.last_frame);
  }
}

// tls.client.server_name and url.domain (rsthop.http_request goes with rsthop_members).
void app_objects(JsonWriter& w, const flow::AppHint& app) {
  if (!app.tls_sni.empty()) {
    w.begin_object("tls");
    w.begin_object("client");
    w.string("server_name", app.tls_sni);
    w.end_object();
    w.end_object();
  }
  if (!app.http_host.empty()) {
    w.begin_object("url");
    w.string("domain", app.http_host);
    w.end_object();
  }
}

void tcp_options(JsonWriter& w, const rh_event& ev) {
  if (ev.opts == 0) return;
  w.begin_object("options");
  if (ev.opts & RH_OPT_MSS) w.uint("mss", ev.mss);
  if (ev.opts & RH_OPT_WSCALE) w.uint("wscale", ev.wscale);
  if (ev.opts & RH_OPT_SACK_PERM) w.boolean("sack_perm", true);
  if (ev.opts & RH_OPT_TIMESTAMP) {
    w.begin_object("timestamps");
    w.uint("tsval", ev.tsval);
    w.uint("tsecr", ev.tsecr);
    w.end_object();
  }
  if (ev.opts & RH_OPT_SACK) w.boolean("sack", true);
  if (ev.opts & RH_OPT_OTHER) w.boolean("other", true);
  if (ev.opts & RH_OPT_TRUNCATED) w.boolean("truncated", true);
  w.end_object();
}

// IP-level features shared by rsthop.packet.* and rsthop.reset.*; IP ID and DF exist only
// in IPv4, so IPv6 lines leave them out instead of reporting a fake 0/false.
void ip_features(JsonWriter& w, const rh_event& ev, uint8_t family, std::string_view df_name) {
  w.uint("ttl", ev.ttl);
  if (family == 4) {
    w.uint("ip_id", ev.ip_id);
    w.boolean(df_name, (ev.ip_flags & RH_IPF_DF) != 0);
  }
}

void tcp_features(JsonWriter& w, const rh_event& ev) {
  w.verbatim("flags", 8, [&](char* o) { return format_tcp_flags(o, ev.tcp_flags); });
  w.uint("seq", ev.seq);
  w.uint("ack", ev.ack);
  w.uint("window", ev.window);
  w.uint("payload_len", ev.payload_len);
  tcp_options(w, ev);
}

// Lower-case hex, 16 bytes at a time where SSE2 is there (payload snaps are
// up to 64 bytes: ~6 instructions a byte one by one), the tail byte by byte.
size_t format_hex(char* out, const uint8_t* data, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i low4 = _mm_set1_epi8(0x0f), nine = _mm_set1_epi8(9), zero = _mm_set1_epi8('0');
  const __m128i letters = _mm_set1_epi8('a' - '0' - 10);
  // A nibble as its digit: '0' + n, and 'a' - 10 + n above nine.
  auto digits = [&](__m128i n) {
    return _mm_add_epi8(_mm_add_epi8(n, zero), _mm_and_si128(_mm_cmpgt_epi8(n, nine), letters));
  };
  for (; i + 16 <= len; i += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const __m128i hi = digits(_mm_and_si128(_mm_srli_epi16(b, 4), low4));
    const __m128i lo = digits(_mm_and_si128(b, low4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm_unpacklo_epi8(hi, lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i + 16), _mm_unpackhi_epi8(hi, lo));
  }
#endif
  for (; i < len; i++) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0f];
  }
  return 2 * len;
}

void hex_field(JsonWriter& w, std::string_view name, const uint8_t* data, size_t len, size_t max_bytes) {
  len = std::min(len, max_bytes);
  w.verbatim(name, 2 * len, [&](char* o) { return format_hex(o, data, len); });
}

}  // namespace lines

using namespace lines;

namespace {

// What the RST's sender looked like earlier in the flow, so a reader (and
// attribution) can compare TTL / IP ID / window / MAC against the RST.  The
// baseline must come from the same claimed sender: a RST from the responder
// is compared with its SYN-ACK, one from the initiator with its SYN.
struct Baseline {
  const char* from;
  uint8_t ttl;
  uint16_t window;
  uint16_t ip_id;
  const uint8_t* mac;  // nullptr: no L2 hook saw that packet
};

std::optional<Baseline> reset_baseline(const flow::ResetRecord& r) {
  const rh_event& ev = r.first.ev;
  const rh_flow_state* st = r.flow_state ? &*r.flow_state : nullptr;
  uint8_t initiator = r.initiator != RH_SIDE_UNKNOWN ? r.initiator : (st ? st->initiator : RH_SIDE_UNKNOWN);
  bool from_initiator = initiator != RH_SIDE_UNKNOWN && ev.side == initiator;

  if (from_initiator) {
    if (st == nullptr || st->ts_syn == 0) return std::nullopt;
    return Baseline{"syn", st->init_ttl, st->init_window, st->init_ip_id, st->init_mac};
  }
  if (r.synack) {
    const flow::EventHead& sa = *r.synack;
    return Baseline{"syn-ack", sa.ttl, sa.window, sa.ip_id, hook_has_l2(sa) ? sa.smac : nullptr};
  }
  if (st != nullptr && st->ts_synack != 0) {
    return Baseline{"syn-ack", st->peer_ttl, st->peer_window, st->peer_ip_id, st->peer_mac};
  }
  return std::nullopt;
}

void baseline(JsonWriter& w, const Baseline& b, uint8_t family) {
  w.begin_object("baseline");
  w.plain("from", b.from);
  w.uint("ttl", b.ttl);
  w.uint("window", b.window);
  if (family == 4) w.uint("ip_id", b.ip_id);
  mac_field(w, b.mac);
  w.end_object();
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

std::string to_hex(const uint8_t* data, size_t len, size_t max_bytes) {
  len = std::min(len, max_bytes);
  std::string s(2 * len, '\0');
  format_hex(s.data(), data, len);
  return s;
}

// event.outcome of a flow from its Zeek conn_state: established and closed
// (or still open) is a success, rejected / reset / unanswered a failure.
std::string_view flow_outcome(const std::string& conn_state) {
  if (conn_state == "SF" || conn_state == "S1" || conn_state == "S2" || conn_state == "S3") return "success";
  if (conn_state == "REJ" || conn_state == "S0" || conn_state.rfind("RST", 0) == 0) return "failure";
  return "unknown";
}

void append_flow_line(std::string& out, const Context& ctx, const flow::FlowSummary& f) {
  JsonWriter w(out);
  uint64_t dur = f.end_ns >= f.start_ns ? f.end_ns - f.start_ns : 0;
  begin_event(w, ctx, kFlowClass, f.end_ns, EventFields{flow_outcome(f.conn_state), dur, f.start_ns, f.end_ns});
  uint8_t fam = family_of(f.family, f.source.ip.data());
  auto side = [&](const char* name, const flow::Endpoint& e) {
    begin_endpoint(w, name, e.ip.data(), e.port, e.mac ? e.mac->data() : nullptr);
    w.uint("bytes", e.bytes);
    w.uint("packets", e.packets);
    w.end_object();
  };
  side("source", f.source);
  side("destination", f.destination);
  network(
      w, fam, "tcp",
      tuple_id(ctx, fam, f.source.ip.data(), f.destination.ip.data(), f.source.port, f.destination.port, f.memo.get()));
  observer(w, f.ifindex, interface_name(ctx, f.ifindex), Direction::both);
  app_objects(w, f.app);
  Where where = where_of(ctx, f.cgroup_id);
  where_objects(w, where);
  begin_rsthop(w, kFlowClass);
  rsthop_members(w, ctx, f.ifindex, {}, &f.app, FileRef{f.file, nullptr, f.first_frame, f.last_frame}, where);
  w.begin_object("flow");
  // conn_state, history and closed_by come from flow::ZeekConn and the
  // Timeline's own tables (Zeek's state names, history letters, a fixed
  // closed_by set), never from the wire: written without the escaping scan.
  w.plain("conn_state", f.conn_state);
  w.plain("history", f.history);
  if (f.rtt_ms) w.real("rtt_ms", *f.rtt_ms);
  w.real("duration_ms", static_cast<double>(dur) / 1e6);
  w.plain("closed_by", f.closed_by);
  w.boolean("handshake_seen", f.handshake_seen);
  w.end_object();
  w.end_object();
  w.end_object();
}

namespace {

void reset_object(JsonWriter& w, const flow::ResetRecord& r, const attribution::Verdict* verdict, uint8_t fam) {
  const rh_event& ev = r.first.ev;
  w.begin_object("reset");
  // Tracepoint-only records carry the tuple but no wire features.
  if (ev.kind == RH_EV_RST) {
    ip_features(w, ev, fam, "ip_df");
    tcp_features(w, ev);
    if (ev.snap_len > 0) hex_field(w, "payload_hex", ev.payload, ev.snap_len, RH_RST_PAYLOAD_MAX);
  }
  w.uint("count", r.count);
  if (const auto rsts = r.wire_rsts(); r.count > 1 && !rsts.empty()) {
    w.begin_array("seqs");
    for (const rh_event& e : rsts) w.uint(e.seq);
    w.end_array();
    w.begin_array("ttls");
    for (const rh_event& e : rsts) w.uint(e.ttl);
    w.end_array();
  }
  if (r.local_reason) w.plain("local_reason", rst_reason_name(*r.local_reason));
  w.boolean("local",
            verdict ? verdict->origin == attribution::Origin::local
                    : r.local_reason.has_value() || ev.hook == RH_HOOK_TC_EGRESS || ev.hook == RH_HOOK_TP_SEND_RESET);
  w.boolean("received_by_socket", r.local_receive);
  w.boolean("wire_seen", r.wire_seen);
  if (r.rtt_ms) w.real("rtt_ms", *r.rtt_ms);
  if (auto d = reset_delay_ms(r)) w.real("delay_ms", *d);
  if (auto b = reset_baseline(r)) baseline(w, *b, fam);
  if (verdict) write_verdict_fields(w, *verdict);
  w.end_object();
}

}  // namespace

void append_reset_line(std::string& out, const Context& ctx, const flow::ResetRecord& r,
                       const attribution::Verdict* verdict) {
  const rh_event& ev = r.first.ev;
  JsonWriter w(out);
  begin_event(w, ctx, kResetClass, ev.ts_ns, EventFields{"failure", {}, {}, {}});
  uint8_t fam = family_of(ev.family, ev.saddr);
  bool l2 = hook_has_l2(ev);
  endpoint(w, "source", ev.saddr, ev.sport, l2 ? ev.smac : nullptr);
  endpoint(w, "destination", ev.daddr, ev.dport, l2 ? ev.dmac : nullptr);
  network(w, fam, "tcp", tuple_id(ctx, fam, ev.saddr, ev.daddr, ev.sport, ev.dport, r.memo.get()));
  observer(w, ev.ifindex, interface_name(ctx, ev.ifindex), direction_of(ev.hook));
  app_objects(w, r.app);
  Where where = where_of(ctx, r.cgroup_id);
  where_objects(w, where);
  begin_rsthop(w, kResetClass);
  rsthop_members(w, ctx, ev.ifindex, hook_name(ev.hook), &r.app, FileRef{r.first.file, &r.frames}, where);
  reset_object(w, r, verdict, fam);
  w.end_object();
  w.end_object();
}

}  // namespace rsthop::output
