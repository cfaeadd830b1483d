#include "cli/analyze.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "common/clock.h"
#include "attribution/engine.h"
#include "pcap/evidence.h"
#include "output/event.h"
#include "pcap/reader.h"
#include "cli/report.h"
#include "output/sink.h"
#include "flow/timeline.h"
#include "pcap/tracker.h"

namespace rsthop::cli {
namespace {

int fail(const std::string& msg) {
  std::cerr << "rsthop: " << msg << "\n";
  return 1;
}

// "\rrsthop: FILE: N frames" on a terminal, at most four times a second.
class Progress {
 public:
  Progress() : on_(isatty(STDERR_FILENO) != 0) {}
  void update(const std::string& name, uint64_t frames) {
    if (!on_ || (frames & 1023) != 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    std::fprintf(stderr, "\rrsthop: %s: %llu frames\033[K", name.c_str(), static_cast<unsigned long long>(frames));
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Everything one run shares across its files.
struct Run {
  const AnalyzeOptions& opt;
  pcap::Tracker::Options track;
  output::Writer& writer;
  const output::Context& ctx;
  attribution::Engine& engine;
  output::UserspaceCounters uc;
  output::KernelCounters kernel{};
  LossReporter losses;
  Result<void> write_status;
  Progress progress;
  uint64_t first_ts = 0, last_ts = 0;
  pcap::Evidence* evidence = nullptr;  // --pcap-out

  template <typename Build>
  void emit(Build&& build) {
    if (write_status) write_status = writer.emit(build);
  }
};

// One file on its own: its own flow table and timeline (flows do not
// continue across files), ended at the file's last capture time.  Returns
// false when the file could not be opened or read to its end.
bool analyze_file(Run& run, const std::string& path) {
  auto opened = pcap::Reader::open(path, run.opt.filter);
  if (!opened) {
    std::cerr << "rsthop: " << opened.error().message << "\n";
    return false;
  }
  pcap::Reader& reader = *opened.value();
  pcap::Tracker tracker(run.track);
  flow::Timeline::Options topt;
  topt.max_flows = run.opt.max_flows;
  flow::Timeline timeline(
      topt,
      {[&](const flow::FlowSummary& f) {
         run.uc.flows_emitted++;
         run.emit([&](std::string& l) { output::append_flow_line(l, run.ctx, f); });
       },
       [&](const flow::ResetRecord& r) {
         run.uc.resets_emitted++;
         attribution::Verdict v = run.engine.classify(r);
         run.emit([&](std::string& l) { output::append_reset_line(l, run.ctx, r, &v); });
         if (run.evidence && run.write_status)
           run.write_status = run.evidence->write(r, pcap::verdict_label(attribution::name(v.origin), v.hop, v.confidence, v.summary));
       }},
      tracker.state_lookup());

  const int dlt = reader.linktype();
  if (run.evidence && run.write_status) run.write_status = run.evidence->begin_file(path, dlt);
  uint64_t now = 0, next_tick = 0;
  bool ok = true;
  pcap::Record rec;
  for (;;) {
    auto n = reader.next(rec);
    if (n == pcap::Reader::Next::end) break;
    if (n == pcap::Reader::Next::error) {
      // libpcap cannot resynchronise after a bad record: the rest of the file is lost.
      std::cerr << "rsthop: " << reader.name() << ": packet " << rec.frame + 1 << ": " << reader.error()
                << "; stopping this file\n";
      run.uc.parse_errors++;
      ok = false;
      break;
    }
    run.progress.update(reader.name(), rec.frame);
    if (!run.first_ts || rec.ts_ns < run.first_ts) run.first_ts = rec.ts_ns;
    now = std::max(now, rec.ts_ns);  // the timeline's clock never runs backwards
    if (!rec.matched) {
      tracker.count_unparsed(RH_C_FILTERED);
      continue;
    }
    pcap::L3Start l3 = pcap::link_l3(dlt, rec.bytes);
    if (l3.cause) {
      tracker.count_unparsed(l3.cause);
      continue;
    }
    if (run.evidence) run.evidence->add(rec.bytes, rec.wire_len, rec.ts_ns, rec.frame, l3.offset, l3.has_l2);
    pcap::FrameInfo info{rec.ts_ns, RH_HOOK_PCAP, 0, l3.has_l2, 1, rec.frame};
    if (auto p = tracker.feed(rec.bytes.subspan(l3.offset), info)) {
      p->file = path;
      run.uc.events_received++;
      run.engine.observe(*p);
      timeline.add(*p);
    }
    if (now >= next_tick) {
      timeline.tick(now);
      next_tick = now + 1'000'000'000ULL;
    }
    if (!run.write_status) break;
  }
  run.progress.clear();
  timeline.finish(now);
  run.last_ts = std::max(run.last_ts, now);
  for (int i = 0; i < RH_C_MAX; i++) run.kernel[static_cast<size_t>(i)] += tracker.counters().c[i];
  run.uc.flows_evicted_userspace += timeline.evicted();
  if (run.write_status)
    run.write_status = run.losses.report(run.writer, run.ctx, now, run.kernel, run.uc.parse_errors);
  if (run.write_status) run.write_status = run.writer.flush();
  return ok;
}

}  // namespace

int run_analyze(const AnalyzeOptions& opt) {
  pcap::Tracker::Options track;
  for (const auto& h : opt.hosts) {
    auto c = parse_cidr(h);
    if (!c) return fail(c.error().message);
    track.filter.hosts.push_back(*c);
  }
  if (track.filter.hosts.size() > RH_MAX_CIDRS)
    return fail("at most " + std::to_string(RH_MAX_CIDRS) + " --host entries");
  track.filter.ports = opt.ports;
  track.max_flows = opt.max_flows;
  if (std::count(opt.files.begin(), opt.files.end(), "-") > 1) return fail("standard input ('-') can be read once");

  auto sink = opt.output == "-" ? Result<std::unique_ptr<output::Sink>>(std::make_unique<output::StdoutSink>())
                                : output::FileSink::open(opt.output);
  if (!sink) return fail(sink.error().message);
  bool text = opt.format == "text" || (opt.format.empty() && opt.output == "-" && isatty(STDOUT_FILENO));
  output::Writer writer(std::move(sink.value()), text ? output::Format::text : output::Format::json);

  // Events carry Unix ns (the capture's clock): the wall clock's offset is 0.
  output::Context ctx{host_name(), WallClock::fixed(0), {}};
  auto registry = oui::Registry::load();
  if (!registry) std::cerr << "rsthop: notice: " << registry.error().message << "\n";
  // A capture has no tracepoints: the absence of a local event means nothing.
  attribution::Engine engine({.local_events = false}, registry ? &registry.value() : nullptr);

  Run run{opt, track, writer, ctx, engine, {}, {}, {}, {}, {}};
  std::optional<pcap::Evidence> evidence;
  if (!opt.pcap_out.empty()) {
    auto ev = pcap::Evidence::create(opt.pcap_out);
    if (!ev) return fail(ev.error().message);
    evidence.emplace(std::move(ev.value()));
    run.evidence = &*evidence;
  }
  int rc = 0;
  for (const auto& f : opt.files) {
    if (!analyze_file(run, f)) rc = 1;
    if (!run.write_status) break;
  }
  double span = run.last_ts > run.first_ts ? (run.last_ts - run.first_ts) / 1e9 : 0;
  run.emit([&](std::string& l) {
    output::append_stats_line(l, ctx, run.last_ts, run.kernel, run.uc, span, true);
  });
  if (run.write_status) run.write_status = writer.flush();
  if (evidence) {
    if (auto c = evidence->close(); run.write_status && !c) run.write_status = c;
    if (const auto& es = evidence->stats(); es.flows_evicted || es.frames_dropped)
      std::cerr << "rsthop: notice: --pcap-out: " << es.frames_dropped << " frames of " << es.flows_evicted
                << " flows did not fit in memory and are missing from " << opt.pcap_out << "\n";
  }
  if (!run.write_status) return fail(run.write_status.error().message);
  return rc;
}

}  // namespace rsthop::cli
