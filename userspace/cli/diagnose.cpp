#include "cli/diagnose.h"

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cli/diagnose_exit.h"
#include "cli/live_evidence.h"
#include "cli/outputs.h"
#include "cli/parallel_load.h"
#include "cli/privileges.h"
#include "cli/report.h"
#include "cli/route_traced.h"
#include "cli/stop_signals.h"
#include "common/clock.h"
#include "common/netns.h"
#include "diagnose/lines.h"
#include "diagnose/session.h"
#include "kernel/capture.h"
#include "output/sink.h"
#include "pcap/evidence.h"
#include "pipeline/pipeline.h"
#include "probe/route.h"

namespace rsthop::cli {
namespace {

int fail(const std::string& msg, int rc = 1) {
  std::cerr << "rsthop: " << msg << "\n";
  return rc;
}

// The kernel capture as the session sees it.
class CaptureSource : public diagnose::EventSource {
 public:
  // `name_probes` (--pcap-out): learn each probe's flow key (key_of).
  CaptureSource(kernel::Capture& c, bool name_probes, std::vector<std::string> interfaces)
      : c_(c), name_probes_(name_probes), route_traced_(route_traced_fn(std::move(interfaces))) {}
  Result<void> drain(const std::function<void(const flow::Packet&)>& h) override {
    kernel::Capture::Handler handler = h;
    if (name_probes_)
      handler = [&](const flow::Packet& p) {
        // Our SYNs name each probe's connection by its local port.
        if (p.ev.kind == RH_EV_SYN && p.ev.hook == RH_HOOK_TC_EGRESS) keys_[p.ev.sport] = p.ev.key;
        h(p);
      };
    auto n = c_.drain(handler);
    if (!n) return n.error();
    return {};
  }
  std::optional<rh_flow_state> lookup(const rh_flow_key& k) override { return c_.lookup_flow(k); }
  bool local_events() const override { return c_.local_events(); }
  bool route_traced(const uint8_t* addr, uint8_t family) const override { return route_traced_(addr, family); }
  std::optional<rh_flow_key> key_of(uint16_t local_port) const {
    auto it = keys_.find(local_port);
    return it == keys_.end() ? std::nullopt : std::optional<rh_flow_key>(it->second);
  }

 private:
  kernel::Capture& c_;
  bool name_probes_;
  std::map<uint16_t, rh_flow_key> keys_;
  std::function<bool(const uint8_t*, uint8_t)> route_traced_;
};

// The capture on the route's interface, filtered to the target; without it the probes still run.
struct Live {
  std::unique_ptr<kernel::Capture> capture;
  std::unique_ptr<CaptureSource> source;
};
Live start_capture(const probe::Target& t, const std::string& ifname, LiveEvidence* evidence, bool parallel_load) {
  kernel::CaptureConfig cfg;
  cfg.interfaces = {ifname};
  // tc ingress sees the few packets of the probes as well as XDP would, and not loading the XDP
  // program spares the verifier one of the two large programs: most of the time to a verdict.
  cfg.xdp = kernel::XdpMode::off;
  cfg.parallel_load = parallel_load;
  auto host = parse_cidr(addr_to_string(t.addr.data()));
  if (host) cfg.hosts = {host.value()};
  cfg.ports = {t.port, 80};
  cfg.ring_bytes = 4u << 20;
  // The probes' connections only (at most --budget of them; LRU keeps the newest): a small map is
  // created faster than trace's 65536 flows.
  cfg.max_flows = 4096;
  cfg.frames = evidence != nullptr;
  Live live;
  auto c = kernel::Capture::open(cfg);
  Result<void> attached = c ? c.value()->attach() : Result<void>(c.error());
  if (c)
    for (const auto& n : c.value()->notices()) std::cerr << "rsthop: notice: " << n << "\n";
  if (!attached) {
    std::cerr << "rsthop: notice: no kernel capture (" << attached.error().message
              << "): the probes run, but without RST TTLs, MACs and the hop addresses of the trigger ladder; "
                 "confidence is lowered\n";
    return live;
  }
  live.capture = std::move(c.value());
  if (evidence) live.capture->set_frame_handler([evidence](const kernel::FrameRecord& f) { evidence->frame(f); });
  live.source = std::make_unique<CaptureSource>(*live.capture, evidence != nullptr, cfg.interfaces);
  return live;
}

diagnose::Options session_options(const DiagnoseOptions& opt, const probe::Target& t) {
  diagnose::Options o;
  o.sni = opt.sni;
  o.control_sni = opt.control_sni;
  o.tls = t.port != 80;
  o.timing.timeout_ms = static_cast<int>(opt.timeout_s * 1000);
  o.ladder.max_hops = opt.max_hops;
  o.ladder.concurrency = opt.concurrency;
  o.ladder.step_timeout_ms = static_cast<int>(opt.step_timeout_s * 1000);
  o.always_ladder = opt.always_ladder;
  o.hold_ms = static_cast<int>(opt.hold_s * 1000);
  o.budget = opt.budget;
  o.rate = opt.rate;
  o.ladder.min_gap_ms = std::max(1, static_cast<int>(1000.0 / opt.rate));
  return o;
}

// The probe, hop and verdict lines, each flushed at once (a person watches
// the steps go by); the first failed write is kept and ends the run.
struct Lines {
  output::Writer& writer;
  const output::Context& ctx;
  Result<void> status;
  std::vector<std::pair<uint16_t, std::string>> probe_labels;  // --pcap-out: each probe's connection

  template <typename Build>
  void emit(Build&& build) {
    if (status) status = writer.emit(build);
    if (status) status = writer.flush();
  }
};

diagnose::Reporter reporter(Lines& lines, const probe::Target& t, const diagnose::Options& o, const std::string& name,
                            bool text) {
  diagnose::Reporter rep;
  auto& ctx = lines.ctx;
  if (text) rep.progress = [](const std::string& m) { std::cerr << "rsthop: " << m << "...\n"; };
  rep.connect = [&lines, &ctx, &t](const probe::ConnectResult& r) {
    lines.probe_labels.emplace_back(r.local_port, std::string("probe tcp_connect: ") + probe::outcome_name(r.outcome));
    lines.emit([&](std::string& l) { diagnose::append_connect_probe_line(l, ctx, monotonic_now_ns(), t, r); });
  };
  rep.http = [&lines, &ctx, &t, port = o.tls ? uint16_t{80} : t.port, name](const probe::HttpResult& r) {
    lines.probe_labels.emplace_back(r.local_port, std::string("probe http: ") + probe::outcome_name(r.outcome) +
                                                      (r.status_line.empty() ? "" : " " + r.status_line));
    lines.emit([&](std::string& l) { diagnose::append_http_probe_line(l, ctx, monotonic_now_ns(), t, port, name, r); });
  };
  rep.tls = [&lines, &ctx, &t, name](const probe::TlsResult& r) {
    lines.probe_labels.emplace_back(r.local_port, std::string("probe tls: ") + probe::outcome_name(r.outcome) +
                                                      (r.error.empty() ? "" : " (" + r.error + ")"));
    lines.emit([&](std::string& l) { diagnose::append_tls_probe_line(l, ctx, monotonic_now_ns(), t, name, r); });
  };
  rep.hop = [&lines, &ctx, &t](const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from,
                               double ms, double duration_ms) {
    lines.emit([&](std::string& l) {
      diagnose::append_hop_line(l, ctx, monotonic_now_ns(), t, ladder, ttl, result, from, ms, duration_ms);
    });
  };
  return rep;
}

// Every reset the verdict weighed (the pipeline's records, not this host's own aborts), labelled
// with the verdict they led to, then each probe's connection.
Result<void> write_evidence(LiveEvidence& evidence, const diagnose::Outcome& out, const Lines& lines,
                            const CaptureSource* source) {
  const diagnose::Verdict& v = out.verdict;
  const std::string label = pcap::verdict_label(attribution::name(v.origin), v.hop, v.confidence, v.summary);
  for (const auto& r : out.reset_records) evidence.reset(r, label);
  for (const auto& [port, what] : lines.probe_labels)
    if (auto key = source ? source->key_of(port) : std::nullopt) evidence.probe(*key, what);
  return evidence.close();
}

// The capture's losses, as trace reports them: `lost` lines and the final
// `stats` line in JSON, one sentence on stderr in text.
void report_losses(pipeline::Pipeline& pipe, bool captured, bool text, uint64_t start) {
  if (!captured) return;
  const uint64_t now = monotonic_now_ns();
  pipe.report_losses(now);
  if (!text) pipe.write_stats(now, (now - start) / 1e9, true);
  pipe.flush();
  if (text && pipe.lost_total())
    std::cerr << "rsthop: notice: the capture lost " << pipe.lost_total()
              << " events (run with --format json for the lost lines); the verdict may miss evidence\n";
}

// Each ladder step's connection gets a label in --pcap-out too, so that `rsthop analyze` of the
// file finds the ladders again.
void label_ladder_steps(Lines& lines, const diagnose::Inputs& in) {
  auto label = [&](const char* ladder, int ttl, const char* result, uint16_t port) {
    lines.probe_labels.emplace_back(port,
                                    std::string("ladder ") + ladder + " ttl " + std::to_string(ttl) + ": " + result);
  };
  for (const auto* syn : {&in.syn, &in.syn80})
    for (const auto& s : *syn) label("syn", s.ttl, probe::name(s.kind), s.local_port);
  for (const auto& s : in.trigger) label("trigger", s.ttl, probe::name(s.kind), s.local_port);
  for (const auto& s : in.control) label("control", s.ttl, probe::name(s.kind), s.local_port);
}

}  // namespace

int run_diagnose(const DiagnoseOptions& opt) {
  kernel::set_libbpf_verbose(opt.verbose);
  const auto parallel = parallel_load(std::getenv("RSTHOP_PARALLEL_LOAD"));
  if (!parallel) return fail(parallel.error().message, 2);
  auto target = probe::resolve(opt.target, 443, opt.family);
  if (!target) return fail(target.error().message, 2);
  const probe::Target& t = target.value();
  // SIGINT / SIGTERM from here on: no new probe, then detach and print the verdict so far
  // (partial), exit 130; the default action would leave a 0-byte --pcap-out and, without tcx,
  // clsact filters behind.
  install_stop_handlers();

  auto outs = open_outputs(opt.output, opt.format, output::Overflow::wait);
  if (!outs) return fail(outs.error().message);
  output::Writer& writer = *outs->writer;
  const bool text = outs->text;
  const WallClock wall = WallClock::calibrate();
  output::Context ctx{host_name(), wall, {}, opt.community_id_seed, own_netns_inode()};
  std::unique_ptr<LiveEvidence> evidence;  // --pcap-out
  if (!opt.pcap_out.empty()) {
    auto e = LiveEvidence::create(opt.pcap_out, wall);
    if (!e) return fail(e.error().message);
    evidence = std::move(e.value());
  }
  std::string ifname = opt.interface;
  if (!ifname.empty() && if_nametoindex(ifname.c_str()) == 0)
    return fail("no interface named " + ifname + " (-i): see `ip link`");
  if (ifname.empty()) {
    auto r = probe::route_interface(t);
    if (!r) return fail(r.error().message);
    ifname = r.value();
  }
  diagnose::Options o = session_options(opt, t);
  o.stop = [] { return stop_requested(); };
  const std::string name = opt.sni.empty() ? t.host : opt.sni;
  Lines lines{writer, ctx, {}, {}};
  diagnose::Session session(t, o, reporter(lines, t, o, name, text));
  // Loading and verifying the BPF object takes most of a second: the probes that need no capture
  // run meanwhile, on a thread that first gives up root for itself (what the target answers is
  // never parsed with privileges).  With --pcap-out every probe's connection belongs in the file:
  // attach first.
  std::string probing_error;
  std::thread probing;
  if (!evidence)
    probing = std::thread([&] {
      if (auto r = drop_this_thread(); !r)
        probing_error = r.error().message;
      else
        session.socket_probes();
    });
  Live live = start_capture(t, ifname, evidence.get(), parallel.value());
  if (probing.joinable()) probing.join();
  if (!probing_error.empty()) {
    if (live.capture) live.capture->detach();
    return fail(probing_error);
  }
  // The rest of the probes, and OpenSSL's parsing of what the target sends, run without the rest.
  Needs needs = live.capture ? needs_after_attach(live.capture->attachments()) : Needs{};
  needs.keep_uid = outs->reopens;
  if (auto r = drop_privileges(needs); !r) {
    if (live.capture) live.capture->detach();
    return fail(r.error().message);
  }
  outs->start();  // the outputs' threads, born without privileges
  auto registry = oui::Registry::load();
  const oui::Registry* reg = registry ? &registry.value() : nullptr;

  auto po = diagnose::pipeline_options(live.capture && live.capture->local_events(), reg);
  po.loss_lines = !text;
  if (live.source)
    po.engine.route_traced = [src = live.source.get()](const uint8_t* a, uint8_t f) { return src->route_traced(a, f); };
  po.start_ns = monotonic_now_ns();
  if (live.capture)
    for (const auto& a : live.capture->attachments())
      po.attachments.push_back({a.interface, a.hook, a.mode, a.fallback});
  pipeline::Pipeline pipe(po, &writer, ctx, {}, [&live] {
    if (!live.capture) return pipeline::Counters{};
    return pipeline::Counters{live.capture->counters(), live.capture->malformed_records()};
  });
  auto out = session.run(live.source.get(), reg, pipe);
  if (out.rsts_missing)
    std::cerr << "rsthop: notice: the capture showed no RST for " << out.rsts_missing
              << " ladder step(s) the sockets saw reset, after waiting " << diagnose::kRstWaitMs
              << " ms: the verdict may miss their evidence\n";
  if (live.capture) with_net_admin([&live] { live.capture->detach(); });
  report_losses(pipe, live.capture != nullptr, text, po.start_ns);
  if (!pipe.ok()) return fail(pipe.status().error().message);
  lines.emit([&](std::string& l) { diagnose::append_verdict_line(l, ctx, monotonic_now_ns(), t, name, out.verdict); });
  if (!lines.status) return fail(lines.status.error().message);
  if (evidence) {
    label_ladder_steps(lines, out.inputs);
    if (auto r = write_evidence(*evidence, out, lines, live.source.get()); !r) return fail(r.error().message);
  }
  if (auto c = outs->close(); !c) return fail(c.error().message);
  const DiagnoseExit end = diagnose_exit(out);
  return end.message.empty() ? end.code : fail(end.message, end.code);
}

}  // namespace rsthop::cli
