#include "pipeline/pipeline.h"

#include <algorithm>

namespace rsthop::pipeline {

Pipeline::Pipeline(Options opt, output::Writer* writer, output::Context ctx, flow::Timeline::StateLookup lookup,
                   CounterSource counters)
    : opt_(std::move(opt)),
      writer_(writer),
      ctx_(std::move(ctx)),
      counters_(std::move(counters)),
      engine_(opt_.engine, opt_.registry) {
  timeline_ = make_timeline(std::move(lookup));
  next_tick_ = opt_.start_ns ? opt_.start_ns + opt_.tick_ns : 0;
  next_stats_ = opt_.stats_every_ns ? opt_.start_ns + opt_.stats_every_ns : 0;
  if (opt_.incident_interval_ns) {
    incidents_ = std::make_unique<IncidentAggregator>(IncidentAggregator::Options{
        opt_.incident_interval_ns, opt_.incident_max_destinations, opt_.incident_max_groups});
    next_incidents_ = opt_.start_ns ? opt_.start_ns + opt_.incident_interval_ns : 0;
  }
  update_due();
}

void Pipeline::set_live(bool packet_lines, uint64_t stats_every_ns, uint64_t now) {
  opt_.packet_lines = packet_lines;
  if (stats_every_ns == opt_.stats_every_ns) return;  // keep the schedule
  opt_.stats_every_ns = stats_every_ns;
  next_stats_ = stats_every_ns ? now + stats_every_ns : 0;
  update_due();
}

std::unique_ptr<flow::Timeline> Pipeline::make_timeline(flow::Timeline::StateLookup lookup) {
  return std::make_unique<flow::Timeline>(
      opt_.timeline,
      flow::Timeline::Callbacks{[this](const flow::FlowSummary& f) { on_flow(f); },
                                [this](const flow::ResetRecord& r) { on_reset(r); }},
      std::move(lookup));
}

void Pipeline::on_flow(const flow::FlowSummary& f) {
  if (hooks_.on_flow) hooks_.on_flow(f);
  if (!opt_.flow_lines) return;
  uc_.flows_emitted++;
  emit([&](std::string& l) { output::append_flow_line(l, ctx_, f); });
}

void Pipeline::on_reset(const flow::ResetRecord& r) {
  attribution::Verdict v = engine_.classify(r);
  bool kept = opt_.reset_filter.keep(v);
  if (!kept) resets_filtered_++;
  if (kept && incidents_) incidents_->add(r, v);
  if (kept && opt_.reset_lines) {
    uc_.resets_emitted++;
    emit([&](std::string& l) { output::append_reset_line(l, ctx_, r, &v); });
  }
  if (hooks_.on_reset && status_) status_ = hooks_.on_reset(r, v);
}

void Pipeline::add(flow::Packet& p) {
  uc_.events_received++;
  timeline_->add(p, [this](const flow::Packet& q, flow::FlowMemo* memo) { seen(q, memo); });
}

void Pipeline::add(const flow::Packet& p) {
  copy_ = p;
  add(copy_);
}

void Pipeline::seen(const flow::Packet& p, flow::FlowMemo* memo) {
  if (opt_.packet_lines) emit([&](std::string& l) { output::append_packet_line(l, ctx_, p, memo); });
  if (hooks_.on_packet) hooks_.on_packet(p);
  engine_.observe(p);
}

void Pipeline::update_due() {
  next_due_ = next_tick_;
  if (next_stats_) next_due_ = std::min(next_due_, next_stats_);
  if (incidents_) next_due_ = std::min(next_due_, next_incidents_);
}

void Pipeline::run_due(uint64_t now) {
  if (now >= next_tick_) {
    next_tick_ = now + opt_.tick_ns;
    timeline_->tick(now);
    report_losses(now);
  }
  if (next_stats_ && now >= next_stats_) {
    next_stats_ = now + opt_.stats_every_ns;
    write_stats(now, now > opt_.start_ns ? (now - opt_.start_ns) / 1e9 : 0, false);
  }
  if (incidents_ && now >= next_incidents_) {
    // The first interval starts at the first advance() when start_ns is unknown (capture files).
    if (next_incidents_) flush_incidents(now);
    next_incidents_ = now + opt_.incident_interval_ns;
  }
  update_due();
}

void Pipeline::flush_incidents(uint64_t now) {
  if (!incidents_ || !status_) return;
  const double interval_s = static_cast<double>(opt_.incident_interval_ns) / 1e9;
  for (const output::Incident& inc : incidents_->take()) {
    incidents_emitted_++;
    emit([&](std::string& l) { output::append_incident_line(l, ctx_, now, inc, interval_s); });
  }
  note_loss("incident_overflow", incidents_->overflow(), now);
}

void Pipeline::note_loss(const char* cause, uint64_t total, uint64_t now) {
  auto it = noted_.find(std::string_view(cause));  // no string built per poll
  if (it == noted_.end()) it = noted_.emplace(cause, 0).first;
  if (total <= it->second) return;
  uint64_t n = total - it->second;
  it->second = total;
  noted_lost_ += n;
  if (status_ && opt_.loss_lines)
    emit_accounting([&](std::string& l) { output::append_lost_line(l, ctx_, now, cause, n, total); });
}

void Pipeline::finish_flows(uint64_t now) { timeline_->finish(now); }

void Pipeline::restart(flow::Timeline::StateLookup lookup) {
  evicted_before_ += timeline_->evicted();
  timeline_ = make_timeline(std::move(lookup));
  next_tick_ = 0;
  update_due();
}

Counters Pipeline::read_counters() {
  Counters c = counters_ ? counters_() : Counters{};
  uc_.parse_errors = c.malformed;
  uc_.flows_evicted_userspace = evicted_before_ + timeline_->evicted();
  return c;
}

void Pipeline::report_losses(uint64_t now) {
  if (!status_) return;
  Counters c = read_counters();
  auto sinks = writer_ ? writer_->sink().stats() : std::vector<output::SinkStats>{};
  status_ = losses_.report(opt_.loss_lines ? writer_ : nullptr, ctx_, now, c.kernel, c.malformed, sinks);
}

void Pipeline::write_stats(uint64_t now, double elapsed_s, bool final) {
  Counters c = read_counters();
  auto sinks = writer_ && opt_.sink_stats ? writer_->sink().stats() : std::vector<output::SinkStats>{};
  const auto* att = !stats_written_ && !opt_.attachments.empty() ? &opt_.attachments : nullptr;
  stats_written_ = true;
  emit_accounting(
      [&](std::string& l) { output::append_stats_line(l, ctx_, now, c.kernel, uc_, elapsed_s, final, sinks, att); });
}

void Pipeline::finish(uint64_t now, double elapsed_s) {
  finish_flows(now);
  flush_incidents(now);
  report_losses(now);
  write_stats(now, elapsed_s, true);
  flush();
}

void Pipeline::flush() {
  if (writer_ && status_) status_ = writer_->flush();
}

}  // namespace rsthop::pipeline
