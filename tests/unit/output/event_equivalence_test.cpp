// The streaming builders against the DOM builders they replaced: for every
// fixture, and variants that reach each branch, the fast line must parse to
// exactly the document the old writer printed (reference_event.cpp dumped
// with the old settings and parsed back, as a consumer would read it), moved
// to schema 2 by the README's migration table (schema_migration.cpp).
#include <gtest/gtest.h>

#include "fixtures.h"
#include "output/community_id.h"
#include "output/names.h"
#include "reference_event.h"
#include "schema_migration.h"

namespace rsthop::output {
namespace {

using nlohmann::json;
namespace fx = fixtures;
namespace ref = reference;

// What the old Writer put on the wire for a DOM document, read back.
json as_written(const json& dom) { return json::parse(dom.dump(-1, ' ', false, json::error_handler_t::replace)); }

template <typename Append>
std::string line_of(Append&& append) {
  std::string line = "prefix";  // builders append; they must not touch what is there
  append(line);
  EXPECT_EQ(line.substr(0, 6), "prefix");
  return line.substr(6);
}

void expect_same(const std::string& line, const json& dom, const ref::V2Facts& facts = {}) {
  ASSERT_TRUE(json::accept(line)) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  json expected = ref::migrate_v1_to_v2(as_written(dom), facts);
  EXPECT_EQ(json::parse(line), expected) << line << "\nexpected " << expected.dump();
}

ref::V2Facts flow_facts(const flow::FlowSummary& f) { return {f.end_ns >= f.start_ns ? f.end_ns - f.start_ns : 0, {}}; }

ref::V2Facts packet_facts(const flow::Packet& p) {
  if (p.ev.kind != RH_EV_ICMP) return {};
  uint8_t fam = p.ev.family == 4 || p.ev.family == 6 ? p.ev.family : 6;
  return {std::nullopt, community_id_v1_icmp(fam, p.ev.saddr, p.ev.daddr, p.ev.icmp_type, p.ev.icmp_code)};
}

Context no_names() {
  Context c = fx::context();
  c.interface_name = {};
  return c;
}

std::vector<flow::FlowSummary> flows() {
  std::vector<flow::FlowSummary> v;
  v.push_back(fx::flow_summary());
  auto f = fx::flow_summary();
  f.rtt_ms.reset();
  f.ifindex = 0;
  f.app = {};
  v.push_back(f);
  f = fx::flow_summary();
  f.family = 6;
  f.source.ip = fx::ip("2001:db8::1");
  f.destination.ip = fx::ip("2001:db8::2");
  f.destination.mac = std::array<uint8_t, 6>{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  f.ifindex = 7;  // no name
  v.push_back(f);
  f = fx::flow_summary();
  f.ifindex = 0;
  f.app.http_request = "GET /\"quoted\"\\path\t\x01\x7f HTTP/1.1";  // rsthop object from the request alone
  f.app.tls_sni = std::string("bad\xff\xfe utf8 \xe2\x82 cut \xc3\xa9 ok", 25);
  f.end_ns = f.start_ns - 1;  // clock skew: duration 0
  v.push_back(f);
  f = fx::flow_summary();
  f.start_ns = 9 * fx::kSec + 1;  // durations and RTTs with every nanosecond digit
  f.end_ns = 3700 * fx::kSec + 987'654'321;
  f.rtt_ms = static_cast<double>(123'456'789) / 1e6;
  v.push_back(f);
  return v;
}

std::vector<flow::ResetRecord> resets() {
  std::vector<flow::ResetRecord> v;
  v.push_back(fx::reset_record());
  auto r = fx::reset_record();
  r.count = 1;
  r.app.http_host = "example.test";
  r.app.http_request = "GET / HTTP/1.1";
  v.push_back(r);
  r = fx::reset_record();
  r.first.ev.side = RH_SIDE_A;  // from the initiator: baseline from its SYN
  r.first.ev.hook = RH_HOOK_TC_EGRESS;
  v.push_back(r);
  r = fx::reset_record();
  rh_event sa = fx::server_rst();
  sa.kind = RH_EV_SYNACK;
  sa.ttl = 52;
  sa.hook = RH_HOOK_TP_RECV_RESET;  // no L2: no baseline MAC
  r.synack = sa;
  r.initiator = RH_SIDE_UNKNOWN;
  v.push_back(r);
  r = fx::reset_record();
  r.flow_state.reset();
  r.rtt_ms.reset();
  v.push_back(r);  // no baseline, no delay
  flow::ResetRecord local;
  local.first = fx::local_rst_send();
  local.local_reason = 1;
  local.local_receive = true;
  v.push_back(local);
  local.local_reason = 999;  // UNKNOWN_999
  v.push_back(local);
  r = fx::reset_record();
  r.first = fx::syn_v6();  // an IPv6 RST: no ip_id, no ip_df
  r.first.ev.kind = RH_EV_RST;
  r.first.ev.snap_len = 0;
  v.push_back(r);
  return v;
}

std::vector<flow::Packet> packets() {
  std::vector<flow::Packet> v = {fx::syn_v6(), fx::icmp_time_exceeded(), fx::first_payload(), fx::local_rst_send()};
  flow::Packet p;
  p.ev = fx::server_rst();
  v.push_back(p);
  p.ev.opts = 0xff;  // every option bit
  p.ev.snap_len = RH_RST_PAYLOAD_MAX;
  v.push_back(p);
  p.ev.opts = 0x80;  // only bits no name covers: an empty options object
  p.ev.hook = RH_HOOK_TP_SEND_RESET;
  v.push_back(p);
  p = fx::local_rst_send();
  p.ev.kind = RH_EV_LOCAL_RST_RECV;
  p.ev.hook = RH_HOOK_TP_RECV_RESET;
  v.push_back(p);
  p = fx::first_payload();
  p.data.resize(10);  // fewer bytes than snap_len claims
  v.push_back(p);
  p = fx::icmp_time_exceeded();
  p.ev.family = 6;
  std::memcpy(p.ev.saddr, fx::ip("2001:db8::fe").data(), 16);
  v.push_back(p);  // ipv6-icmp
  p = fx::syn_v6();
  p.ev.kind = 200;  // unknown kind
  p.ev.family = 0;  // neither 4 nor 6: the address decides
  v.push_back(p);
  return v;
}

TEST(FastLines, FlowsMatchTheDomBuilder) {
  for (const Context& ctx : {fx::context(), no_names()}) {
    for (const auto& f : flows()) {
      expect_same(line_of([&](std::string& l) { append_flow_line(l, ctx, f); }), ref::reference_flow_event(ctx, f),
                  flow_facts(f));
    }
  }
}

TEST(FastLines, ResetsMatchTheDomBuilder) {
  for (const Context& ctx : {fx::context(), no_names()}) {
    for (const auto& r : resets()) {
      expect_same(line_of([&](std::string& l) { append_reset_line(l, ctx, r); }), ref::reference_reset_event(ctx, r));
    }
  }
}

TEST(FastLines, PacketsMatchTheDomBuilder) {
  for (const Context& ctx : {fx::context(), no_names()}) {
    for (const auto& p : packets()) {
      expect_same(line_of([&](std::string& l) { append_packet_line(l, ctx, p); }), ref::reference_packet_event(ctx, p),
                  packet_facts(p));
    }
  }
}

TEST(FastLines, StatsAndLostMatchTheDomBuilder) {
  Context ctx = fx::context();
  ctx.host_name = "host \"with\" quotes\n";
  KernelCounters k{};
  for (int i = 0; i < RH_C_MAX; i++) k[static_cast<size_t>(i)] = static_cast<uint64_t>(i) * 1'000'003;
  k[0] = UINT64_MAX;
  UserspaceCounters u{1, 2, 3, 4, 5};
  for (double elapsed : {0.0, 12.5, static_cast<double>(3'723'123'456'789ULL) / 1e9}) {
    for (bool final : {false, true}) {
      expect_same(line_of([&](std::string& l) { append_stats_line(l, ctx, 10 * fx::kSec, k, u, elapsed, final); }),
                  ref::reference_stats_event(ctx, 10 * fx::kSec, k, u, elapsed, final));
    }
  }
  for (const char* cause : {loss_cause(RH_C_LOST_RINGBUF), kLossCauseMalformedRecord}) {
    expect_same(line_of([&](std::string& l) { append_lost_line(l, ctx, 10 * fx::kSec, cause, 5, 40); }),
                ref::reference_lost_event(ctx, 10 * fx::kSec, cause, 5, 40));
  }
}

TEST(FastLines, WrappersParseTheFastLine) {
  Context ctx = fx::context();
  auto f = fx::flow_summary();
  EXPECT_EQ(flow_event(ctx, f), json::parse(line_of([&](std::string& l) { append_flow_line(l, ctx, f); })));
}

TEST(FastLines, AppendToWhatIsThere) {
  std::string out;
  Context ctx = fx::context();
  append_lost_line(out, ctx, 10 * fx::kSec, "ringbuf_full", 1, 1);
  out += '\n';
  append_packet_line(out, ctx, fx::syn_v6());
  auto nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(json::parse(out.substr(0, nl))["rsthop"]["event_type"], "lost");
  EXPECT_EQ(json::parse(out.substr(nl + 1))["rsthop"]["event_type"], "packet");
}

}  // namespace
}  // namespace rsthop::output
