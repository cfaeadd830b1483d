// The one road from events to lines that every command shares: flow::Packets
// in (Engine::observe, then the Timeline), and out, through one
// output::Writer, the `flow` lines, the `reset` lines with their verdict,
// `packet` lines (trace --packets), `lost` lines and `stats` lines.
//
// Contract: add() takes packets in roughly time order; advance(now) runs the
// schedule (a timeline tick, then a loss report, every `tick_ns`; a stats
// line every `stats_every_ns`); finish(now, elapsed) ends the run.  After the
// first failed write (or failed hook) nothing more is written and status()
// keeps that error: the caller stops and reports it.  `now` is whatever clock
// the packets carry (CLOCK_MONOTONIC live, capture time offline).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attribution/engine.h"
#include "common/result.h"
#include "flow/timeline.h"
#include "oui/oui.h"
#include "output/event.h"
#include "output/sink.h"
#include "pipeline/incidents.h"
#include "pipeline/losses.h"
#include "pipeline/volume.h"

namespace rsthop::pipeline {

// The loss counters behind the `lost` and `stats` lines.
struct Counters {
  output::KernelCounters kernel{};  // the kernel's, or the offline Tracker's
  uint64_t malformed = 0;           // records userspace could not read
};

class Pipeline {
 public:
  struct Options {
    flow::Timeline::Options timeline;
    attribution::Engine::Options engine;
    const oui::Registry* registry = nullptr;  // MAC vendors for the verdicts; may be null
    bool flow_lines = true;
    bool reset_lines = true;
    bool packet_lines = false;  // one line per event (trace --packets)
    bool loss_lines = true;     // `lost` lines (losses are counted in lost_total() either way)
    bool sink_stats = false;    // stats.sinks[]: each output's queue and drops (trace)
    uint64_t tick_ns = 1'000'000'000ULL;
    uint64_t start_ns = 0;        // first tick at start_ns + tick_ns; 0: at the first advance()
    uint64_t stats_every_ns = 0;  // periodic stats lines; 0: only the ones asked for
    // How the live capture is attached: stats.attachments[] of the first stats line.
    std::vector<output::AttachmentInfo> attachments;
    // Volume control (--origin, --min-confidence): resets the filter refuses
    // get no reset line and count in no incident (the hooks still see them).
    ResetFilter reset_filter;
    // --incidents: one `incident` line per destination and kind of reset
    // every incidents.interval_ns; 0: no aggregation.
    uint64_t incident_interval_ns = 0;
    size_t incident_max_destinations = 1024;
    size_t incident_max_groups = 4;  // per destination and interval
  };
  struct Hooks {
    // Each reset record with its verdict, after its line (evidence writers, diagnose).
    std::function<Result<void>(const flow::ResetRecord&, const attribution::Verdict&)> on_reset;
    // Each finished flow, whether or not flow lines are written (tests, parity checks).
    std::function<void(const flow::FlowSummary&)> on_flow;
    // Each packet, before the engine and the timeline see it.
    std::function<void(const flow::Packet&)> on_packet;
  };
  using CounterSource = std::function<Counters()>;

  // `writer` may be null: no lines at all (unit tests collect through the hooks).
  // `counters`, when set, is read at each loss report and stats line.
  Pipeline(Options opt, output::Writer* writer, output::Context ctx, flow::Timeline::StateLookup lookup = {},
           CounterSource counters = {});

  void set_hooks(Hooks h) { hooks_ = std::move(h); }
  // The options a running trace may change (SIGHUP): packet lines and the stats
  // period, the next stats line due one period after `now`.
  void set_live(bool packet_lines, uint64_t stats_every_ns, uint64_t now);
  // The kernel-to-wall clock of the lines from now on (trace recalibrates it: common/clock_discipline.h).
  void set_clock(const WallClock& c) { ctx_.clock = c; }
  attribution::Engine& engine() { return engine_; }

  // p's flow state is completed in place first (the timeline's flow entry
  // holds what the flow's earlier records delivered): packet lines, the hooks
  // and the engine see the whole state.
  void add(flow::Packet& p);
  // The same for a packet the caller keeps as it is (a copy is completed).
  void add(const flow::Packet& p);
  // Runs what is due at `now`; cheap when nothing is: inline, one compare against the earliest
  // deadline (analyze calls it once per packet).
  void advance(uint64_t now) {
    if (now >= next_due_) run_due(now);
  }
  // Emits every flow and reset still open (the timeline's finish).
  void finish_flows(uint64_t now);
  // A fresh timeline (a new capture file: flows do not continue across files)
  // with its own tick schedule; call finish_flows() first.  The engine and
  // the counters carry on.
  void restart(flow::Timeline::StateLookup lookup);
  // `lost` lines for every counter that moved since the previous report.
  void report_losses(uint64_t now);
  void write_stats(uint64_t now, double elapsed_s, bool final);
  // The `incident` lines gathered since the last interval, and a `lost` line
  // (cause incident_overflow) for resets the full tables could not count.
  void flush_incidents(uint64_t now);
  // finish_flows, report_losses, the final stats line, flush.
  void finish(uint64_t now, double elapsed_s);
  // Writes out what the writer buffered (after each batch).
  void flush();
  // One line built elsewhere (trace --auto-diagnose's verdicts) into the same stream, under
  // the same status: nothing once a write failed.
  void write_line(const std::string& line) {
    emit([&](std::string& l) { l += line; });
  }
  // A loss counted outside the kernel and the sinks (resets --incidents had no room
  // for, packets --auto-diagnose's queue refused): `total` is the count so far; a
  // `lost` line carries what it moved since the last note, and lost_total() counts it.
  void note_loss(const char* cause, uint64_t total, uint64_t now);

  const Result<void>& status() const { return status_; }
  bool ok() const { return static_cast<bool>(status_); }
  const output::UserspaceCounters& userspace() const { return uc_; }
  // Flows open in the timeline now.
  size_t active_flows() const { return timeline_->active_flows(); }
  // Reads the counters now (through the CounterSource) and refreshes userspace() with them.
  Counters counters() { return read_counters(); }
  uint64_t lost_total() const { return losses_.total() + noted_lost_; }
  uint64_t resets_filtered() const { return resets_filtered_; }
  uint64_t incidents_emitted() const { return incidents_emitted_; }

 private:
  std::unique_ptr<flow::Timeline> make_timeline(flow::Timeline::StateLookup lookup);
  void on_flow(const flow::FlowSummary& f);
  void on_reset(const flow::ResetRecord& r);
  template <typename Build>
  void emit(Build&& build) {
    if (writer_ && status_) status_ = writer_->emit(build);
  }
  // Lost and stats lines: never dropped for a full queue (Writer::emit_accounting).
  template <typename Build>
  void emit_accounting(Build&& build) {
    if (writer_ && status_) status_ = writer_->emit_accounting(build);
  }
  Counters read_counters();
  // advance()'s work when a deadline passed: the tick, the stats line, the incident interval.
  void run_due(uint64_t now);
  // next_due_ from the deadlines; after every change of next_tick_, next_stats_ or next_incidents_.
  void update_due();
  // A completed packet, before the timeline acts on it.
  void seen(const flow::Packet& p, flow::FlowMemo* memo);

  Options opt_;
  output::Writer* writer_;
  output::Context ctx_;
  CounterSource counters_;
  Hooks hooks_;
  attribution::Engine engine_;
  std::unique_ptr<flow::Timeline> timeline_;
  LossReporter losses_;
  output::UserspaceCounters uc_;
  uint64_t evicted_before_ = 0;  // by the timelines restart() replaced
  bool stats_written_ = false;
  uint64_t next_tick_ = 0, next_stats_ = 0, next_incidents_ = 0;
  uint64_t next_due_ = 0;  // the earliest of the three that is scheduled (0: the next advance() runs)
  std::unique_ptr<IncidentAggregator> incidents_;  // null without --incidents
  uint64_t resets_filtered_ = 0, incidents_emitted_ = 0;
  std::map<std::string, uint64_t, std::less<>> noted_;  // note_loss: total reported, per cause
  uint64_t noted_lost_ = 0;
  Result<void> status_;
  flow::Packet copy_;  // add(const Packet&)'s completed copy
};

}  // namespace rsthop::pipeline
