#include "cli/trace.h"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>

#include "cli/live_evidence.h"
#include "cli/metrics_endpoint.h"
#include "cli/outputs.h"
#include "cli/parallel_load.h"
#include "cli/privileges.h"
#include "cli/report.h"
#include "cli/route_traced.h"
#include "cli/service.h"
#include "cli/stop_signals.h"
#include "common/cgroup_resolver.h"
#include "common/clock.h"
#include "common/clock_discipline.h"
#include "common/netns.h"
#include "diagnose/auto_runner.h"
#include "kernel/capture.h"
#include "kernel/interfaces.h"
#include "output/event.h"
#include "output/names.h"
#include "output/sink.h"
#include "pipeline/pipeline.h"

namespace rsthop::cli {
namespace {

// if_indextoname costs a socket and an ioctl: look each index up once.
std::function<std::string(uint32_t)> if_name_cache() {
  return [cache = std::make_shared<std::unordered_map<uint32_t, std::string>>()](uint32_t ifindex) {
    if (!ifindex) return std::string();
    auto it = cache->find(ifindex);
    if (it != cache->end()) return it->second;
    char buf[IF_NAMESIZE] = {};
    std::string name = if_indextoname(ifindex, buf) ? buf : "";
    if (cache->size() < 4096) cache->emplace(ifindex, name);
    return name;
  };
}

// How often trace measures the REALTIME - MONOTONIC offset again (a long run follows NTP).
constexpr uint64_t kRecalibrateNs = 10'000'000'000ULL;

int fail(const std::string& msg, int rc = 1) {
  std::cerr << "rsthop: " << msg << "\n";
  return rc;
}

// Polls until the duration ends, a stop signal or an error, then detaches and
// drains what is left.  Returns the exit code of capture errors; write errors stay in `pipe`.
// SIGHUP reopens the outputs (files: logrotate) and the run goes on.
// --auto-diagnose: the verdicts finished meanwhile join the stream.
void auto_verdicts(diagnose::AutoRunner* autod, pipeline::Pipeline& pipe, uint64_t now) {
  if (!autod) return;
  for (const auto& l : autod->take_lines(now)) pipe.write_line(l);
  pipe.note_loss("auto_diagnose_queue", autod->queue_dropped(), now);
}

int trace_loop(const TraceOptions& opt, kernel::Capture& capture, pipeline::Pipeline& pipe, LiveEvidence* evidence,
               output::Sink& outputs, MetricsEndpoint* metrics, uint64_t start, const WallClock& wall, Service& service,
               diagnose::AutoRunner* autod) {
  const uint64_t deadline = opt.duration_s > 0 ? start + static_cast<uint64_t>(opt.duration_s * 1e9) : 0;
  kernel::Capture::Handler handler = [&](flow::Packet& p) {
    pipe.add(p);               // completes p's flow state
    if (autod) autod->tee(p);  // a copy for a running diagnose: never waits for it
  };
  int rc = 0;
  Result<void> evidence_status;
  ClockDiscipline clock(wall, start);
  uint64_t next_calibration = start + kRecalibrateNs;
  while (!stop_requested() && pipe.ok() && evidence_status) {
    uint64_t now = monotonic_now_ns();
    if (deadline && now >= deadline) break;
    if (now >= next_calibration) {
      clock.observe(WallClock::calibrate(), now);
      next_calibration = now + kRecalibrateNs;
    }
    pipe.set_clock(clock.at(now));
    if (autod) autod->set_clock(clock.at(now));
    int wait_ms = 100;
    if (deadline) wait_ms = static_cast<int>(std::min<uint64_t>(100, (deadline - now) / 1'000'000 + 1));
    if (auto r = capture.poll(wait_ms, handler); !r) {
      std::cerr << "rsthop: " << r.error().message << "\n";
      rc = 1;
      break;
    }
    pipe.advance(monotonic_now_ns());
    auto_verdicts(autod, pipe, monotonic_now_ns());
    if (reopen_requested()) {
      pipe.flush();  // what came before the signal still goes to the old files
      (void)outputs.reopen();
    }
    pipe.flush();  // the batch this poll produced
    if (evidence && pipe.ok()) evidence_status = evidence->flush();
    if (metrics) metrics->publish(pipe, monotonic_now_ns());
    service.tick(monotonic_now_ns(), pipe);
  }
  service.stopping();
  if (autod) {  // a diagnose still running ends early; its verdict (partial) still comes
    autod->stop();
    auto_verdicts(autod, pipe, monotonic_now_ns());
  }
  // Detach first so the counters and the ring stop moving, then drain.
  with_net_admin([&] { capture.detach(); });
  if (auto d = capture.drain(handler); !d) {
    std::cerr << "rsthop: " << d.error().message << "\n";
    rc = 1;
  }
  uint64_t now = monotonic_now_ns();
  pipe.finish(now, (now - start) / 1e9);
  if (metrics) metrics->publish(pipe, now, true);
  return rc;  // a failed evidence flush is sticky: LiveEvidence::close() reports it
}

// The capture the options ask for (without frames: --pcap-out adds them).
Result<kernel::CaptureConfig> capture_config(const TraceOptions& opt, bool parallel) {
  kernel::CaptureConfig cfg;
  cfg.parallel_load = parallel;
  auto interfaces = kernel::expand_any(opt.interfaces);  // -i any: every interface that is up now
  if (!interfaces) return interfaces.error();
  cfg.interfaces = interfaces.value();
  cfg.xdp = opt.xdp == "off"       ? kernel::XdpMode::off
            : opt.xdp == "generic" ? kernel::XdpMode::generic
            : opt.xdp == "native"  ? kernel::XdpMode::native
                                   : kernel::XdpMode::automatic;
  for (const auto& h : opt.hosts) {
    auto c = parse_cidr(h);
    if (!c) return c.error();
    cfg.hosts.push_back(*c);
  }
  cfg.ports = opt.ports;
  cfg.ring_bytes = opt.ring_mb << 20;
  cfg.max_flows = opt.max_flows;
  cfg.clsact = opt.tc == "clsact";
  return cfg;
}

// Wires the endpoint to the outputs' queues and starts its thread (after the privilege drop).
void start_metrics(MetricsEndpoint& metrics, output::SinkSet& sinks, pipeline::Pipeline& pipe,
                   const std::vector<output::AttachmentInfo>& attachments, uint64_t start_ns) {
  metrics.set_sink_stats([&sinks] {
    std::vector<metrics::SinkStats> out;
    for (const auto& s : sinks.stats()) out.push_back({s.name, s.queued_bytes, s.dropped_full});
    return out;
  });
  metrics.start(attachments);
  metrics.publish(pipe, start_ns, true);
}

// What --auto-diagnose did, said once at the end.
void auto_notice(const diagnose::AutoRunner& autod) {
  const auto& c = autod.counters();
  std::cerr << "rsthop: auto-diagnose: " << c.started << " diagnose(s) started; triggers held back: " << c.cooldown
            << " by the cool-down, " << c.busy << " while another ran, " << c.global_budget
            << " by the global budget\n";
}

// The runner of --auto-diagnose (null when off), judging as the trace's pipeline does.
// Its route lookup is its own: route_traced_fn's cache is not shared across threads.
std::unique_ptr<diagnose::AutoRunner> auto_runner(std::optional<diagnose::AutoRunner::Config> cfg,
                                                  const pipeline::Pipeline::Options& po, const output::Context& ctx,
                                                  const std::vector<std::string>& traced) {
  if (!cfg) return nullptr;
  cfg->registry = po.registry;
  cfg->local_events = po.engine.local_events;
  cfg->route_traced = route_traced_fn(traced);
  cfg->ctx = ctx;
  cfg->ctx.interface_name = {};  // its cache belongs to the consumer thread; verdict lines name no interface
  cfg->ctx.cgroup = {};          // so does the cgroup resolver; verdict lines name no cgroup
  return std::make_unique<diagnose::AutoRunner>(std::move(*cfg));
}

// Each reset and verdict to the metrics, the evidence file and the auto-diagnose trigger; each flow to the trigger.
void set_hooks(pipeline::Pipeline& pipe, MetricsEndpoint* metrics, LiveEvidence* evidence,
               diagnose::AutoRunner* autod) {
  if (!evidence && !metrics && !autod) return;
  pipeline::Pipeline::Hooks h;
  h.on_reset = [=](const flow::ResetRecord& r, const attribution::Verdict& v) -> Result<void> {
    if (metrics) metrics->count(v);
    if (evidence) evidence->reset(r, pcap::verdict_label(attribution::name(v.origin), v.hop, v.confidence, v.summary));
    if (autod) autod->on_reset(r, v, monotonic_now_ns());
    return {};
  };
  if (autod) h.on_flow = [=](const flow::FlowSummary& f) { autod->on_flow(f, monotonic_now_ns()); };
  pipe.set_hooks(std::move(h));
}

// --auto-diagnose's settings, checked before anything is opened.
Result<std::optional<diagnose::AutoRunner::Config>> auto_config(const TraceOptions& opt, const Volume& volume) {
  if (!opt.auto_diagnose.enabled) return std::optional<diagnose::AutoRunner::Config>();
  if (!volume.events.has(pipeline::EventType::verdict))
    return make_error("--auto-diagnose writes `verdict` lines: add verdict to --events");
  auto c = auto_runner_config(opt.auto_diagnose);
  if (!c) return c.error();
  return std::optional<diagnose::AutoRunner::Config>(std::move(c.value()));
}

// Found while root: mountinfo may not be readable once the privileges are dropped.
CgroupResolver open_cgroups() {
  CgroupResolver r = CgroupResolver::open();
  if (r.root().empty())
    std::cerr << "rsthop: notice: no cgroup2 file system is mounted here: cgroups are reported by id only\n";
  return r;
}

}  // namespace

int run_trace(const TraceOptions& opt, const TraceReloader& reload) {
  kernel::set_libbpf_verbose(opt.verbose);
  auto volume = parse_volume(opt.volume);
  if (!volume) return fail(volume.error().message);
  auto auto_cfg = auto_config(opt, volume.value());
  if (!auto_cfg) return fail(auto_cfg.error().message);
  const auto parallel = parallel_load(std::getenv("RSTHOP_PARALLEL_LOAD"));
  if (!parallel) return fail(parallel.error().message, 2);
  auto config = capture_config(opt, parallel.value());
  if (!config) return fail(config.error().message);
  kernel::CaptureConfig cfg = std::move(config.value());

  // Open the outputs first: an unwritable path must fail before anything is attached.
  // Live: a slow output drops lines (counted) rather than stall the ring.
  auto outs = open_outputs(opt.output, opt.format, output::Overflow::drop);
  if (!outs) return fail(outs.error().message);
  output::Writer& writer = *outs->writer;
  const WallClock wall = WallClock::calibrate();
  std::unique_ptr<LiveEvidence> evidence;  // --pcap-out, opened before anything is attached too
  if (!opt.pcap_out.empty()) {
    auto e = LiveEvidence::create(opt.pcap_out, wall);
    if (!e) return fail(e.error().message);
    evidence = std::move(e.value());
    cfg.frames = true;
  }

  // --metrics listens now: a port in use fails before anything is attached,
  // and the socket is bound while the process still has its privileges.
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!opt.metrics.empty()) {
    auto m = MetricsEndpoint::listen(opt.metrics);
    if (!m) return fail(m.error().message);
    metrics = std::move(m.value());
  }

  CgroupResolver cgroups = open_cgroups();
  auto cap = kernel::Capture::open(cfg);
  if (!cap) return fail(cap.error().message);
  kernel::Capture& capture = *cap.value();
  if (evidence) capture.set_frame_handler([&](const kernel::FrameRecord& f) { evidence->frame(f); });
  auto attached = capture.attach();
  for (const auto& n : capture.notices()) std::cerr << "rsthop: notice: " << n << "\n";
  if (!attached) return fail(attached.error().message);  // ~Capture detaches what was attached
  // Attached: what follows (the ring, counters, outputs already open) needs no privileges.
  Needs needs = needs_after_attach(capture.attachments());
  needs.keep_uid = outs->reopens;
  if (auto r = drop_privileges(needs); !r) return fail(r.error().message);
  outs->start();  // the outputs' threads, born without privileges
  install_stop_handlers();
  install_hangup_handler();
  Service service(reload);
  std::vector<output::AttachmentInfo> attachments;
  for (const auto& a : capture.attachments()) attachments.push_back({a.interface, a.hook, a.mode, a.fallback});
  if (metrics) std::cerr << "rsthop: metrics on http://" << metrics->bound() << "/metrics\n";
  {
    std::string what;
    for (const auto& a : capture.attachments()) what += " " + a.interface + ":" + a.hook + "(" + a.mode + ")";
    std::cerr << "rsthop: tracing" << what << "; Ctrl-C to stop\n";
    service.ready("tracing" + what);
  }

  output::Context ctx{host_name(), wall, if_name_cache(), opt.community_id_seed, own_netns_inode()};
  ctx.cgroup = [&cgroups](uint64_t id) { return cgroups.lookup(id); };
  auto registry = oui::Registry::load();
  if (!registry) std::cerr << "rsthop: notice: " << registry.error().message << "\n";
  pipeline::Pipeline::Options po;
  po.engine.local_events = capture.local_events();
  std::vector<std::string> traced;
  for (const auto& a : capture.attachments()) traced.push_back(a.interface);
  po.engine.route_traced = route_traced_fn(traced);
  po.registry = registry ? &registry.value() : nullptr;
  po.packet_lines = opt.packets;
  po.sink_stats = true;
  po.start_ns = monotonic_now_ns();
  po.stats_every_ns = static_cast<uint64_t>(opt.stats_interval_s * 1e9);
  po.attachments = attachments;
  apply_volume(volume.value(), po);
  pipeline::Pipeline pipe(
      po, &writer, ctx, [&](const rh_flow_key& k) { return capture.lookup_flow(k); },
      [&] {
        return pipeline::Counters{capture.counters(), capture.malformed_records()};
      });
  auto autod = auto_runner(std::move(auto_cfg.value()), po, ctx, traced);  // its threads are born after the drop
  set_hooks(pipe, metrics.get(), evidence.get(), autod.get());
  if (metrics) start_metrics(*metrics, *outs->sinks, pipe, attachments, po.start_ns);
  int rc = trace_loop(opt, capture, pipe, evidence.get(), *outs->sinks, metrics.get(), po.start_ns, wall, service,
                      autod.get());
  if (autod) auto_notice(*autod);
  if (!po.loss_lines && pipe.lost_total())  // --events without lost: said here, and in the final stats line
    std::cerr << "rsthop: notice: " << pipe.lost_total() << " events were lost (no `lost` lines: --events)\n";
  if (auto c = evidence ? evidence->close() : Result<void>(); pipe.ok() && !c) return fail(c.error().message);
  Result<void> status = pipe.ok() ? outs->close() : pipe.status();
  // A reader that went away (`rsthop trace | head`) ends the run as tcpdump's does: detached, quietly.
  if (!status && status.error().code == EPIPE && outs->only_stdout) return rc;
  if (!status) return fail(status.error().message);
  return rc;
}

}  // namespace rsthop::cli
