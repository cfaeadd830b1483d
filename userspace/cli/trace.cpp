#include "cli/trace.h"

#include <net/if.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "kernel/capture.h"
#include "common/clock.h"
#include "attribution/engine.h"
#include "cli/live_evidence.h"
#include "output/event.h"
#include "output/names.h"
#include "cli/report.h"
#include "cli/route_traced.h"
#include "cli/stop_signals.h"
#include "output/sink.h"
#include "flow/timeline.h"

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

int fail(const std::string& msg) {
  std::cerr << "rsthop: " << msg << "\n";
  return 1;
}

}  // namespace

int run_trace(const TraceOptions& opt) {
  kernel::set_libbpf_verbose(opt.verbose);
  kernel::CaptureConfig cfg;
  cfg.interfaces = opt.interfaces;
  cfg.xdp = opt.xdp == "off" ? kernel::XdpMode::off
            : opt.xdp == "generic" ? kernel::XdpMode::generic : kernel::XdpMode::native;
  for (const auto& h : opt.hosts) {
    auto c = parse_cidr(h);
    if (!c) return fail(c.error().message);
    cfg.hosts.push_back(*c);
  }
  cfg.ports = opt.ports;
  cfg.ring_bytes = opt.ring_mb << 20;
  cfg.max_flows = opt.max_flows;
  cfg.verbose = opt.verbose;
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

  output::Context ctx{host_name(), wall, if_name_cache()};
  auto registry = oui::Registry::load();
  if (!registry) std::cerr << "rsthop: notice: " << registry.error().message << "\n";
  std::vector<std::string> traced;
  for (const auto& a : capture.attachments()) traced.push_back(a.interface);
  attribution::Engine engine({.local_events = capture.local_events(), .route_traced = route_traced_fn(traced)},
                             registry ? &registry.value() : nullptr);
  output::UserspaceCounters uc;
  Result<void> write_status;
  // build(line) appends one JSON document; see output::Writer::emit.
  auto emit = [&](auto&& build) {
    if (!write_status) return;
    write_status = writer.emit(build);
  };
  auto flush = [&] {
    if (write_status) write_status = writer.flush();
  };
  flow::Timeline timeline(
      {},
      {[&](const flow::FlowSummary& f) {
         uc.flows_emitted++;
         emit([&](std::string& l) { output::append_flow_line(l, ctx, f); });
       },
       [&](const flow::ResetRecord& r) {
         uc.resets_emitted++;
         attribution::Verdict v = engine.classify(r);
         emit([&](std::string& l) { output::append_reset_line(l, ctx, r, &v); });
         if (evidence) evidence->reset(r, pcap::verdict_label(v.origin, v.hops, v.confidence, v.summary));
       }},
      [&](const rh_flow_key& k) { return capture.lookup_flow(k); });
  kernel::Capture::Handler handler = [&](const flow::Packet& p) {
    uc.events_received++;
    if (opt.packets) emit([&](std::string& l) { output::append_packet_line(l, ctx, p); });
    engine.observe(p);
    timeline.add(p);
  };

  LossReporter losses;
  const uint64_t start = monotonic_now_ns();
  const uint64_t deadline = opt.duration_s > 0 ? start + static_cast<uint64_t>(opt.duration_s * 1e9) : 0;
  const uint64_t stats_every = static_cast<uint64_t>(opt.stats_interval_s * 1e9);
  uint64_t next_tick = start + 1'000'000'000ULL, next_stats = stats_every ? start + stats_every : 0;
  int rc = 0;
  while (!stop_requested() && write_status) {
    uint64_t now = monotonic_now_ns();
    if (deadline && now >= deadline) break;
    int wait_ms = 100;
    if (deadline) wait_ms = static_cast<int>(std::min<uint64_t>(100, (deadline - now) / 1'000'000 + 1));
    if (auto r = capture.poll(wait_ms, handler); !r) {
      std::cerr << "rsthop: " << r.error().message << "\n";
      rc = 1;
      break;
    }
    now = monotonic_now_ns();
    if (now >= next_tick) {
      next_tick = now + 1'000'000'000ULL;
      timeline.tick(now);
      uc.parse_errors = capture.malformed_records();
      uc.flows_evicted_userspace = timeline.evicted();
      if (auto r = losses.report(writer, ctx, now, capture.counters(), uc.parse_errors); !r) write_status = r;
    }
    if (next_stats && now >= next_stats) {
      next_stats = now + stats_every;
      auto k = capture.counters();
      emit([&](std::string& l) { output::append_stats_line(l, ctx, now, k, uc, (now - start) / 1e9, false); });
    }
    flush();  // the batch this poll produced
    if (evidence && write_status) write_status = evidence->flush();
  }

  // Detach first so the counters and the ring stop moving, then drain.
  capture.detach();
  (void)capture.drain(handler);
  uint64_t now = monotonic_now_ns();
  timeline.finish(now);
  auto k = capture.counters();
  uc.parse_errors = capture.malformed_records();
  uc.flows_evicted_userspace = timeline.evicted();
  if (write_status) {
    if (auto r = losses.report(writer, ctx, now, k, uc.parse_errors); !r) write_status = r;
  }
  emit([&](std::string& l) { output::append_stats_line(l, ctx, now, k, uc, (now - start) / 1e9, true); });
  flush();
  if (evidence) {
    if (auto c = evidence->close(); write_status && !c) write_status = c;
  }
  if (!write_status) return fail(write_status.error().message);
  return rc;
}

}  // namespace rsthop::cli
