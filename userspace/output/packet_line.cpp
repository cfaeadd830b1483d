// rsthop.event_type "packet": one line per event (trace --packets).
#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "output/community_id.h"
#include "output/event.h"
#include "output/event_parts.h"
#include "output/json_writer.h"
#include "output/line_members.h"
#include "output/names.h"
#include "output/run_cache.h"
#include "output/where_fields.h"

namespace rsthop::output {

using namespace parts;
using namespace lines;

namespace {

// Every input of a TCP packet line's run (packet_run), without padding.
struct PacketRunInputs {
  uint8_t saddr[16], daddr[16];
  uint64_t netns_inode;      // rsthop.netns.inode (where_fields)
  uint8_t smac[6], dmac[6];  // zero without an L2 hook
  uint32_t ifindex;
  uint16_t sport, dport, seed;
  uint8_t family;
  uint8_t hook;  // rsthop.hook, and the observer's direction
};

// source, destination, network and observer of a TCP packet: the line's
// tuple members.
void tuple_members(JsonWriter& w, const Context& ctx, const rh_event& ev, uint8_t fam, bool l2, const std::string& name,
                   flow::FlowMemo* memo) {
  endpoint(w, "source", ev.saddr, ev.sport, l2 ? ev.smac : nullptr);
  endpoint(w, "destination", ev.daddr, ev.dport, l2 ? ev.dmac : nullptr);
  network(w, fam, "tcp", tuple_id(ctx, fam, ev.saddr, ev.daddr, ev.sport, ev.dport, memo));
  observer(w, ev.ifindex, name, direction_of(ev.hook));
}

// A TCP packet line from source up to rsthop.hook (its tuple members, then
// rsthop.* before rsthop.packet), for a packet without a socket's cgroup:
// written once per flow direction, hook and interface and then copied
// (run_cache.h), since a flow's packet lines follow each other closely.
// Reset lines come a burst window later, when their run has mostly left the
// cache, and write theirs.  The flow's memo gets the Community ID either way,
// so that its reset and flow lines do not hash the tuple again
// (output/community_id.cpp's cache is small, and those lines come later).
void packet_run(JsonWriter& w, const Context& ctx, const rh_event& ev, uint8_t fam, bool l2, flow::FlowMemo* memo) {
  thread_local RunCache cache;
  PacketRunInputs in{};
  std::memcpy(in.saddr, ev.saddr, 16);
  std::memcpy(in.daddr, ev.daddr, 16);
  in.netns_inode = ctx.netns_inode;
  if (l2) {
    std::memcpy(in.smac, ev.smac, 6);
    std::memcpy(in.dmac, ev.dmac, 6);
  }
  in.ifindex = ev.ifindex;
  in.sport = ev.sport;
  in.dport = ev.dport;
  in.seed = ctx.community_id_seed;
  in.family = fam;
  in.hook = ev.hook;
  const std::string name = interface_name(ctx, ev.ifindex);
  const RunCache::Key key = RunCache::key_of(in);
  if (const std::string* run = cache.find(key, name)) {
    w.raw(*run);
    if (memo && !memo->community_id_len) tuple_id(ctx, fam, ev.saddr, ev.daddr, ev.sport, ev.dport, memo);
    return;
  }
  const size_t mark = w.offset();
  tuple_members(w, ctx, ev, fam, l2, name, memo);
  begin_rsthop(w, kPacketClass);
  rsthop_members(w, ctx, ev.ifindex, hook_name(ev.hook), nullptr, {}, Where{});
  cache.put(key, name, w.since(mark));
}

// The same members written in full: ICMP messages, and this host's own
// resets with their socket's cgroup (rare, and their where objects vary).
void uncached_members(JsonWriter& w, const Context& ctx, const rh_event& ev, uint8_t fam, bool l2, const Where& where,
                      flow::FlowMemo* memo) {
  const std::string name = interface_name(ctx, ev.ifindex);
  if (ev.kind == RH_EV_ICMP) {
    // source is the router or host that complained; network.community_id is
    // the spec's ICMP ID of this message, rsthop.icmp.quoted_community_id
    // the quoted TCP flow's.
    endpoint(w, "source", ev.saddr, std::nullopt, l2 ? ev.smac : nullptr);
    endpoint(w, "destination", ev.daddr, std::nullopt, l2 ? ev.dmac : nullptr);
    network(w, fam, fam == 4 ? "icmp" : "ipv6-icmp",
            community_id_v1_icmp_fixed(fam, ev.saddr, ev.daddr, ev.icmp_type, ev.icmp_code, ctx.community_id_seed));
    observer(w, ev.ifindex, name, direction_of(ev.hook));
  } else {
    tuple_members(w, ctx, ev, fam, l2, name, memo);
  }
  where_objects(w, where);
  begin_rsthop(w, kPacketClass);
  rsthop_members(w, ctx, ev.ifindex, hook_name(ev.hook), nullptr, {}, where);
}

// rsthop.icmp: the message and the TCP packet it quotes, with that flow's
// community ID so the line joins the flow's flow / reset lines.
void icmp_object(JsonWriter& w, const Context& ctx, const rh_event& ev, uint8_t fam) {
  w.begin_object("icmp");
  w.uint("type", ev.icmp_type);
  w.uint("code", ev.icmp_code);
  CommunityId quoted = tuple_id(ctx, fam, ev.inner_saddr, ev.inner_daddr, ev.inner_sport, ev.inner_dport);
  if (quoted.len != 0) w.plain("quoted_community_id", quoted.view());
  w.begin_object("quoted");
  endpoint(w, "source", ev.inner_saddr, ev.inner_sport, nullptr);
  endpoint(w, "destination", ev.inner_daddr, ev.inner_dport, nullptr);
  w.uint("ttl", ev.inner_ttl);
  w.uint("seq", ev.inner_seq);
  w.end_object();
  w.end_object();
}

void packet_object(JsonWriter& w, const flow::Packet& p, uint8_t fam) {
  const rh_event& ev = p.ev;
  w.begin_object("packet");
  w.plain("kind", packet_kind_name(ev.kind));
  if (ev.kind == RH_EV_LOCAL_RST_SEND || ev.kind == RH_EV_LOCAL_RST_RECV) {
    if (ev.kind == RH_EV_LOCAL_RST_SEND) w.plain("local_reason", rst_reason_name(ev.reason));
    w.end_object();
    return;
  }
  ip_features(w, ev, fam, "df");
  w.uint("ip_len", ev.ip_len);
  w.uint("vlan_depth", ev.vlan_depth);
  if (ev.kind != RH_EV_ICMP) tcp_features(w, ev);
  if (ev.snap_len > 0) {
    if (ev.kind == RH_EV_PAYLOAD) {
      hex_field(w, "snap_hex", p.data.data(), std::min<size_t>(ev.snap_len, p.data.size()), 64);
    } else {
      hex_field(w, "snap_hex", ev.payload, ev.snap_len, RH_RST_PAYLOAD_MAX);
    }
  }
  w.end_object();
}

}  // namespace

void append_packet_line(std::string& out, const Context& ctx, const flow::Packet& p, flow::FlowMemo* memo) {
  const rh_event& ev = p.ev;
  JsonWriter w(out);
  EventClass cls = kPacketClass;
  cls.action = packet_action_name(ev.kind);
  begin_event(w, ctx, cls, ev.ts_ns);
  uint8_t fam = family_of(ev.family, ev.saddr);
  bool l2 = hook_has_l2(ev);
  bool icmp = ev.kind == RH_EV_ICMP;
  // Only tracepoint events know a socket, hence a cgroup.
  bool local = ev.kind == RH_EV_LOCAL_RST_SEND || ev.kind == RH_EV_LOCAL_RST_RECV;
  Where where = where_of(ctx, local ? rh_event_cgroup_id(&ev) : 0);
  if (!icmp && where.cgroup_id == 0) {
    packet_run(w, ctx, ev, fam, l2, memo);
  } else {
    uncached_members(w, ctx, ev, fam, l2, where, memo);
  }
  packet_object(w, p, fam);
  if (icmp) icmp_object(w, ctx, ev, fam);
  w.end_object();
  w.end_object();
}

}  // namespace rsthop::output
