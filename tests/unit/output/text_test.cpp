#include "output/text.h"

#include <gtest/gtest.h>

#include "fixtures.h"
#include "output/names.h"

namespace rsthop::output {
namespace {

using nlohmann::json;
namespace fx = fixtures;

TEST(Text, ResetLine) {
  auto r = fx::reset_record();
  r.count = 1;
  EXPECT_EQ(render_text(reset_event(fx::context(), r)),
            "02:33:38.123456 RESET 198.18.0.2:443 -> 198.18.0.1:51234 [RA] ttl 63 seq 1234 win 0 x1 "
            "baseline-ttl 64 after 123ms (tc-ingress eth0) sni=example.test");
}

TEST(Text, FlowLine) {
  EXPECT_EQ(render_text(flow_event(fx::context(), fx::flow_summary())),
            "02:33:38.200000 FLOW 198.18.0.1:51234 -> 198.18.0.2:443 RSTR ShAdR rtt 0.12ms 1.2s "
            "512B/3p -> 1024B/4p sni=example.test host=example.test");
}

TEST(Text, CaptureFileFramesOnResetAndFlowLines) {
  auto r = fx::reset_record();
  r.count = 2;
  r.first.ev.hook = RH_HOOK_PCAP;
  r.first.ev.ifindex = 0;
  r.first.file = "cap.pcap";
  r.frames = {6, 9};
  std::string line = render_text(reset_event(fx::context(), r));
  EXPECT_NE(line.find(" (pcap cap.pcap frames 6,9) "), std::string::npos) << line;
  r.frames = {6};
  line = render_text(reset_event(fx::context(), r));
  EXPECT_NE(line.find(" (pcap cap.pcap frame 6) "), std::string::npos) << line;

  auto f = fx::flow_summary();
  f.ifindex = 0;
  f.file = "cap.pcap";
  f.first_frame = 1;
  f.last_frame = 12;
  line = render_text(flow_event(fx::context(), f));
  EXPECT_NE(line.find("1024B/4p (cap.pcap frames 1-12) sni="), std::string::npos) << line;
}

TEST(Text, Ipv6PortsAreBracketed) {
  std::string line = render_text(packet_event(fx::context(), fx::syn_v6()));
  EXPECT_EQ(line,
            "02:33:38.000000 PKT syn [2001:db8::1]:40000 -> [2001:db8::1:0:0:2]:443 [S] ttl 64 seq 1000 ack 0 "
            "win 64800 len 0 (xdp eth0)");
}

TEST(Text, IcmpLine) {
  EXPECT_EQ(render_text(packet_event(fx::context(), fx::icmp_time_exceeded())),
            "02:33:38.000000 ICMP 198.18.0.254 -> 198.18.0.1 type 11 code 0 quoting 198.18.0.1:51234 -> "
            "198.18.0.2:443 ttl 1 seq 4242 (tc-ingress eth0)");
}

TEST(Text, LocalResetPacketWithoutInterface) {
  EXPECT_EQ(render_text(packet_event(fx::context(), fx::local_rst_send())),
            "02:33:38.000000 PKT local-rst-send 198.18.0.1:51234 -> 198.18.0.2:443 reason TCP_ABORT_ON_CLOSE "
            "(tp-send-reset)");
}

TEST(Text, StatsShowsNonZeroCounters) {
  KernelCounters k{};
  k[RH_C_PACKETS] = 10;
  k[RH_C_LOST_RINGBUF] = 2;
  UserspaceCounters u;
  u.flows_emitted = 1;
  EXPECT_EQ(render_text(stats_event(fx::context(), 10 * fx::kSec, k, u, 1.5, true)),
            "02:33:38.000000 STATS final elapsed 1.5s lost_ringbuf=2 packets=10 flows_emitted=1");
}

TEST(Text, LostLine) {
  EXPECT_EQ(render_text(lost_event(fx::context(), 10 * fx::kSec, "ringbuf_full", 5, 40)),
            "02:33:38.000000 LOST 5 (ringbuf_full, total 40)");
}

TEST(Text, WireStringsCannotInjectControlSequences) {
  auto f = fx::flow_summary();
  f.app.tls_sni = "evil\x1b[2J.test";
  f.app.http_host.clear();
  std::string line = render_text(flow_event(fx::context(), f));
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("sni=evil\\x1b[2J.test"), std::string::npos);
}

TEST(Text, TlsProbeShowsEcsVersionAndIanaCipher) {
  json j = json::parse(R"({"@timestamp":"2026-11-26T02:33:38.123456Z","destination":{"ip":"198.18.0.2","port":443},
    "tls":{"version":"1.3","version_protocol":"tls","cipher":"TLS_AES_128_GCM_SHA256"},
    "rsthop":{"event_type":"probe","probe":{"name":"tls","outcome":"ok","ms":4.0}}})");
  std::string line = render_text(j);
  EXPECT_NE(line.find("PROBE tls 198.18.0.2:443 ok in 4.00ms, TLS 1.3 TLS_AES_128_GCM_SHA256"), std::string::npos)
      << line;
}

TEST(Text, UnknownTypeFallsBackToJson) {
  json j = {{"@timestamp", "2026-11-26T02:33:38.123456Z"}, {"rsthop", {{"event_type", "future"}}}, {"x", 1}};
  std::string line = render_text(j);
  EXPECT_EQ(line.substr(0, 16), "02:33:38.123456 ");
  EXPECT_NE(line.find("\"x\":1"), std::string::npos);
}

}  // namespace
}  // namespace rsthop::output
