// Sample domain objects shared by the output tests and the schema sample
// program: one realistic connection (198.18.0.1:51234 -> 198.18.0.2:443,
// reset by the server side) plus IPv6, ICMP and local-reset packets.
#pragma once

#include <cstring>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/addr.h"
#include "flow/model.h"
#include "output/event.h"

namespace rsthop::output::fixtures {

constexpr int64_t kSec = 1'000'000'000;
// Monotonic 5 s is wall 2026-11-26T02:33:33Z (1795660418 = 02:33:38Z).
constexpr int64_t kOffset = 1795660418 * kSec - 10 * kSec;

inline Addr16 ip(const char* text) {
  auto a = parse_addr(text);
  return a.ok() ? *a : Addr16{};
}

inline void set_mac(uint8_t* dst, uint8_t last) {
  const uint8_t mac[6] = {0x02, 0, 0, 0, 0, last};
  std::memcpy(dst, mac, 6);
}

inline Context context() {
  Context c;
  c.host_name = "testhost";
  c.clock = WallClock::fixed(kOffset);
  c.interface_name = [](uint32_t ifindex) { return ifindex == 2 ? std::string("eth0") : std::string(); };
  return c;
}

inline rh_event tuple(uint8_t kind, const char* s, uint16_t sport, const char* d, uint16_t dport) {
  rh_event ev{};
  ev.kind = kind;
  Addr16 sa = ip(s), da = ip(d);
  std::memcpy(ev.saddr, sa.data(), 16);
  std::memcpy(ev.daddr, da.data(), 16);
  ev.family = is_v4mapped(ev.saddr) ? 4 : 6;
  ev.sport = sport;
  ev.dport = dport;
  ev.ifindex = 2;
  ev.hook = RH_HOOK_TC_INGRESS;
  return ev;
}

// The server's RST+ACK at monotonic 10.123456789 s (wall 02:33:38.123456).
inline rh_event server_rst() {
  rh_event ev = tuple(RH_EV_RST, "198.18.0.2", 443, "198.18.0.1", 51234);
  ev.ts_ns = 10 * kSec + 123'456'789;
  ev.side = RH_SIDE_B;  // 198.18.0.1 sorts first, so the client is A
  ev.ttl = 63;
  ev.ip_id = 0x1234;
  ev.ip_flags = RH_IPF_DF;
  ev.ip_len = 44;
  ev.seq = 1234;
  ev.ack = 5678;
  ev.window = 0;
  ev.tcp_flags = RH_TCP_RST | RH_TCP_ACK;
  ev.opts = RH_OPT_MSS;
  ev.mss = 1460;
  ev.payload_len = 4;
  ev.snap_len = 4;
  std::memcpy(ev.payload, "\x01\x02\xab\xff", 4);
  set_mac(ev.smac, 0x02);
  set_mac(ev.dmac, 0x01);
  return ev;
}

inline rh_flow_state flow_state() {
  rh_flow_state st{};
  st.ts_syn = 9 * kSec;
  st.ts_synack = 9 * kSec + 120'000;
  st.ts_last_payload[RH_SIDE_A] = 10 * kSec;  // client's request, 123.456789 ms before the RST
  st.initiator = RH_SIDE_A;
  st.peer_ttl = 64;
  st.peer_ip_id = 0;
  st.peer_window = 65160;
  set_mac(st.peer_mac, 0x02);
  st.init_ttl = 64;
  st.init_window = 64240;
  return st;
}

inline flow::ResetRecord reset_record() {
  flow::ResetRecord r;
  r.first.ev = server_rst();
  r.count = 3;
  for (auto [seq, ttl] : {std::pair<uint32_t, uint8_t>{1234, 63}, {1235, 63}, {1236, 62}}) {
    rh_event e = r.first.ev;
    e.seq = seq;
    e.ttl = ttl;
    r.rsts.push_back(e);
  }
  r.wire_seen = true;
  r.flow_state = flow_state();
  r.rtt_ms = 0.12;
  r.app.tls_sni = "example.test";
  r.initiator = RH_SIDE_A;
  return r;
}

inline flow::FlowSummary flow_summary() {
  flow::FlowSummary f;
  f.family = 4;
  f.ifindex = 2;
  f.source.ip = ip("198.18.0.1");
  f.source.port = 51234;
  f.source.mac = std::array<uint8_t, 6>{0x02, 0, 0, 0, 0, 0x01};
  f.source.bytes = 512;
  f.source.packets = 3;
  f.destination.ip = ip("198.18.0.2");
  f.destination.port = 443;
  f.destination.bytes = 1024;
  f.destination.packets = 4;
  f.start_ns = 9 * kSec;
  f.end_ns = 10 * kSec + 200'000'000;
  f.rtt_ms = 0.12;
  f.conn_state = "RSTR";
  f.history = "ShAdR";
  f.closed_by = "destination";
  f.handshake_seen = true;
  f.app.tls_sni = "example.test";
  f.app.http_host = "example.test";
  return f;
}

inline flow::Packet syn_v6() {
  flow::Packet p;
  p.ev = tuple(RH_EV_SYN, "2001:db8::1", 40000, "2001:db8:0:0:1::2", 443);
  p.ev.hook = RH_HOOK_XDP;
  p.ev.ts_ns = 10 * kSec;
  p.ev.ttl = 64;
  p.ev.ip_len = 80;
  p.ev.seq = 1000;
  p.ev.window = 64800;
  p.ev.tcp_flags = RH_TCP_SYN;
  p.ev.opts = RH_OPT_MSS | RH_OPT_WSCALE | RH_OPT_SACK_PERM | RH_OPT_TIMESTAMP;
  p.ev.mss = 1440;
  p.ev.wscale = 7;
  p.ev.tsval = 111;
  p.ev.tsecr = 0;
  p.ev.vlan_depth = 1;
  p.ev.ip_flags = RH_IPF_VLAN;
  set_mac(p.ev.smac, 0x0a);
  set_mac(p.ev.dmac, 0x0b);
  return p;
}

// A router's time-exceeded quoting the client's segment.
inline flow::Packet icmp_time_exceeded() {
  flow::Packet p;
  p.ev = tuple(RH_EV_ICMP, "198.18.0.254", 0, "198.18.0.1", 0);
  p.ev.ts_ns = 10 * kSec;
  p.ev.ttl = 255;
  p.ev.ip_id = 7;
  p.ev.ip_len = 68;
  p.ev.icmp_type = 11;
  p.ev.icmp_code = 0;
  p.ev.inner_ttl = 1;
  Addr16 is = ip("198.18.0.1"), id = ip("198.18.0.2");
  std::memcpy(p.ev.inner_saddr, is.data(), 16);
  std::memcpy(p.ev.inner_daddr, id.data(), 16);
  p.ev.inner_sport = 51234;
  p.ev.inner_dport = 443;
  p.ev.inner_seq = 4242;
  return p;
}

inline flow::Packet first_payload() {
  flow::Packet p;
  p.ev = tuple(RH_EV_PAYLOAD, "198.18.0.1", 51234, "198.18.0.2", 443);
  p.ev.ts_ns = 10 * kSec;
  p.ev.ttl = 64;
  p.ev.ip_len = 140;
  p.ev.tcp_flags = RH_TCP_PSH | RH_TCP_ACK;
  p.ev.payload_len = 100;
  p.ev.snap_len = 100;
  p.data.assign(100, 0x41);  // 'A' x 100: more than the 64-byte hex cap
  return p;
}

inline flow::Packet local_rst_send() {
  flow::Packet p;
  p.ev = tuple(RH_EV_LOCAL_RST_SEND, "198.18.0.1", 51234, "198.18.0.2", 443);
  p.ev.ts_ns = 10 * kSec;
  p.ev.hook = RH_HOOK_TP_SEND_RESET;
  p.ev.ifindex = 0;
  p.ev.reason = 11;  // SK_RST_REASON_TCP_ABORT_ON_CLOSE
  return p;
}

}  // namespace rsthop::output::fixtures
