#include "output/event.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "fixtures.h"
#include "output/community_id.h"
#include "output/event_parts.h"
#include "output/incident_line.h"
#include "output/line_members.h"
#include "output/names.h"
#include "output/verdict_fields.h"

namespace rsthop::output {
namespace {

using nlohmann::json;
namespace fx = fixtures;

// Every document goes through dump()/parse() first, so the tests see what a
// consumer sees, not nlohmann's in-memory types.
json roundtrip(const json& j) { return json::parse(j.dump()); }

// begin_event keeps each class's ecs/event text and the escaped host name per
// thread: alternating classes and host names must not leak into each other.
std::string prelude_line(const std::string& host, const parts::EventClass& c, const parts::EventFields& f) {
  Context ctx{host, WallClock::fixed(0), {}};
  std::string out;
  {
    JsonWriter w(out);
    parts::begin_event(w, ctx, c, 1'000'000'000ULL, f);
    w.end_object();
  }
  return out;
}

TEST(EventPrelude, CachedPerClassAndHostName) {
  for (int i = 0; i < 3; i++) {
    EXPECT_EQ(prelude_line("alpha", parts::kResetClass, parts::EventFields{"failure", 5, {}, {}}),
              R"({"@timestamp":"1970-01-01T00:00:01.000000Z","ecs":{"version":"8.11.0"},"event":{"kind":"event",)"
              R"("category":["network"],"type":["connection","end"],"action":"tcp-reset","outcome":"failure",)"
              R"("duration":5},"host":{"name":"alpha"}})");
    EXPECT_EQ(prelude_line("be\"ta", parts::kStatsClass, {}),
              R"({"@timestamp":"1970-01-01T00:00:01.000000Z","ecs":{"version":"8.11.0"},"event":{"kind":"metric",)"
              R"("category":["network"],"type":["info"],"action":"stats"},"host":{"name":"be\"ta"}})");
    parts::EventClass packet = parts::kPacketClass;
    packet.action = packet_action_name(i % 2 ? RH_EV_RST : RH_EV_SYN);
    json j = json::parse(prelude_line("alpha", packet, {}));
    EXPECT_EQ(j["event"]["action"], packet.action);
    EXPECT_EQ(j["host"]["name"], "alpha");
  }
}

TEST(ResetEvent, CommonFieldsAndNesting) {
  json j = roundtrip(reset_event(fx::context(), fx::reset_record()));
  EXPECT_EQ(j["@timestamp"], "2026-11-26T02:33:38.123456Z");
  EXPECT_EQ(j["rsthop"]["event_type"], "reset");
  EXPECT_EQ(j["rsthop"]["schema_version"], kSchemaVersion);
  EXPECT_EQ(j["host"], json({{"name", "testhost"}}));
  EXPECT_EQ(j["source"], json({{"ip", "198.18.0.2"}, {"port", 443}, {"mac", "02-00-00-00-00-02"}}));
  EXPECT_EQ(j["destination"], json({{"ip", "198.18.0.1"}, {"port", 51234}, {"mac", "02-00-00-00-00-01"}}));
  EXPECT_EQ(j["network"]["transport"], "tcp");
  EXPECT_EQ(j["network"]["type"], "ipv4");
  EXPECT_EQ(j["observer"]["ingress"]["interface"]["name"], "eth0");
  EXPECT_EQ(j["rsthop"]["hook"], "tc-ingress");
  EXPECT_EQ(j["rsthop"]["ifindex"], 2);
  EXPECT_EQ(j["tls"]["client"]["server_name"], "example.test");
  EXPECT_FALSE(j.contains("source.ip"));  // dotted names are nested, never literal keys
}

TEST(ResetEvent, CommunityIdIsDirectionFree) {
  json rst = reset_event(fx::context(), fx::reset_record());
  json flow = flow_event(fx::context(), fx::flow_summary());
  EXPECT_EQ(rst["network"]["community_id"], flow["network"]["community_id"]);
  Addr16 a = fx::ip("198.18.0.1"), b = fx::ip("198.18.0.2");
  EXPECT_EQ(rst["network"]["community_id"], community_id_v1(4, a.data(), b.data(), 51234, 443));
}

// A flow's lines share one memo: the first line hashes, the others reuse it; another seed hashes again.
TEST(ResetEvent, TheFlowsMemoHoldsItsCommunityId) {
  auto memo = std::make_shared<flow::FlowMemo>();
  flow::ResetRecord r = fx::reset_record();
  flow::FlowSummary f = fx::flow_summary();
  r.memo = f.memo = memo;
  json rst = reset_event(fx::context(), r);
  Addr16 a = fx::ip("198.18.0.1"), b = fx::ip("198.18.0.2");
  const std::string id = community_id_v1(4, a.data(), b.data(), 51234, 443);
  EXPECT_EQ(rst["network"]["community_id"], id);
  ASSERT_EQ(memo->community_id_len, id.size());
  EXPECT_EQ(std::string(memo->community_id, memo->community_id_len), id);
  EXPECT_EQ(flow_event(fx::context(), f)["network"]["community_id"], id);
  // A stale memo is believed for its own seed only.
  std::memcpy(memo->community_id, "1:stale", 7);
  memo->community_id_len = 7;
  EXPECT_EQ(flow_event(fx::context(), f)["network"]["community_id"], "1:stale");
  Context seeded = fx::context();
  seeded.community_id_seed = 1;
  EXPECT_EQ(flow_event(seeded, f)["network"]["community_id"], community_id_v1(4, a.data(), b.data(), 51234, 443, 6, 1));
  EXPECT_EQ(memo->community_id_seed, 1);
}

TEST(ResetEvent, WireFeatures) {
  json r = roundtrip(reset_event(fx::context(), fx::reset_record()))["rsthop"]["reset"];
  EXPECT_EQ(r["ttl"], 63);
  EXPECT_EQ(r["ip_id"], 0x1234);
  EXPECT_EQ(r["ip_df"], true);
  EXPECT_EQ(r["window"], 0);
  EXPECT_EQ(r["seq"], 1234);
  EXPECT_EQ(r["ack"], 5678);
  EXPECT_EQ(r["flags"], "RA");
  EXPECT_EQ(r["payload_len"], 4);
  EXPECT_EQ(r["payload_hex"], "0102abff");
  EXPECT_EQ(r["options"], json({{"mss", 1460}}));
  EXPECT_EQ(r["count"], 3);
  EXPECT_EQ(r["seqs"], json({1234, 1235, 1236}));
  EXPECT_EQ(r["ttls"], json({63, 63, 62}));
  EXPECT_EQ(r["local"], false);
  EXPECT_EQ(r["received_by_socket"], false);
  EXPECT_EQ(r["wire_seen"], true);
  EXPECT_DOUBLE_EQ(r["rtt_ms"].get<double>(), 0.12);
  EXPECT_NEAR(r["delay_ms"].get<double>(), 123.456789, 1e-9);
  EXPECT_FALSE(r.contains("local_reason"));
}

TEST(ResetEvent, BaselineFromFlowStateWithoutSynack) {
  json b = roundtrip(reset_event(fx::context(), fx::reset_record()))["rsthop"]["reset"]["baseline"];
  EXPECT_EQ(b, json({{"from", "syn-ack"}, {"ttl", 64}, {"ip_id", 0}, {"window", 65160}, {"mac", "02-00-00-00-00-02"}}));
}

TEST(ResetEvent, BaselinePrefersTheSynack) {
  auto r = fx::reset_record();
  rh_event sa = fx::server_rst();
  sa.kind = RH_EV_SYNACK;
  sa.ttl = 52;
  sa.ip_id = 0;
  sa.window = 28960;
  r.synack = sa;
  json b = roundtrip(reset_event(fx::context(), r))["rsthop"]["reset"]["baseline"];
  EXPECT_EQ(b["from"], "syn-ack");
  EXPECT_EQ(b["ttl"], 52);
  EXPECT_EQ(b["window"], 28960);
}

TEST(ResetEvent, RstFromInitiatorComparesWithItsSyn) {
  auto r = fx::reset_record();
  r.first.ev.side = RH_SIDE_A;
  json b = roundtrip(reset_event(fx::context(), r))["rsthop"]["reset"]["baseline"];
  EXPECT_EQ(b["from"], "syn");
  EXPECT_EQ(b["ttl"], 64);
  EXPECT_EQ(b["window"], 64240);
  EXPECT_FALSE(b.contains("mac"));  // init_mac is zero: no L2 hook saw the SYN
}

TEST(ResetEvent, LocalResetFromTracepoint) {
  flow::ResetRecord r;
  r.first = fx::local_rst_send();
  r.local_reason = 1;
  json j = roundtrip(reset_event(fx::context(), r));
  EXPECT_EQ(j["rsthop"]["reset"]["local_reason"], "NO_SOCKET");
  EXPECT_EQ(j["rsthop"]["reset"]["local"], true);
  EXPECT_EQ(j["rsthop"]["reset"]["wire_seen"], false);
  EXPECT_EQ(j["rsthop"]["hook"], "tp-send-reset");
  // No wire features, no MACs, no interface for a tracepoint-only record.
  EXPECT_FALSE(j["rsthop"]["reset"].contains("ttl"));
  EXPECT_FALSE(j["rsthop"]["reset"].contains("flags"));
  EXPECT_FALSE(j["rsthop"]["reset"].contains("baseline"));
  EXPECT_FALSE(j["source"].contains("mac"));
  EXPECT_FALSE(j.contains("observer"));
}

TEST(FlowEvent, Fields) {
  json j = roundtrip(flow_event(fx::context(), fx::flow_summary()));
  EXPECT_EQ(j["rsthop"]["event_type"], "flow");
  EXPECT_EQ(j["@timestamp"], "2026-11-26T02:33:38.200000Z");  // the end
  EXPECT_EQ(j["event"]["start"], "2026-11-26T02:33:37.000000Z");
  EXPECT_EQ(j["event"]["end"], "2026-11-26T02:33:38.200000Z");
  EXPECT_EQ(
      j["source"],
      json({{"ip", "198.18.0.1"}, {"port", 51234}, {"mac", "02-00-00-00-00-01"}, {"bytes", 512}, {"packets", 3}}));
  EXPECT_EQ(j["destination"], json({{"ip", "198.18.0.2"}, {"port", 443}, {"bytes", 1024}, {"packets", 4}}));
  EXPECT_EQ(j["rsthop"]["flow"]["conn_state"], "RSTR");
  EXPECT_EQ(j["rsthop"]["flow"]["history"], "ShAdR");
  EXPECT_EQ(j["rsthop"]["flow"]["closed_by"], "destination");
  EXPECT_EQ(j["rsthop"]["flow"]["handshake_seen"], true);
  EXPECT_DOUBLE_EQ(j["rsthop"]["flow"]["duration_ms"].get<double>(), 1200.0);
  EXPECT_DOUBLE_EQ(j["rsthop"]["flow"]["rtt_ms"].get<double>(), 0.12);
  EXPECT_EQ(j["url"]["domain"], "example.test");
  EXPECT_FALSE(j.contains("rsthop") && j["rsthop"].contains("http_request"));
}

TEST(FlowEvent, UnknownRttIsOmitted) {
  auto f = fx::flow_summary();
  f.rtt_ms.reset();
  json j = roundtrip(flow_event(fx::context(), f));
  EXPECT_FALSE(j["rsthop"]["flow"].contains("rtt_ms"));
}

TEST(PacketEvent, Ipv6SynWithOptions) {
  json j = roundtrip(packet_event(fx::context(), fx::syn_v6()));
  EXPECT_EQ(j["source"]["ip"], "2001:db8::1");
  // RFC 5952 4.2.3: of two equally long zero runs, the first is compressed.
  EXPECT_EQ(j["destination"]["ip"], "2001:db8::1:0:0:2");
  EXPECT_EQ(j["network"]["type"], "ipv6");
  EXPECT_EQ(j["rsthop"]["hook"], "xdp");
  json p = j["rsthop"]["packet"];
  EXPECT_EQ(p["kind"], "syn");
  EXPECT_EQ(p["flags"], "S");
  EXPECT_EQ(p["vlan_depth"], 1);
  EXPECT_FALSE(p.contains("ip_id"));  // IPv6 has none
  EXPECT_FALSE(p.contains("df"));
  EXPECT_EQ(p["options"],
            json({{"mss", 1440}, {"wscale", 7}, {"sack_perm", true}, {"timestamps", {{"tsval", 111}, {"tsecr", 0}}}}));
  EXPECT_FALSE(p.contains("snap_hex"));
}

TEST(PacketEvent, IcmpQuotesTheFlow) {
  json j = roundtrip(packet_event(fx::context(), fx::icmp_time_exceeded()));
  EXPECT_EQ(j["source"], json({{"ip", "198.18.0.254"}}));  // the router; MACs zero, no ports
  EXPECT_EQ(j["network"]["transport"], "icmp");
  EXPECT_EQ(j["rsthop"]["packet"]["kind"], "icmp");
  EXPECT_FALSE(j["rsthop"]["packet"].contains("flags"));
  EXPECT_EQ(j["rsthop"]["icmp"]["type"], 11);
  EXPECT_EQ(j["rsthop"]["icmp"]["code"], 0);
  EXPECT_EQ(j["rsthop"]["icmp"]["quoted"], json({{"source", {{"ip", "198.18.0.1"}, {"port", 51234}}},
                                                 {"destination", {{"ip", "198.18.0.2"}, {"port", 443}}},
                                                 {"ttl", 1},
                                                 {"seq", 4242}}));
  // The quoted TCP flow's ID joins that flow's lines; network.community_id is
  // the spec's ID of the ICMP message itself (one-way: type 11, code 0).
  EXPECT_EQ(j["rsthop"]["icmp"]["quoted_community_id"],
            flow_event(fx::context(), fx::flow_summary())["network"]["community_id"]);
  const rh_event& ev = fx::icmp_time_exceeded().ev;
  EXPECT_EQ(j["network"]["community_id"], community_id_v1_icmp(4, ev.saddr, ev.daddr, 11, 0));
  EXPECT_NE(j["network"]["community_id"], j["rsthop"]["icmp"]["quoted_community_id"]);
}

TEST(EcsFields, EveryLineHasVersionAndCategorisation) {
  Context ctx = fx::context();
  KernelCounters k{};
  const json lines[] = {flow_event(ctx, fx::flow_summary()), reset_event(ctx, fx::reset_record()),
                        packet_event(ctx, fx::syn_v6()), stats_event(ctx, fx::kSec, k, {}, 1.0, false),
                        lost_event(ctx, fx::kSec, "ringbuf_full", 1, 1)};
  for (const json& j : lines) {
    SCOPED_TRACE(j.dump());
    EXPECT_EQ(j["ecs"]["version"], kEcsVersion);
    EXPECT_EQ(j["rsthop"]["schema_version"], kSchemaVersion);
    EXPECT_EQ(j["event"]["category"], json({"network"}));
    EXPECT_TRUE(j["event"]["type"].is_array());
    EXPECT_TRUE(j["event"]["action"].is_string());
    for (const char* old : {"event_type", "schema_version", "flow", "reset", "packet", "icmp", "stats", "lost"}) {
      EXPECT_FALSE(j.contains(old)) << old << " belongs under rsthop.";
    }
  }
  EXPECT_EQ(lines[0]["event"]["kind"], "event");
  EXPECT_EQ(lines[0]["event"]["type"], json({"connection", "end"}));
  EXPECT_EQ(lines[0]["event"]["outcome"], "failure");  // RSTR
  EXPECT_EQ(lines[1]["event"]["action"], "tcp-reset");
  EXPECT_EQ(lines[2]["event"]["action"], "packet-syn");
  EXPECT_EQ(lines[3]["event"]["kind"], "metric");
  EXPECT_EQ(lines[4]["event"]["action"], "events-lost");
}

TEST(EcsFields, FlowDurationInNanoseconds) {
  auto f = fx::flow_summary();
  f.start_ns = 9 * fx::kSec + 1;
  f.end_ns = 3700 * fx::kSec + 987'654'321;
  json j = flow_event(fx::context(), f);
  EXPECT_EQ(j["event"]["duration"], 3'691'987'654'320ULL);  // every nanosecond, as an integer
  EXPECT_NEAR(j["rsthop"]["flow"]["duration_ms"].get<double>(), 3'691'987.65432, 1e-3);
}

TEST(EcsFields, InterfaceByDirection) {
  json in = reset_event(fx::context(), fx::reset_record());  // tc-ingress
  EXPECT_EQ(in["observer"], json({{"ingress", {{"interface", {{"id", "2"}, {"name", "eth0"}}}}}}));
  auto r = fx::reset_record();
  r.first.ev.hook = RH_HOOK_TC_EGRESS;
  json out = reset_event(fx::context(), r);
  EXPECT_EQ(out["observer"], json({{"egress", {{"interface", {{"id", "2"}, {"name", "eth0"}}}}}}));
  json flow = flow_event(fx::context(), fx::flow_summary());  // a flow crosses it both ways
  EXPECT_TRUE(flow["observer"].contains("ingress") && flow["observer"].contains("egress"));
  Context unnamed = fx::context();
  unnamed.interface_name = {};
  EXPECT_EQ(reset_event(unnamed, fx::reset_record())["observer"], json({{"ingress", {{"interface", {{"id", "2"}}}}}}));
}

TEST(EcsFields, CommunityIdSeed) {
  Context seeded = fx::context();
  seeded.community_id_seed = 1;
  auto a = fx::ip("198.18.0.1");
  auto b = fx::ip("198.18.0.2");
  json unseeded = flow_event(fx::context(), fx::flow_summary());
  json with_seed = flow_event(seeded, fx::flow_summary());
  EXPECT_EQ(with_seed["network"]["community_id"], community_id_v1(4, a.data(), b.data(), 51234, 443, 6, 1));
  EXPECT_NE(with_seed["network"]["community_id"], unseeded["network"]["community_id"]);
  // The seed reaches the ICMP IDs too: the message's and the quoted flow's.
  json icmp = packet_event(seeded, fx::icmp_time_exceeded());
  EXPECT_EQ(icmp["rsthop"]["icmp"]["quoted_community_id"], with_seed["network"]["community_id"]);
  const rh_event& ev = fx::icmp_time_exceeded().ev;
  EXPECT_EQ(icmp["network"]["community_id"], community_id_v1_icmp(4, ev.saddr, ev.daddr, 11, 0, 1));
}

// A flow's source / destination / network / observer / rsthop run is rendered once
// and reused (run_cache.h): each of its inputs, changed alone between two
// lines of the same tuple, must show in the next line.
TEST(PacketEvent, TheTupleRunFollowsEachOfItsInputs) {
  Context ctx = fx::context();
  ctx.interface_name = [](uint32_t) { return std::string("eth0"); };  // the same for every ifindex
  flow::Packet p;
  p.ev = fx::server_rst();
  fx::set_mac(p.ev.smac, 2);
  fx::set_mac(p.ev.dmac, 1);
  auto line = [&](const Context& c, const flow::Packet& q) { return roundtrip(packet_event(c, q)); };
  json first = line(ctx, p);
  EXPECT_EQ(line(ctx, p), first);
  EXPECT_EQ(first["source"]["mac"], "02-00-00-00-00-02");

  flow::Packet q = p;
  fx::set_mac(q.ev.smac, 9);
  EXPECT_EQ(line(ctx, q)["source"]["mac"], "02-00-00-00-00-09");
  q = p;
  q.ev.sport = 444;
  EXPECT_EQ(line(ctx, q)["source"]["port"], 444);
  EXPECT_NE(line(ctx, q)["network"]["community_id"], first["network"]["community_id"]);
  q = p;
  q.ev.hook = RH_HOOK_TC_EGRESS;
  EXPECT_TRUE(line(ctx, q)["observer"].contains("egress"));
  q = p;
  q.ev.hook = RH_HOOK_TP_RECV_RESET;  // no L2 hook: no MACs
  EXPECT_FALSE(line(ctx, q)["source"].contains("mac"));
  q = p;
  q.ev.ifindex = 3;
  EXPECT_EQ(line(ctx, q)["observer"]["ingress"]["interface"]["id"], "3");
  q = p;
  q.ev.dport = 51235;
  EXPECT_EQ(line(ctx, q)["destination"]["port"], 51235);
  q = p;
  fx::set_mac(q.ev.dmac, 8);
  EXPECT_EQ(line(ctx, q)["destination"]["mac"], "02-00-00-00-00-08");
  q = p;
  q.ev.saddr[15] = 9;
  EXPECT_EQ(line(ctx, q)["source"]["ip"], "198.18.0.9");
  q = p;
  q.ev.daddr[15] = 7;
  EXPECT_EQ(line(ctx, q)["destination"]["ip"], "198.18.0.7");
  // The same last bytes as an IPv6 tuple: another family, other addresses.
  q = p;
  auto v6s = fx::ip("2001:db8::2"), v6d = fx::ip("2001:db8::1");
  std::memcpy(q.ev.saddr, v6s.data(), 16);
  std::memcpy(q.ev.daddr, v6d.data(), 16);
  q.ev.family = 6;
  json v6 = line(ctx, q);
  EXPECT_EQ(v6["network"]["type"], "ipv6");
  EXPECT_EQ(v6["source"]["ip"], "2001:db8::2");
  q = p;
  q.ev.family = 6;  // a record that says IPv6 over IPv4-mapped addresses is written as IPv6
  EXPECT_EQ(line(ctx, q)["network"]["type"], "ipv6");
  // A capture file's record: MACs when its link type had them, none when they are zero.
  q = p;
  q.ev.hook = RH_HOOK_PCAP;
  EXPECT_EQ(line(ctx, q)["source"]["mac"], "02-00-00-00-00-02");
  std::memset(q.ev.smac, 0, 6);
  std::memset(q.ev.dmac, 0, 6);
  EXPECT_FALSE(line(ctx, q)["source"].contains("mac"));
  EXPECT_FALSE(line(ctx, q)["destination"].contains("mac"));

  // The run goes on to rsthop.hook: another hook of the same direction, and
  // the tracer's network namespace, show too.
  q = p;
  q.ev.hook = p.ev.hook == RH_HOOK_XDP ? RH_HOOK_TC_INGRESS : RH_HOOK_XDP;
  EXPECT_EQ(line(ctx, q)["rsthop"]["hook"], p.ev.hook == RH_HOOK_XDP ? "tc-ingress" : "xdp");
  EXPECT_EQ(line(ctx, p)["rsthop"]["hook"], first["rsthop"]["hook"]);
  EXPECT_FALSE(first["rsthop"].contains("netns"));
  Context in_netns = ctx;
  in_netns.netns_inode = 4026531993ULL;
  EXPECT_EQ(line(in_netns, p)["rsthop"]["netns"]["inode"], 4026531993ULL);
  EXPECT_FALSE(line(ctx, p)["rsthop"].contains("netns"));

  Context renamed = ctx;
  renamed.interface_name = [](uint32_t) { return std::string("wan0"); };
  EXPECT_EQ(line(renamed, p)["observer"]["ingress"]["interface"]["name"], "wan0");
  Context seeded = ctx;
  seeded.community_id_seed = 7;
  EXPECT_EQ(line(seeded, p)["network"]["community_id"],
            community_id_v1(4, p.ev.saddr, p.ev.daddr, p.ev.sport, p.ev.dport, 6, 7));
  EXPECT_EQ(line(ctx, p), first);  // and back
}

// A packet line hands its flow's memo the Community ID whether it wrote its
// tuple run or copied it from the run cache, so the flow's reset and flow
// lines read it instead of hashing (Timeline::Seen hands the memo out).
TEST(PacketEvent, ALineFillsItsFlowsMemoWrittenOrCached) {
  Context ctx = fx::context();
  flow::Packet p;
  p.ev = fx::server_rst();
  p.ev.sport = 4431;  // a tuple no other test's line left in the cache
  const std::string id = community_id_v1(4, p.ev.saddr, p.ev.daddr, p.ev.sport, p.ev.dport);
  flow::FlowMemo written, cached;
  std::string out;
  append_packet_line(out, ctx, p, &written);
  append_packet_line(out, ctx, p, &cached);
  EXPECT_EQ(std::string(written.community_id, written.community_id_len), id);
  EXPECT_EQ(std::string(cached.community_id, cached.community_id_len), id);
  EXPECT_EQ(cached.community_id_seed, 0);
  // A memo already filled is what the line trusts (one hash per flow).
  std::memcpy(cached.community_id, "1:memo", 6);
  cached.community_id_len = 6;
  p.ev.sport = 4432;
  out.clear();
  append_packet_line(out, ctx, p, &cached);
  EXPECT_EQ(roundtrip(json::parse(out))["network"]["community_id"], "1:memo");
}

// Hex of every byte value, at every length around the 16-byte blocks and at
// every offset, as printf's %02x writes it, and never a byte past 2 * len.
TEST(PacketEvent, HexOfEveryByteAtEveryLengthAsPrintf) {
  uint8_t data[80];
  for (size_t i = 0; i < sizeof(data); i++) data[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int v = 0; v < 256; v++) {
    const auto b = static_cast<uint8_t>(v);
    char out[2] = {};
    ASSERT_EQ(lines::format_hex(out, &b, 1), 2u);
    char want[3];
    std::snprintf(want, sizeof(want), "%02x", v);
    ASSERT_EQ(std::string(out, 2), want) << v;
  }
  for (size_t off = 0; off < 16; off++) {
    for (size_t len = 0; len + off <= sizeof(data); len++) {
      std::string want;
      for (size_t i = 0; i < len; i++) {
        char two[3];
        std::snprintf(two, sizeof(two), "%02x", data[off + i]);
        want += two;
      }
      std::string out(2 * len + 8, '#');
      ASSERT_EQ(lines::format_hex(out.data(), data + off, len), 2 * len);
      EXPECT_EQ(out.substr(0, 2 * len), want) << off << " " << len;
      EXPECT_EQ(out.substr(2 * len), "########") << off << " " << len;
    }
  }
}

TEST(PacketEvent, PayloadSnapIsCappedAt64Bytes) {
  json p = roundtrip(packet_event(fx::context(), fx::first_payload()))["rsthop"]["packet"];
  EXPECT_EQ(p["kind"], "payload");
  std::string expected;
  for (int i = 0; i < 64; i++) expected += "41";
  EXPECT_EQ(p["snap_hex"], expected);
  EXPECT_EQ(p["snap_hex"].get<std::string>().size(), 128u);
  EXPECT_EQ(p["snap_hex"].get<std::string>().substr(0, 4), "4141");
  EXPECT_EQ(p["flags"], "PA");
  EXPECT_EQ(p["payload_len"], 100);
}

TEST(PacketEvent, LocalResetHasReasonOnly) {
  json j = roundtrip(packet_event(fx::context(), fx::local_rst_send()));
  EXPECT_EQ(j["rsthop"]["packet"], json({{"kind", "local-rst-send"}, {"local_reason", "TCP_ABORT_ON_CLOSE"}}));
}

TEST(StatsEvent, KernelAndUserspaceCounters) {
  KernelCounters k{};
  for (int i = 0; i < RH_C_MAX; i++) k[static_cast<size_t>(i)] = static_cast<uint64_t>(i) + 100;
  UserspaceCounters u;
  u.events_received = 7;
  u.parse_errors = 2;
  json j = roundtrip(stats_event(fx::context(), 10 * fx::kSec, k, u, 12.5, true));
  EXPECT_EQ(j["@timestamp"], "2026-11-26T02:33:38.000000Z");
  EXPECT_EQ(j["rsthop"]["stats"]["kernel"].size(), static_cast<size_t>(RH_C_MAX));
  EXPECT_EQ(j["rsthop"]["stats"]["kernel"]["packets"], 100);
  EXPECT_EQ(j["rsthop"]["stats"]["kernel"]["lost_ringbuf"], 105);
  EXPECT_EQ(j["rsthop"]["stats"]["kernel"]["snap_truncated"], 100 + RH_C_SNAP_TRUNCATED);
  EXPECT_EQ(j["rsthop"]["stats"]["userspace"]["events_received"], 7);
  EXPECT_EQ(j["rsthop"]["stats"]["userspace"]["parse_errors"], 2);
  EXPECT_EQ(j["rsthop"]["stats"]["userspace"]["flows_evicted_userspace"], 0);
  EXPECT_EQ(j["rsthop"]["stats"]["final"], true);
  EXPECT_DOUBLE_EQ(j["rsthop"]["stats"]["elapsed_s"].get<double>(), 12.5);
}

TEST(LostEvent, Fields) {
  json j = roundtrip(lost_event(fx::context(), 10 * fx::kSec, loss_cause(RH_C_LOST_RINGBUF), 5, 40));
  EXPECT_EQ(j["rsthop"]["event_type"], "lost");
  EXPECT_EQ(j["rsthop"]["lost"], json({{"cause", "ringbuf_full"}, {"count", 5}, {"total", 40}}));
}

TEST(Names, CountersAndEnums) {
  EXPECT_STREQ(counter_name(RH_C_PACKETS), "packets");
  EXPECT_STREQ(counter_name(RH_C_NON_TCP), "non_tcp");
  EXPECT_STREQ(counter_name(RH_C_LOST_FLOW_TABLE), "lost_flow_table");
  EXPECT_STREQ(counter_name(RH_C_UNSUPPORTED_ENCAP), "unsupported_encap");
  EXPECT_STREQ(counter_name(RH_C_MAX), "unknown");
  EXPECT_STREQ(counter_name(-1), "unknown");
  EXPECT_TRUE(counter_is_loss(RH_C_LOST_RINGBUF));
  EXPECT_TRUE(counter_is_loss(RH_C_TRUNC_L3));
  EXPECT_FALSE(counter_is_loss(RH_C_PACKETS));
  EXPECT_FALSE(counter_is_loss(RH_C_FLOW_MIDSTREAM));
  EXPECT_STREQ(loss_cause(RH_C_LOST_FLOW_TABLE), "flow_table_full");
  EXPECT_STREQ(loss_cause(RH_C_TRUNC_L2), "truncated_l2");
  EXPECT_EQ(rst_reason_name(0), "NOT_SPECIFIED");
  EXPECT_EQ(rst_reason_name(14), "TCP_STATE");
  EXPECT_EQ(rst_reason_name(24), "ERROR");
  EXPECT_EQ(rst_reason_name(25), "UNKNOWN_25");
  EXPECT_EQ(tcp_flags_string(RH_TCP_RST), "R");
  EXPECT_EQ(tcp_flags_string(RH_TCP_RST | RH_TCP_ACK | RH_TCP_PSH), "RPA");
  EXPECT_EQ(tcp_flags_string(0xff), "FSRPAUEC");
  EXPECT_EQ(hook_name(RH_HOOK_TC_EGRESS), "tc-egress");
  EXPECT_EQ(packet_kind_name(RH_EV_SYNACK), "syn-ack");
}

TEST(Event, CaptureFileAndFramesOnResetAndFlowLines) {
  auto r = fixtures::reset_record();
  r.first.ev.hook = RH_HOOK_PCAP;
  r.first.file = "cap.pcap";
  r.frames = {6, 9};
  json e = reset_event(fixtures::context(), r);
  EXPECT_EQ(e["rsthop"]["hook"], "pcap");
  EXPECT_EQ(e["rsthop"]["file"], "cap.pcap");
  EXPECT_EQ(e["rsthop"]["frames"], json::array({6, 9}));
  // Live events carry neither.
  json live = reset_event(fixtures::context(), fixtures::reset_record());
  EXPECT_FALSE(live["rsthop"].contains("file"));
  EXPECT_FALSE(live["rsthop"].contains("frames"));

  auto f = fixtures::flow_summary();
  f.file = "-";
  f.first_frame = 3;
  f.last_frame = 40;
  json fl = flow_event(fixtures::context(), f);
  EXPECT_EQ(fl["rsthop"]["file"], "-");
  EXPECT_EQ(fl["rsthop"]["first_frame"], 3);
  EXPECT_EQ(fl["rsthop"]["last_frame"], 40);
  EXPECT_FALSE(fl["rsthop"].contains("frames"));
}

// A capture file's frames have MACs only when its link type does.
TEST(Event, CaptureFileMacsOnlyWhenTheLinkTypeHasThem) {
  auto r = fixtures::reset_record();
  r.first.ev.hook = RH_HOOK_PCAP;
  EXPECT_TRUE(reset_event(fixtures::context(), r)["source"].contains("mac"));
  std::memset(r.first.ev.smac, 0, 6);
  std::memset(r.first.ev.dmac, 0, 6);
  EXPECT_FALSE(reset_event(fixtures::context(), r)["source"].contains("mac"));
}

// ECS: an event with event.start and event.end has event.duration, their
// difference in nanoseconds (as flow lines do).
TEST(IncidentEvent, DurationIsEndMinusStartInNanoseconds) {
  Incident inc;
  inc.ip = fx::ip("198.18.1.5");
  inc.port = 443;
  inc.count = 2;
  inc.rsts = 2;
  inc.first_ns = 5'000'000'000ULL;
  inc.last_ns = 7'500'000'123ULL;
  json j = roundtrip(incident_event(fx::context(), 8'000'000'000ULL, inc, 1.0));
  EXPECT_EQ(j["event"]["duration"], 2'500'000'123ULL);
  EXPECT_TRUE(j["event"].contains("start"));
  EXPECT_TRUE(j["event"].contains("end"));
}

// The fingerprint holds its distinct flag strings as one comma-separated
// string; the line carries them as an array: one entry per comma and one
// more (a flagless tracepoint RST's "" stays [""], as the vector wrote it).
TEST(VerdictFields, FingerprintFlagsBecomeTheArray) {
  const std::pair<const char*, json> cases[] = {{"RA", json::array({"RA"})},
                                                {"R,RA", json::array({"R", "RA"})},
                                                {"", json::array({""})},
                                                {"R,", json::array({"R", ""})}};
  for (const auto& [flags, expected] : cases) {
    attribution::Verdict v;
    v.fingerprint.flags = flags;
    v.fingerprint.windows = {512, 0};
    std::string out;
    {
      JsonWriter w(out);
      w.begin_object();
      write_verdict_fields(w, v);
      w.end_object();
    }
    const json j = json::parse(out);
    EXPECT_EQ(j["fingerprint"]["flags"], expected) << flags;
    EXPECT_EQ(j["fingerprint"]["windows"], json::array({512, 0}));
  }
}

}  // namespace
}  // namespace rsthop::output
