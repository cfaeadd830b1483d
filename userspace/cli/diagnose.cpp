#include "cli/diagnose.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>

#include "kernel/capture.h"
#include "common/clock.h"
#include "output/diagnose_lines.h"
#include "cli/live_evidence.h"
#include "cli/route_traced.h"
#include "probe/route.h"
#include "diagnose/session.h"
#include "output/sink.h"

namespace rsthop::cli {
namespace {

int fail(const std::string& msg, int rc = 1) {
  std::cerr << "rsthop: " << msg << "\n";
  return rc;
}

// The kernel capture as the session sees it.
class CaptureSource : public diagnose::EventSource {
 public:
  // `rsts`, when set, collects the wire RST events (--pcap-out).
  CaptureSource(kernel::Capture& c, std::vector<flow::Packet>* rsts, std::vector<std::string> interfaces)
      : c_(c), rsts_(rsts), route_traced_(route_traced_fn(std::move(interfaces))) {}
  void drain(const std::function<void(const flow::Packet&)>& h) override {
    kernel::Capture::Handler handler = h;
    if (rsts_)
      handler = [&](const flow::Packet& p) {
        if (p.ev.kind == RH_EV_RST) rsts_->push_back(p);
        // Our SYNs name each probe's connection by its local port.
        if (p.ev.kind == RH_EV_SYN && p.ev.hook == RH_HOOK_TC_EGRESS) keys_[p.ev.sport] = p.ev.key;
        h(p);
      };
    (void)c_.drain(handler);
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
  std::vector<flow::Packet>* rsts_;
  std::map<uint16_t, rh_flow_key> keys_;
  std::function<bool(const uint8_t*, uint8_t)> route_traced_;
};

std::string host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof(buf) - 1) == 0 ? buf : "unknown";
}

}  // namespace

int run_diagnose(const DiagnoseOptions& opt) {
  kernel::set_libbpf_verbose(opt.verbose);
  auto target = probe::resolve(opt.target, 443, opt.family);
  if (!target) return fail(target.error().message, 2);
  const probe::Target& t = target.value();

  auto sink = opt.output == "-" ? Result<std::unique_ptr<output::Sink>>(std::make_unique<output::StdoutSink>())
                                : output::FileSink::open(opt.output);
  if (!sink) return fail(sink.error().message);
  bool text = opt.format == "text" || (opt.format.empty() && opt.output == "-" && isatty(STDOUT_FILENO));
  output::Writer writer(std::move(sink.value()), text ? output::Format::text : output::Format::json);
  const WallClock wall = WallClock::calibrate();
  output::Context ctx{host_name(), wall, {}};
  std::unique_ptr<LiveEvidence> evidence;  // --pcap-out
  std::vector<flow::Packet> rsts;          // the RSTs the capture saw, written with the verdict
  if (!opt.pcap_out.empty()) {
    auto e = LiveEvidence::create(opt.pcap_out, wall);
    if (!e) return fail(e.error().message);
    evidence = std::move(e.value());
  }
  auto emit = [&](auto&& build) {
    (void)writer.emit(build);
    (void)writer.flush();  // a person watches the steps go by
  };

  // The capture on the route's interface, filtered to the target; without it the probes still run.
  std::string ifname = opt.interface;
  if (ifname.empty()) {
    auto r = probe::route_interface(t);
    if (!r) return fail(r.error().message);
    ifname = r.value();
  }
  kernel::CaptureConfig cfg;
  cfg.interfaces = {ifname};
  auto host = parse_cidr(addr_to_string(t.addr.data()));
  if (host) cfg.hosts = {host.value()};
  cfg.ports = {t.port, 80};
  cfg.ring_bytes = 4u << 20;
  cfg.verbose = opt.verbose;
  cfg.frames = evidence != nullptr;
  std::unique_ptr<kernel::Capture> capture;
  std::unique_ptr<CaptureSource> source;
  if (auto c = kernel::Capture::open(cfg); c && c.value()->attach()) {
    capture = std::move(c.value());
    if (evidence) capture->set_frame_handler([&](const kernel::FrameRecord& f) { evidence->frame(f); });
    source = std::make_unique<CaptureSource>(*capture, evidence ? &rsts : nullptr, cfg.interfaces);
  } else {
    std::string why = c ? "cannot attach to " + ifname : c.error().message;
    std::cerr << "rsthop: notice: no kernel capture (" << why
              << "): the probes run, but without RST TTLs, MACs and the hop addresses of the trigger ladder; "
                 "confidence is lowered\n";
  }
  auto registry = oui::Registry::load();

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
  o.ladder.min_gap_ms = std::max(1, static_cast<int>(1000.0 / opt.rate));
  const std::string name = opt.sni.empty() ? t.host : opt.sni;

  diagnose::Reporter rep;
  if (text) rep.progress = [&](const std::string& m) { std::cerr << "rsthop: " << m << "...\n"; };
  std::vector<std::pair<uint16_t, std::string>> probe_labels;  // --pcap-out: each probe's connection
  rep.connect = [&](const probe::ConnectResult& r) {
    probe_labels.emplace_back(r.local_port, std::string("probe tcp_connect: ") + probe::outcome_name(r.outcome));
    emit([&](std::string& l) { output::append_connect_probe_line(l, ctx, t, r); });
  };
  rep.http = [&](const probe::HttpResult& r) {
    probe_labels.emplace_back(r.local_port, std::string("probe http: ") + probe::outcome_name(r.outcome) +
                                                (r.status_line.empty() ? "" : " " + r.status_line));
    uint16_t port = o.tls ? 80 : t.port;
    emit([&](std::string& l) { output::append_http_probe_line(l, ctx, t, port, name, r); });
  };
  rep.tls = [&](const probe::TlsResult& r) {
    probe_labels.emplace_back(r.local_port, std::string("probe tls: ") + probe::outcome_name(r.outcome) +
                                                (r.error.empty() ? "" : " (" + r.error + ")"));
    emit([&](std::string& l) { output::append_tls_probe_line(l, ctx, t, name, r); });
  };
  rep.hop = [&](const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from, double ms) {
    emit([&](std::string& l) { output::append_hop_line(l, ctx, t, ladder, ttl, result, from, ms); });
  };
  auto out = diagnose::run(t, o, source.get(), registry ? &registry.value() : nullptr, rep);
  if (capture) capture->detach();
  emit([&](std::string& l) { output::append_verdict_line(l, ctx, t, name, out.verdict); });
  if (auto r = writer.flush(); !r) return fail(r.error().message);
  if (evidence) {
    // Every RST the probes drew, labelled with the verdict they led to.
    const std::string label =
        pcap::verdict_label(out.verdict.origin, out.verdict.hop, out.verdict.confidence, out.verdict.summary);
    for (const auto& p : rsts) {
      flow::ResetRecord r;
      r.first = p;
      r.rsts = {p.ev};
      r.wire_seen = true;
      evidence->reset(r, label);
    }
    for (const auto& [port, what] : probe_labels)
      if (auto key = source ? source->key_of(port) : std::nullopt) evidence->probe(*key, what);
    if (auto r = evidence->close(); !r) return fail(r.error().message);
  }
  if (out.verdict.outcome == "error") return fail(out.verdict.summary);
  return 0;
}

}  // namespace rsthop::cli
