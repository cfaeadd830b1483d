#include "cli/analyze.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "cli/analyze_held.h"
#include "cli/outputs.h"
#include "cli/report.h"
#include "common/clock.h"
#include "common/out_file.h"
#include "diagnose/captured_ladder.h"
#include "diagnose/lines.h"
#include "output/event.h"
#include "output/sink.h"
#include "pcap/evidence.h"
#include "pcap/reader.h"
#include "pcap/step_scan.h"
#include "pcap/tracker.h"
#include "pipeline/pipeline.h"

namespace rsthop::cli {
namespace {

int fail(const std::string& msg, int rc = 1) {
  std::cerr << "rsthop: " << msg << "\n";
  return rc;
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
  pipeline::Pipeline* pipe = nullptr;
  pipeline::Counters counters;  // the files' Trackers, summed as each file ends; reader errors
  Progress progress;
  uint64_t first_ts = 0, last_ts = 0;
  pcap::Evidence* evidence = nullptr;  // --pcap-out
  Result<void> evidence_status;        // its first error ends the run, as a write error does
  bool quiet = false;                  // the ladder pass: the line pass reports the files' errors
  int opened = 0;                      // files that could be opened
  // The line pass that also scans for ladders (one_read()): the scan, fed by the Tracker, the held output,
  // the errors held with it (written only if the pass stands), and whether it was given up.
  pcap::StepScan* scan = nullptr;
  const HeldSink* held = nullptr;
  std::string* notes = nullptr;
  bool given_up = false;
};

// A file's error, to standard error now, or held with the held output.
void note(Run& run, const std::string& line) {
  if (run.quiet) return;
  if (run.notes)
    run.notes->append("rsthop: " + line + "\n");
  else
    std::cerr << "rsthop: " << line << "\n";
}

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

void say_waiting(const std::string& message) { std::cerr << "rsthop: " << message << "\n"; }

// Standard input and FIFOs cannot be read twice (the ladder pass and the line pass).
bool rereadable(const std::string& path) {
  struct stat st {};
  return path != "-" && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// One file on its own: its own flow table and timeline (flows do not
// continue across files), ended at the file's last capture time.  Returns
// false when the file could not be opened or read to its end.
bool analyze_file(Run& run, const std::string& path) {
  auto opened = pcap::Reader::open(path, run.opt.filter, say_waiting);
  if (!opened) {
    note(run, opened.error().message);
    return false;
  }
  run.opened++;
  pcap::Reader& reader = *opened.value();
  pcap::Tracker tracker(run.track);
  tracker.set_scan(run.scan);  // the segments its filter lets through: the ladder pass's pipeline sees no other
  pipeline::Pipeline& pipe = *run.pipe;
  pipe.restart(tracker.state_lookup());
  const int dlt = reader.linktype();
  if (run.evidence) run.evidence_status = run.evidence->begin_file(path, dlt);
  // In locals: the loop's calls would otherwise make it load each of them from `run` again per packet.
  pcap::Evidence* const evidence = run.evidence;
  const bool evidence_ok = run.evidence_status.ok();  // nothing in the loop changes it
  pcap::StepScan* const scan = run.scan;
  uint64_t now = 0;
  bool ok = true;
  pcap::Record rec;
  for (;;) {
    auto n = reader.next(rec);
    if (n == pcap::Reader::Next::end) break;
    if (n == pcap::Reader::Next::error) {
      // libpcap cannot resynchronise after a bad record: the rest of the file is lost.
      note(run, reader.name() + ": packet " + std::to_string(rec.frame + 1) + ": " + reader.error() +
                    "; stopping this file");
      run.counters.malformed++;
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
    if (evidence) evidence->add(rec.bytes, rec.wire_len, rec.ts_ns, rec.frame, l3.offset, l3.has_l2);
    pcap::FrameInfo info{rec.ts_ns, RH_HOOK_PCAP, 0, l3.has_l2, 1, rec.frame};
    if (auto p = tracker.feed(rec.bytes.subspan(l3.offset), info)) {
      p->file = path;
      pipe.add(*p);
    }
    pipe.advance(now);
    if (!pipe.ok() || !evidence_ok) break;
    // Every 1024th frame, and at the end: the lines of a pass given up up to 1023 frames late are dropped all the same.
    if (scan && (rec.frame & 1023) == 0 && (scan->maybe() || run.held->over())) [[unlikely]]
      break;
  }
  if (scan && (scan->maybe() || run.held->over())) run.given_up = true;
  run.progress.clear();
  if (run.given_up) return ok;  // its lines are dropped: the file is read again
  pipe.finish_flows(now);
  run.last_ts = std::max(run.last_ts, now);
  for (int i = 0; i < RH_C_MAX; i++) run.counters.kernel[static_cast<size_t>(i)] += tracker.counters().c[i];
  pipe.report_losses(now);
  pipe.flush();
  return ok;
}

// Whether the ladder pass can find a ladder in the files it would read (the rereadable ones): a scan of the
// frames alone, a fraction of a pipeline's work (pcap/step_scan.h).  Unreadable files and records are the
// ladder pass's to skip as well.
bool may_hold_ladders(const AnalyzeOptions& opt) {
  pcap::StepScan scan;
  pcap::Record rec;
  for (const auto& f : opt.files) {
    if (!rereadable(f)) continue;
    auto opened = pcap::Reader::open(f, opt.filter);
    if (!opened) continue;
    pcap::Reader& reader = *opened.value();
    const int dlt = reader.linktype();
    while (!scan.maybe() && reader.next(rec) == pcap::Reader::Next::record) {
      if (!rec.matched) continue;
      pcap::L3Start l3 = pcap::link_l3(dlt, rec.bytes);
      if (!l3.cause) scan.add(rec.bytes.subspan(l3.offset), l3.has_l2);
    }
    if (scan.maybe()) return true;
  }
  return false;
}

// The ladder pass, before any line is written (hop and verdict lines come first): every file through a
// pipeline of its own that writes nothing and hands its packets and judged resets to the recogniser.
// Standard input cannot be read twice: its ladders are not looked for.  False when --control failed.
bool find_ladders(const AnalyzeOptions& opt, const pcap::Tracker::Options& track, pipeline::Pipeline::Options po,
                  diagnose::LadderRecogniser& rec) {
  // Without --control, only trigger steps in the files make ladders: none possible, no pass.
  if (opt.control.empty() && !may_hold_ladders(opt)) return true;
  po.flow_lines = po.reset_lines = po.loss_lines = false;
  po.incident_interval_ns = 0;
  auto pass = [&](const std::vector<std::string>& files, bool control) {
    Run run{opt, track};
    run.quiet = !control;
    pipeline::Pipeline pipe(po, nullptr, output::Context{});
    pipe.set_hooks({.on_reset =
                        [&](const flow::ResetRecord& r, const attribution::Verdict& v) {
                          rec.add_reset(r, v, control);
                          return Result<void>();
                        },
                    .on_packet = [&](const flow::Packet& p) { rec.add(p, control); }});
    run.pipe = &pipe;
    bool ok = true;
    for (const auto& f : files)
      if (control || rereadable(f)) ok = analyze_file(run, f) && ok;
    return ok;
  };
  pass(opt.files, false);
  return opt.control.empty() || pass({opt.control}, true);
}

// One destination's hop lines (syn, trigger, control) and its verdict line, as `rsthop diagnose` writes them.
Result<void> write_ladder(output::Writer& writer, const output::Context& ctx, const diagnose::CapturedLadder& l) {
  const probe::Target& t = l.inputs.target;
  for (const auto& h : l.hops)
    if (auto r = writer.emit([&](std::string& line) {
          diagnose::append_hop_line(line, ctx, h.ts_ns, t, h.ladder, h.ttl, h.result, h.from, h.ms);
        });
        !r)
      return r;
  const diagnose::Verdict v = diagnose::fuse(l.inputs);
  return writer.emit([&](std::string& line) { diagnose::append_verdict_line(line, ctx, l.ts_ns, t, l.name, v); });
}

// Every file through the run's pipeline, in order; 1 when one could not be opened or read to its end.
int read_files(Run& run, pipeline::Pipeline& pipe) {
  int rc = 0;
  for (const auto& f : run.opt.files) {
    if (!analyze_file(run, f)) rc = 1;
    if (!pipe.ok() || !run.evidence_status || run.given_up) break;
  }
  return rc;
}

// Whether the ladder scan can ride on the line pass (one read of each file, the lines held until the
// scan ends): only when that pass can be given up and run again (every file rereadable) and is all
// there is to redo (no --control ladder pass, no --pcap-out written as it goes).
bool one_read(const AnalyzeOptions& opt) {
  return opt.control.empty() && opt.pcap_out.empty() && !opt.files.empty() &&
         std::all_of(opt.files.begin(), opt.files.end(), rereadable);
}

// The Trackers' --host, --port and --max-flows.
Result<pcap::Tracker::Options> tracker_options(const AnalyzeOptions& opt) {
  pcap::Tracker::Options track;
  for (const auto& h : opt.hosts) {
    auto c = parse_cidr(h);
    if (!c) return c.error();
    track.filter.hosts.push_back(*c);
  }
  if (track.filter.hosts.size() > RH_MAX_CIDRS)
    return make_error("at most " + std::to_string(RH_MAX_CIDRS) + " --host entries");
  track.filter.ports = opt.ports;
  track.max_flows = opt.max_flows;
  return track;
}

// The end of the run: incidents, the stats line, the outputs closed; the exit code.
// `held`: the held lines' release, whose error, as a write error does, ends the run.
int finish_run(const AnalyzeOptions& opt, Outputs& outs, Run& run, pipeline::Pipeline& pipe,
               std::optional<pcap::Evidence>& evidence, int rc, const Result<void>& held) {
  double span = run.last_ts > run.first_ts ? (run.last_ts - run.first_ts) / 1e9 : 0;
  // Stamped with the capture's last time; now when no record was read (not 1970).  No file
  // opened, nothing analyzed: no stats line.
  pipe.flush_incidents(run.last_ts);
  if (run.opened) pipe.write_stats(run.last_ts ? run.last_ts : unix_now_ns(), span, true);
  pipe.flush();
  Result<void> status = !held ? held : pipe.ok() ? run.evidence_status : pipe.status();
  if (auto c = outs.close(); status && !c) status = c;
  if (evidence) {
    if (auto c = evidence->close(); status && !c) status = c;
    if (const auto& es = evidence->stats(); es.flows_evicted || es.frames_dropped)
      std::cerr << "rsthop: notice: --pcap-out: " << es.frames_dropped << " frames of " << es.flows_evicted
                << " flows did not fit in memory and are missing from " << opt.pcap_out << "\n";
  }
  if (!status) return fail(status.error().message);
  return rc;
}

}  // namespace

int run_analyze(const AnalyzeOptions& opt) {
  auto volume = parse_volume(opt.volume);
  if (!volume) return fail(volume.error().message);
  auto tracking = tracker_options(opt);
  if (!tracking) return fail(tracking.error().message);
  const pcap::Tracker::Options& track = tracking.value();
  if (std::count(opt.files.begin(), opt.files.end(), "-") > 1) return fail("standard input ('-') can be read once");
  // Once, before any file: a bad expression is bad usage, not a fault of each file.
  if (auto f = pcap::check_filter(opt.filter); !f) return fail(f.error().message, 2);
  if (!opt.control.empty()) {
    if (opt.control == "-") return fail("--control: give a file (standard input is not read for controls)");
    if (auto c = pcap::Reader::open(opt.control, opt.filter); !c) return fail("--control: " + c.error().message);
  }
  // --pcap-out truncates; -o appends, to a capture it is still reading: both are refused.
  for (const auto& path : output_files(opt.output))
    if (auto r = refuse_output_as_input("-o", path, opt.files); !r) return fail(r.error().message);
  if (auto r = refuse_output_as_input("--pcap-out", opt.pcap_out, opt.files); !r) return fail(r.error().message);

  // Offline nothing is dropped: a slow output is waited for (a dead one is not).
  auto outs = open_outputs(opt.output, opt.format, output::Overflow::wait);
  if (!outs) return fail(outs.error().message);
  outs->start();  // analyze drops no privileges: its outputs start at once
  output::Writer& writer = *outs->writer;

  // Events carry Unix ns (the capture's clock): the wall clock's offset is 0.
  output::Context ctx{host_name(), WallClock::fixed(0), {}, opt.community_id_seed};
  auto registry = oui::Registry::load();
  if (!registry) std::cerr << "rsthop: notice: " << registry.error().message << "\n";
  // A capture has no tracepoints: the absence of a local event means nothing.
  pipeline::Pipeline::Options po;
  po.engine.local_events = false;
  po.registry = registry ? &registry.value() : nullptr;
  po.timeline.max_flows = opt.max_flows;
  apply_volume(volume.value(), po);
  std::optional<pcap::Evidence> evidence;
  // The pipeline that writes the lines, and its run: the one-read pass's when it stands, else the second pass's.
  std::optional<Run> run;
  std::optional<pipeline::Pipeline> pipe;
  auto new_pass = [&](output::Writer& w) {
    run.emplace(Run{opt, track});
    pipe.emplace(po, &w, ctx, flow::Timeline::StateLookup{}, [&run] { return run->counters; });
    run->pipe = &*pipe;
  };
  std::optional<output::Writer> held_writer;  // over a HeldSink: the one-read pass's lines until they stand
  Result<void> released;                      // their release to the real sinks
  int rc = 0;
  if (one_read(opt)) {
    auto sink = std::make_unique<HeldSink>(*outs->sinks);
    HeldSink& held = *sink;
    held_writer.emplace(std::move(sink), outs->text ? output::Format::text : output::Format::json);
    new_pass(*held_writer);
    pcap::StepScan scan;
    std::string notes;
    run->scan = &scan;
    run->held = &held;
    run->notes = &notes;
    rc = read_files(*run, *pipe);
    run->scan = nullptr;
    run->notes = nullptr;
    if (!run->given_up) {
      std::cerr << notes;
      released = held.release();
    } else {  // a step found (the ladder pass must run first), or the held lines passed the bound
      pipe.reset();
      run.reset();
      held_writer.reset();
    }
  }
  if (!pipe) {
    bool control_ok = true;  // a --control file that could not be read to its end fails the run, as a file does
    {
      diagnose::LadderRecogniser rec({.registry = po.registry});
      control_ok = find_ladders(opt, track, po, rec);
      const bool verdicts = volume->events.has(pipeline::EventType::verdict);  // hop lines go with them
      for (const auto& l : verdicts ? rec.ladders() : std::vector<diagnose::CapturedLadder>{})
        if (auto r = write_ladder(writer, ctx, l); !r) return fail(r.error().message);
    }
    new_pass(writer);
    if (!opt.pcap_out.empty()) {
      auto ev = pcap::Evidence::create(opt.pcap_out);
      if (!ev) return fail(ev.error().message);
      evidence.emplace(std::move(ev.value()));
      run->evidence = &*evidence;
      pipe->set_hooks({.on_reset = [&](const flow::ResetRecord& r, const attribution::Verdict& v) {
        return evidence->write(r, pcap::verdict_label(attribution::name(v.origin), v.hop, v.confidence, v.summary));
      }});
    }
    rc = read_files(*run, *pipe);
    if (!control_ok) rc = 1;
  }
  return finish_run(opt, outs.value(), *run, *pipe, evidence, rc, released);
}

}  // namespace rsthop::cli
