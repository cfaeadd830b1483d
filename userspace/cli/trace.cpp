#include "cli/trace.h"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "cli/live_evidence.h"
#include "cli/report.h"
#include "cli/route_traced.h"
#include "cli/stop_signals.h"
#include "common/clock.h"
#include "common/clock_discipline.h"
#include "common/netns.h"
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

int fail(const std::string& msg) {
  std::cerr << "rsthop: " << msg << "\n";
  return 1;
}

// Polls until the duration ends, a stop signal or an error, then detaches and
// drains what is left.  Returns the exit code of capture errors; write errors stay in `pipe`.
int trace_loop(const TraceOptions& opt, kernel::Capture& capture, pipeline::Pipeline& pipe, LiveEvidence* evidence,
               uint64_t start, const WallClock& wall) {
  const uint64_t deadline = opt.duration_s > 0 ? start + static_cast<uint64_t>(opt.duration_s * 1e9) : 0;
  kernel::Capture::Handler handler = [&](const flow::Packet& p) { pipe.add(p); };
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
    int wait_ms = 100;
    if (deadline) wait_ms = static_cast<int>(std::min<uint64_t>(100, (deadline - now) / 1'000'000 + 1));
    if (auto r = capture.poll(wait_ms, handler); !r) {
      std::cerr << "rsthop: " << r.error().message << "\n";
      rc = 1;
      break;
    }
    pipe.advance(monotonic_now_ns());
    pipe.flush();  // the batch this poll produced
    if (evidence && pipe.ok()) evidence_status = evidence->flush();
  }
  // Detach first so the counters and the ring stop moving, then drain.
  capture.detach();
  if (auto d = capture.drain(handler); !d) {
    std::cerr << "rsthop: " << d.error().message << "\n";
    rc = 1;
  }
  uint64_t now = monotonic_now_ns();
  pipe.finish(now, (now - start) / 1e9);
  return rc;  // a failed evidence flush is sticky: LiveEvidence::close() reports it
}

}  // namespace

int run_trace(const TraceOptions& opt) {
  kernel::set_libbpf_verbose(opt.verbose);
  auto volume = parse_volume(opt.volume);
  if (!volume) return fail(volume.error().message);
  kernel::CaptureConfig cfg;
  auto interfaces = kernel::expand_any(opt.interfaces);  // -i any: every interface that is up now
  if (!interfaces) return fail(interfaces.error().message);
  cfg.interfaces = interfaces.value();
  cfg.xdp = opt.xdp == "off"       ? kernel::XdpMode::off
            : opt.xdp == "generic" ? kernel::XdpMode::generic
                                   : kernel::XdpMode::native;
  for (const auto& h : opt.hosts) {
    auto c = parse_cidr(h);
    if (!c) return fail(c.error().message);
    cfg.hosts.push_back(*c);
  }
  cfg.ports = opt.ports;
  cfg.ring_bytes = opt.ring_mb << 20;
  cfg.max_flows = opt.max_flows;
  cfg.clsact = opt.tc == "clsact";

  // Open the output first: an unwritable path must fail before anything is attached.
  auto sink = opt.output == "-" ? Result<std::unique_ptr<output::Sink>>(std::make_unique<output::StdoutSink>())
                                : output::FileSink::open(opt.output);
  if (!sink) return fail(sink.error().message);
  bool text = opt.format == "text" || (opt.format.empty() && opt.output == "-" && isatty(STDOUT_FILENO));
  output::Writer writer(std::move(sink.value()), text ? output::Format::text : output::Format::json);
  const WallClock wall = WallClock::calibrate();
  std::unique_ptr<LiveEvidence> evidence;  // --pcap-out, opened before anything is attached too
  if (!opt.pcap_out.empty()) {
    auto e = LiveEvidence::create(opt.pcap_out, wall);
    if (!e) return fail(e.error().message);
    evidence = std::move(e.value());
    cfg.frames = true;
  }

  auto cap = kernel::Capture::open(cfg);
  if (!cap) return fail(cap.error().message);
  kernel::Capture& capture = *cap.value();
  if (evidence) capture.set_frame_handler([&](const kernel::FrameRecord& f) { evidence->frame(f); });
  for (const auto& n : capture.notices()) std::cerr << "rsthop: notice: " << n << "\n";
  if (auto r = capture.attach(); !r) return fail(r.error().message);  // ~Capture detaches what was attached
  install_stop_handlers();
  {
    std::string what;
    for (const auto& a : capture.attachments()) what += " " + a.interface + ":" + a.hook + "(" + a.mode + ")";
    std::cerr << "rsthop: tracing" << what << "; Ctrl-C to stop\n";
  }

  output::Context ctx{host_name(), wall, if_name_cache(), own_netns_inode()};
  auto registry = oui::Registry::load();
  if (!registry) std::cerr << "rsthop: notice: " << registry.error().message << "\n";
  pipeline::Pipeline::Options po;
  po.engine.local_events = capture.local_events();
  std::vector<std::string> traced;
  for (const auto& a : capture.attachments()) traced.push_back(a.interface);
  po.engine.route_traced = route_traced_fn(traced);
  po.registry = registry ? &registry.value() : nullptr;
  po.packet_lines = opt.packets;
  po.start_ns = monotonic_now_ns();
  po.stats_every_ns = static_cast<uint64_t>(opt.stats_interval_s * 1e9);
  apply_volume(volume.value(), po);
  pipeline::Pipeline pipe(
      po, &writer, ctx, [&](const rh_flow_key& k) { return capture.lookup_flow(k); },
      [&] {
        return pipeline::Counters{capture.counters(), capture.malformed_records()};
      });
  if (evidence)
    pipe.set_hooks({.on_reset = [&](const flow::ResetRecord& r, const attribution::Verdict& v) -> Result<void> {
      evidence->reset(r, pcap::verdict_label(attribution::name(v.origin), v.hop, v.confidence, v.summary));
      return {};
    }});
  int rc = trace_loop(opt, capture, pipe, evidence.get(), po.start_ns, wall);
  if (!po.loss_lines && pipe.lost_total())  // --events without lost: said here, and in the final stats line
    std::cerr << "rsthop: notice: " << pipe.lost_total() << " events were lost (no `lost` lines: --events)\n";
  if (auto c = evidence ? evidence->close() : Result<void>(); pipe.ok() && !c) return fail(c.error().message);
  // A reader that went away (`rsthop trace | head`) ends the run as tcpdump's does: detached, quietly.
  if (!pipe.ok() && pipe.status().error().code == EPIPE && opt.output == "-") return rc;
  if (!pipe.ok()) return fail(pipe.status().error().message);
  return rc;
}

}  // namespace rsthop::cli
