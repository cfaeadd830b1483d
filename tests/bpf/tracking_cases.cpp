// Rows about flow tracking: which segment of a connection emits which event,
// what the event's copy of the flow state holds, and what the flows map
// keeps.  Every row exists for IPv4 and IPv6.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "case_table.h"

namespace rsthop::test {
namespace {

using C = std::map<int, uint64_t>;

const std::string kRequest = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";
const std::string kRstText = "blocked by policy 42";  // 20 bytes, as some middleboxes write

rh_flow_state must_flow(BpfHarness& h, const rh_flow_key& k) {
  auto st = h.flow(k);
  EXPECT_TRUE(st.has_value()) << "flow entry missing";
  return st.value_or(rh_flow_state{});
}

Bytes data_frame(const Net& n, uint32_t seq, const std::string& text) {
  return tcp_frame(n, true, kPsh | kAck).seq(seq).payload(text).build();
}

// One family's cases: the handshake, data and a RST with its payload.
void add_handshake(std::vector<Case>& out, const Net& n) {
  const std::string f = n.name;
  const bool v4 = n.family == 4;
  const rh_flow_key key = tcp_event(n, true, 0).key;  // client < server: client is side A
  const uint16_t ip_hdr = n.family == 4 ? 20 : 40;

  {
    EventExpect e = tcp_event(n, true, RH_EV_SYN);
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(ev.seq, 1000u);
      EXPECT_EQ(ev.ack, 0u);
      EXPECT_EQ(ev.window, 64240);
      EXPECT_EQ(ev.tcp_flags, kSyn);
      EXPECT_EQ(ev.ttl, 64);
      EXPECT_EQ(ev.ip_id, v4 ? 0x1234 : 0);
      EXPECT_EQ(ev.ip_len, ip_hdr + 40);
      EXPECT_EQ(ev.ip_flags, v4 ? RH_IPF_DF : 0);
      EXPECT_EQ(ev.vlan_depth, 0);
      EXPECT_EQ(ev.opts, RH_OPT_MSS | RH_OPT_WSCALE | RH_OPT_SACK_PERM | RH_OPT_TIMESTAMP);
      EXPECT_EQ(ev.mss, 1460);
      EXPECT_EQ(ev.wscale, 7);
      EXPECT_EQ(ev.tsval, 100u);
      EXPECT_EQ(ev.tsecr, 0u);
      EXPECT_EQ(ev.payload_len, 0);
      EXPECT_EQ(ev.snap_len, 0);
      EXPECT_EQ(ev.flow.ts_syn, ev.ts_ns);
      EXPECT_EQ(ev.flow.ts_synack, 0u);
      EXPECT_EQ(ev.flow.initiator, RH_SIDE_A);
      EXPECT_EQ(ev.flow.syn_seq, 1000u);
      EXPECT_EQ(ev.flow.seq_next[RH_SIDE_A], 1001u);
      EXPECT_EQ(ev.flow.packets[RH_SIDE_A], 1u);
      EXPECT_EQ(ev.flow.packets[RH_SIDE_B], 0u);
      EXPECT_EQ(ev.flow.history[RH_SIDE_A], kSyn);
      EXPECT_EQ(ev.flow.init_ttl, 64);
      EXPECT_EQ(ev.flow.init_ip_id, v4 ? 0x1234 : 0);
      EXPECT_EQ(ev.flow.init_window, 64240);
      EXPECT_EQ(std::memcmp(ev.flow.init_mac, kClientMac.data(), 6), 0);
    };
    out.push_back(
        {f + "_syn", {}, base_syn(n), e, C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}}, [=](BpfHarness& h) {
           EXPECT_EQ(must_flow(h, key).packets[RH_SIDE_A], 1u);
         }});
  }
  {
    // Canonical key symmetry: the SYN-ACK lands in the SYN's entry, as side B.
    EventExpect e = tcp_event(n, false, RH_EV_SYNACK);
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(ev.side, RH_SIDE_B);
      EXPECT_EQ(ev.ack, 1001u);
      EXPECT_EQ(ev.mss, 1400);
      EXPECT_EQ(ev.wscale, 9);
      EXPECT_EQ(ev.tsval, 200u);
      EXPECT_EQ(ev.tsecr, 100u);
      EXPECT_NE(ev.flow.ts_syn, 0u);
      EXPECT_EQ(ev.flow.ts_synack, ev.ts_ns);
      EXPECT_EQ(ev.flow.initiator, RH_SIDE_A);
      EXPECT_EQ(ev.flow.peer_ttl, 57);
      EXPECT_EQ(ev.flow.peer_ip_id, v4 ? 0x4321 : 0);
      EXPECT_EQ(ev.flow.peer_window, 65160);
      EXPECT_EQ(std::memcmp(ev.flow.peer_mac, kServerMac.data(), 6), 0);
      EXPECT_EQ(ev.flow.packets[RH_SIDE_A], 1u);
      EXPECT_EQ(ev.flow.packets[RH_SIDE_B], 1u);
      EXPECT_EQ(ev.flow.ack_last[RH_SIDE_B], 1001u);
    };
    out.push_back(
        {f + "_synack", {base_syn(n)}, base_synack(n), e, C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}}, [](BpfHarness& h) {
           EXPECT_EQ(h.flow_keys().size(), 1u);
         }});
  }
  {
    // The initiator is the larger endpoint: side B, whatever order the key has.
    Net hi = n;
    hi.client = n.client_hi;
    EventExpect e = tcp_event(hi, false, RH_EV_SYNACK);
    const rh_flow_key hkey = e.key;
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().side, RH_SIDE_A);  // the server is now the smaller end
      EXPECT_EQ(r.ev().flow.initiator, RH_SIDE_B);
    };
    out.push_back({f + "_initiator_is_side_b",
                   {base_syn(hi)},
                   base_synack(hi),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}},
                   [=](BpfHarness& h) {
                     ASSERT_EQ(h.flow_keys().size(), 1u);
                     rh_flow_state st = must_flow(h, hkey);
                     EXPECT_EQ(st.initiator, RH_SIDE_B);
                     EXPECT_EQ(st.packets[RH_SIDE_A], 1u);
                     EXPECT_EQ(st.packets[RH_SIDE_B], 1u);
                   }});
  }
  {
    EventExpect e = tcp_event(n, false, RH_EV_RST);
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(ev.tcp_flags, kRst | kAck);
      EXPECT_EQ(ev.payload_len, 20);
      ASSERT_EQ(ev.snap_len, 20);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(ev.payload), 20), kRstText);
      EXPECT_EQ(ev.flow.rst_count[RH_SIDE_B], 1u);
      EXPECT_EQ(ev.flow.rst_count[RH_SIDE_A], 0u);
      EXPECT_EQ(ev.flow.ts_rst[RH_SIDE_B], ev.ts_ns);
      EXPECT_NE(ev.flow.ts_syn, 0u);
      EXPECT_LT(ev.flow.ts_syn, ev.ts_ns);
      // The RST's text is no data of the server's: no bytes, no seq advance, no payload time.
      EXPECT_EQ(ev.flow.bytes[RH_SIDE_B], 0u);
      EXPECT_EQ(ev.flow.seq_next[RH_SIDE_B], 0u);
      EXPECT_EQ(ev.flow.ts_last_payload[RH_SIDE_B], 0u);
      EXPECT_EQ(ev.flow.ts_first_payload[RH_SIDE_B], 0u);
    };
    Bytes rst = tcp_frame(n, false, kRst | kAck).payload(kRstText).build();
    out.push_back({f + "_rst_with_payload", {base_syn(n)}, rst, e, C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}}, {}});
  }
}

// One family's cases: RST payload lengths and resets of flows never seen.
void add_resets(std::vector<Case>& out, const Net& n) {
  const std::string f = n.name;
  const rh_flow_key key = tcp_event(n, true, 0).key;  // client < server: client is side A
  const uint16_t ip_hdr = n.family == 4 ? 20 : 40;

  // Any RST payload travels in the one RH_REC_SIZE_RST_PAYLOAD record, its first 64 bytes at most
  // (session 8 measured size classes of 16 / 32 / 64 and kept none); the reader gets them back.
  // The kernel copies them in 8-byte words and a 4 / 2 / 1-byte tail: every tail, 0 to 8 words.
  for (size_t len : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 20, 31, 33, 47, 56, 63, 64, 65, 100}) {
    std::string text(len, 'x');
    for (size_t i = 0; i < len; i++) text[i] = static_cast<char>('a' + i % 26);
    const size_t snap = std::min<size_t>(len, RH_RST_PAYLOAD_MAX);
    EventExpect e = tcp_event(n, false, RH_EV_RST);
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(r.bytes.size(), 248u);
      EXPECT_EQ(ev.payload_len, len);
      ASSERT_EQ(ev.snap_len, snap);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(ev.payload), snap), text.substr(0, snap));
    };
    Bytes rst = tcp_frame(n, false, kRst | kAck).payload(text).build();
    out.push_back(
        {f + "_rst_payload_" + std::to_string(len), {base_syn(n)}, rst, e, C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}}, {}});
  }
  {
    // A RST of a flow we never saw still is an event: it is what users ask about.
    EventExpect e = tcp_event(n, false, RH_EV_RST);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().flow.ts_syn, 0u);
      EXPECT_EQ(r.ev().flow.initiator, RH_SIDE_UNKNOWN);
      EXPECT_EQ(r.ev().snap_len, 0);
    };
    out.push_back({f + "_rst_unknown_flow",
                   {},
                   tcp_frame(n, false, kRst).build(),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_FLOW_MIDSTREAM, 1}, {RH_C_EVENTS, 1}},
                   {}});
  }
  {
    EventExpect e = tcp_event(n, true, RH_EV_FIN);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().flow.ts_fin[RH_SIDE_A], r.ev().ts_ns);
      EXPECT_EQ(r.ev().flow.ts_fin[RH_SIDE_B], 0u);
      EXPECT_EQ(r.ev().flow.history[RH_SIDE_A], kSyn | kFin | kAck);
    };
    out.push_back({f + "_fin",
                   {base_syn(n)},
                   tcp_frame(n, true, kFin | kAck).seq(1001).build(),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}},
                   {}});
  }
  {
    EventExpect e = tcp_event(n, true, RH_EV_PAYLOAD);
    const auto len = static_cast<uint16_t>(kRequest.size());
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(ev.payload_len, len);
      ASSERT_EQ(ev.snap_len, len);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data.data()), len), kRequest);
      EXPECT_EQ(ev.flow.bytes[RH_SIDE_A], len);
      EXPECT_EQ(ev.flow.ts_first_payload[RH_SIDE_A], ev.ts_ns);
      EXPECT_EQ(ev.flow.seq_next[RH_SIDE_A], 1001u + len);
      EXPECT_EQ(ev.ip_len, ip_hdr + 20 + len);
    };
    out.push_back(
        {f + "_first_data", {base_syn(n)}, data_frame(n, 1001, kRequest), e, C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}}, {}});
  }
  {
    const auto len = static_cast<uint32_t>(kRequest.size());
    Bytes second = data_frame(n, 1001 + len, std::string(100, 'x'));
    out.push_back({f + "_second_data_no_event",
                   {base_syn(n), data_frame(n, 1001, kRequest)},
                   second,
                   std::nullopt,
                   C{{RH_C_TCP, 1}},
                   [=](BpfHarness& h) {
                     rh_flow_state st = must_flow(h, key);
                     EXPECT_EQ(st.packets[RH_SIDE_A], 3u);
                     EXPECT_EQ(st.bytes[RH_SIDE_A], len + 100);
                     EXPECT_EQ(st.seq_next[RH_SIDE_A], 1001 + len + 100);
                     EXPECT_GE(st.ts_last_payload[RH_SIDE_A], st.ts_first_payload[RH_SIDE_A]);
                     EXPECT_NE(st.ts_first_payload[RH_SIDE_A], 0u);
                   }});
  }
}

// One family's cases: mid-stream flows, options and the other corner cases.
void add_midstream_and_options(std::vector<Case>& out, const Net& n) {
  const std::string f = n.name;
  const rh_flow_key key = tcp_event(n, true, 0).key;  // client < server: client is side A

  {
    // A mid-stream flow's first payload is an event too, so a connection that
    // only carries data still gets a flow line; its bytes are still captured.
    EventExpect e = tcp_event(n, true, RH_EV_PAYLOAD);
    e.more = [=](const RawEvent& r) {
      const rh_event& ev = r.ev();
      EXPECT_EQ(ev.flow.initiator, RH_SIDE_UNKNOWN);
      EXPECT_EQ(ev.flow.ts_syn, 0u);
      EXPECT_EQ(ev.flow.ts_first_payload[RH_SIDE_A], ev.ts_ns);
      EXPECT_EQ(ev.flow.bytes[RH_SIDE_A], kRequest.size());
      EXPECT_EQ(ev.flow.seq_next[RH_SIDE_A], 7777u + kRequest.size());
      ASSERT_EQ(ev.snap_len, kRequest.size());
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data.data()), kRequest.size()), kRequest);
    };
    out.push_back({f + "_data_unknown_flow",
                   {},
                   data_frame(n, 7777, kRequest),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_FLOW_MIDSTREAM, 1}, {RH_C_EVENTS, 1}},
                   [=](BpfHarness& h) {
                     rh_flow_state st = must_flow(h, key);
                     EXPECT_EQ(st.initiator, RH_SIDE_UNKNOWN);
                     EXPECT_EQ(st.packets[RH_SIDE_A], 1u);
                   }});
  }
  {
    // The other direction's first payload of that mid-stream flow: one event per direction.
    EventExpect e = tcp_event(n, false, RH_EV_PAYLOAD);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().flow.bytes[RH_SIDE_B], 3u);
      EXPECT_EQ(r.ev().flow.ts_first_payload[RH_SIDE_B], r.ev().ts_ns);
      EXPECT_NE(r.ev().flow.ts_first_payload[RH_SIDE_A], 0u);
    };
    out.push_back({f + "_data_unknown_flow_reply",
                   {data_frame(n, 7777, kRequest)},
                   tcp_frame(n, false, kPsh | kAck).payload("ok\n").build(),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}},
                   {}});
  }
  {
    const auto len = static_cast<uint32_t>(kRequest.size());
    out.push_back({f + "_data_unknown_flow_second_data_no_event",
                   {data_frame(n, 7777, kRequest)},
                   data_frame(n, 7777 + len, std::string(50, 'y')),
                   std::nullopt,
                   C{{RH_C_TCP, 1}},
                   [=](BpfHarness& h) { EXPECT_EQ(must_flow(h, key).bytes[RH_SIDE_A], len + 50); }});
  }
  {
    out.push_back({f + "_pure_ack_no_event",
                   {base_syn(n)},
                   tcp_frame(n, true, kAck).seq(1001).build(),
                   std::nullopt,
                   C{{RH_C_TCP, 1}},
                   [=](BpfHarness& h) { EXPECT_EQ(must_flow(h, key).ack_last[RH_SIDE_A], 5001u); }});
  }
  {
    // A SYN with another ISN on a known tuple is a new connection: state restarts.
    EventExpect e = tcp_event(n, true, RH_EV_SYN);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().flow.syn_seq, 9000u);
      EXPECT_EQ(r.ev().flow.rst_count[RH_SIDE_B], 0u);
      EXPECT_EQ(r.ev().flow.packets[RH_SIDE_A], 1u);
    };
    Bytes rst = tcp_frame(n, false, kRst | kAck).build();
    out.push_back({f + "_syn_new_isn_restarts_flow",
                   {base_syn(n), rst},
                   tcp_frame(n, true, kSyn).seq(9000).build(),
                   e,
                   C{{RH_C_TCP, 1}, {RH_C_EVENTS, 1}},
                   {}});
  }
  {
    EventExpect e = tcp_event(n, true, RH_EV_SYN);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().opts, RH_OPT_TIMESTAMP | RH_OPT_MSS | RH_OPT_OTHER);
      EXPECT_EQ(r.ev().tsval, 7u);
      EXPECT_EQ(r.ev().tsecr, 0x01020304u);
      EXPECT_EQ(r.ev().mss, 536);
      EXPECT_EQ(r.ev().wscale, 0);
    };
    Bytes syn = tcp_frame(n, true, kSyn)
                    .nop()
                    .nop()
                    .timestamps(7, 0x01020304)
                    .mss(536)
                    .tcp_option(30, {0xaa, 0xbb})
                    .eol()
                    .build();
    out.push_back(
        {f + "_syn_options_unusual_order", {}, syn, e, C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}}, {}});
  }
  {
    EventExpect e = tcp_event(n, true, RH_EV_SYN);
    e.more = [](const RawEvent& r) {
      EXPECT_EQ(r.ev().opts, RH_OPT_WSCALE | RH_OPT_TRUNCATED);
      EXPECT_EQ(r.ev().wscale, 3);
      EXPECT_EQ(r.ev().mss, 0);
    };
    // WS 3, then an MSS whose length byte (1) is impossible.
    Bytes syn = tcp_frame(n, true, kSyn).wscale(3).raw_tcp_options({2, 1, 5, 0xb4}).build();
    out.push_back(
        {f + "_syn_option_bad_length", {}, syn, e, C{{RH_C_TCP, 1}, {RH_C_FLOW_NEW, 1}, {RH_C_EVENTS, 1}}, {}});
  }
}

void add_family(std::vector<Case>& out, const Net& n) {
  add_handshake(out, n);
  add_resets(out, n);
  add_midstream_and_options(out, n);
}

}  // namespace

std::vector<Case> tracking_cases() {
  std::vector<Case> out;
  add_family(out, net_v4());
  add_family(out, net_v6());
  return out;
}

}  // namespace rsthop::test
