// Prints one line of every event type (and every packet kind the renderer
// treats differently) through the real JSON writer, for validate_schema.py.
#include <cstdio>
#include <functional>

#include "attribution/engine.h"
#include "diagnose/lines.h"
#include "fixtures.h"
#include "output/incident_line.h"
#include "output/names.h"
#include "output/sink.h"

using namespace rsthop;
using namespace rsthop::output;
namespace fx = rsthop::output::fixtures;

int main() {
  Context ctx = fx::context();
  Context in_netns = ctx;
  in_netns.netns_inode = 4026531840ULL;
  // A socket in a Kubernetes pod's container (container.*, orchestrator.*, rsthop.cgroup.*).
  CgroupInfo pod{
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_0000_4000_8000_00000000abcd.slice/"
      "cri-containerd-" +
          std::string(64, 'e') + ".scope",
      {}};
  pod.tags = parse_cgroup_path(pod.path);
  in_netns.cgroup = [&pod](uint64_t id) { return id == 77 ? &pod : nullptr; };
  flow::ResetRecord in_pod = fx::reset_record();
  in_pod.cgroup_id = 77;
  flow::FlowSummary flow_in_pod = fx::flow_summary();
  flow_in_pod.cgroup_id = 77;
  flow::FlowSummary flow_unresolved = fx::flow_summary();
  flow_unresolved.cgroup_id = 78;
  Writer w(std::make_unique<StdoutSink>(), Format::json);

  flow::ResetRecord local;
  local.first = fx::local_rst_send();
  local.local_reason = 14;

  auto f6 = fx::flow_summary();
  f6.family = 6;
  f6.source.ip = fx::ip("2001:db8::1");
  f6.destination.ip = fx::ip("2001:db8::2");
  f6.rtt_ms.reset();
  f6.app = {};

  flow::Packet rst;
  rst.ev = fx::server_rst();

  // The real engine's verdict on the fixture reset, and on a local one.
  attribution::Engine engine({});
  attribution::Verdict remote = engine.classify(fx::reset_record());
  attribution::Verdict here = engine.classify(local);

  // diagnose's lines: a probe of each kind, a hop, a verdict.
  probe::Target target;
  target.addr = fx::ip("198.18.0.2");
  target.host = "example.test";
  probe::ConnectResult connect;
  connect.outcome = probe::Outcome::ok;
  connect.ms = 1.25;
  connect.local_port = 40000;
  probe::HttpResult http;
  http.outcome = probe::Outcome::reset;
  http.ms = 3.5;
  http.error = "connection reset by peer";
  probe::TlsResult tls;
  tls.outcome = probe::Outcome::ok;
  tls.ms = 4.0;
  tls.version = "TLSv1.3";
  tls.cipher = "TLS_AES_256_GCM_SHA384";
  tls.alpn = "h2";
  tls.subject = "CN=example.test";
  tls.issuer = "CN=test CA";
  tls.not_before = "2026-01-01T00:00:00Z";
  tls.not_after = "2027-01-01T00:00:00Z";
  tls.sans = {"example.test"};
  diagnose::Verdict verdict;
  verdict.outcome = diagnose::RequestOutcome::reset;
  verdict.origin = attribution::Origin::middlebox;
  verdict.hop = 2;
  verdict.hop_ip = fx::ip("198.18.1.1");
  verdict.trigger = diagnose::Trigger::sni;
  verdict.l2_mac = std::array<uint8_t, 6>{0x02, 0x68, 0x78, 0x01, 0x00, 0x01};
  verdict.confidence = 0.9;
  verdict.summary = "a middlebox at hop 2 resets on the SNI";
  auto hop_from = std::optional<Addr16>(fx::ip("198.18.1.1"));

  KernelCounters k{};
  k[RH_C_PACKETS] = 10;
  UserspaceCounters u;

  Incident inc;
  inc.ip = fx::ip("198.18.1.5");
  inc.port = 443;
  inc.origin = attribution::Origin::middlebox;
  inc.hop = 3;
  inc.fingerprint = "n1/R/win0/ipid:n/a/ttl:constant/off0";
  inc.count = 42;
  inc.rsts = 42;
  inc.confidence_max = 0.9;
  inc.community_ids = {"1:LQU9qZlK+B5F3KDmev6m5PMibrg="};
  inc.server_names = {"blocked.lab"};
  Incident inc6;
  inc6.family = 6;
  inc6.ip = fx::ip("2001:db8::2");
  inc6.port = 80;

  // The lines exactly as rsthop writes them: the streaming builders.
  using Build = std::function<void(std::string&)>;
  const Build events[] = {
      [&](std::string& l) { append_flow_line(l, ctx, fx::flow_summary()); },
      [&](std::string& l) { append_flow_line(l, ctx, f6); },
      [&](std::string& l) { append_reset_line(l, in_netns, fx::reset_record()); },
      [&](std::string& l) { append_reset_line(l, in_netns, in_pod); },
      [&](std::string& l) { append_flow_line(l, in_netns, flow_in_pod); },
      [&](std::string& l) { append_flow_line(l, in_netns, flow_unresolved); },
      [&](std::string& l) { append_reset_line(l, ctx, fx::reset_record()); },
      [&](std::string& l) { append_reset_line(l, ctx, local); },
      [&](std::string& l) { append_reset_line(l, ctx, fx::reset_record(), &remote); },
      [&](std::string& l) { append_reset_line(l, ctx, local, &here); },
      [&](std::string& l) { append_packet_line(l, ctx, fx::syn_v6()); },
      [&](std::string& l) { append_packet_line(l, ctx, fx::icmp_time_exceeded()); },
      [&](std::string& l) { append_packet_line(l, ctx, fx::first_payload()); },
      [&](std::string& l) { append_packet_line(l, ctx, fx::local_rst_send()); },
      [&](std::string& l) { append_packet_line(l, ctx, rst); },
      [&](std::string& l) { append_stats_line(l, ctx, 10 * fx::kSec, k, u, 1.0, false); },
      [&](std::string& l) { append_lost_line(l, ctx, 10 * fx::kSec, loss_cause(RH_C_LOST_RINGBUF), 1, 1); },
      [&](std::string& l) { append_lost_line(l, ctx, 10 * fx::kSec, kLossCauseMalformedRecord, 1, 3); },
      [&](std::string& l) { diagnose::append_connect_probe_line(l, ctx, fx::kSec, target, connect); },
      [&](std::string& l) { diagnose::append_http_probe_line(l, ctx, fx::kSec, target, 80, "example.test", http); },
      [&](std::string& l) { diagnose::append_tls_probe_line(l, ctx, fx::kSec, target, "example.test", tls); },
      [&](std::string& l) {
        diagnose::append_hop_line(l, ctx, fx::kSec, target, "syn", 2, "time_exceeded", hop_from, 0.5);
      },
      [&](std::string& l) { diagnose::append_verdict_line(l, ctx, fx::kSec, target, "example.test", verdict); },
      [&](std::string& l) {  // trace --auto-diagnose: the join with its resets
        const diagnose::AutoDiagnoseInfo info{diagnose::AutoReason::middlebox,
                                              {"1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ka7H5vM5x9Zl6u0ZgE="},
                                              32,
                                              15};
        diagnose::append_verdict_line(l, ctx, fx::kSec, target, "example.test", verdict, &info);
      },
      [&](std::string& l) {
        const SinkStats sinks[] = {{"-", 10, 4 << 20, 0, 0, true},
                                   {"tcp:127.0.0.1:5140", 4 << 20, 4 << 20, 7, 1, false}};
        append_stats_line(l, ctx, 10 * fx::kSec, k, u, 1.0, true, sinks);
      },
      [&](std::string& l) { append_lost_line(l, ctx, 10 * fx::kSec, kLossCauseSinkFull, 7, 7, "tcp:127.0.0.1:5140"); },
      [&](std::string& l) {
        const std::vector<AttachmentInfo> att = {{"eth0", "xdp", "native", ""},
                                                 {"eth1", "tc-ingress", "clsact", "another program holds XDP"}};
        append_stats_line(l, ctx, 10 * fx::kSec, k, u, 1.0, false, {}, &att);
      },
      [&](std::string& l) {
        diagnose::append_hop_line(l, in_netns, fx::kSec, target, "syn80", 3, "time_exceeded", hop_from, 0.5, 50.25);
      },
      [&](std::string& l) { diagnose::append_verdict_line(l, in_netns, fx::kSec, target, "example.test", verdict); },
      [&](std::string& l) { append_lost_line(l, ctx, 10 * fx::kSec, "incident_overflow", 2, 2); },
      [&](std::string& l) { append_incident_line(l, ctx, 10 * fx::kSec, inc, 10); },
      [&](std::string& l) { append_incident_line(l, ctx, 10 * fx::kSec, inc6, 0.5); },
  };
  for (const auto& build : events) {
    auto r = w.emit(build);
    if (!r.ok()) {
      std::fprintf(stderr, "schema_sample: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  if (auto r = w.flush(); !r.ok()) {
    std::fprintf(stderr, "schema_sample: %s\n", r.error().message.c_str());
    return 1;
  }
  return 0;
}
