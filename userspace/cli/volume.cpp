#include "cli/volume.h"

#include <CLI/CLI.hpp>

#include "cli/numbers.h"

namespace rsthop::cli {

namespace {
constexpr double kDefaultIncidentS = 10;
}

void add_volume_options(CLI::App* cmd, VolumeOptions& v) {
  cmd->add_option("--events", v.events,
                  "Event types to write: flow,reset,verdict,lost,stats,incident (default: all but incident)")
      ->delimiter(',');
  cmd->add_option("--origin", v.origins, "Only resets of these origins: endpoint,middlebox,local,unknown")
      ->delimiter(',');
  cmd->add_option("--min-confidence", v.min_confidence, "Only resets whose verdict has at least this confidence")
      ->check(finite_in(0, 1));
  cmd->add_option("--incidents", v.incidents_s,
                  "Aggregate resets: one `incident` line per destination and kind of reset every SEC seconds")
      ->check(finite_in(0.1, 86400));
  cmd->add_option("--incident-destinations", v.incident_destinations,
                  "Most destinations --incidents tracks per interval (default 1024; the rest are counted lost)")
      ->check(CLI::Range(1, 1 << 20));
}

Result<Volume> parse_volume(const VolumeOptions& v) {
  Volume out;
  if (v.events.empty()) {
    out.events = pipeline::EventSet::defaults();
    // The aggregate mode replaces the reset lines by incident lines.
    if (v.incidents_s > 0) {
      out.events.remove(pipeline::EventType::reset);
      out.events.add(pipeline::EventType::incident);
    }
  } else {
    auto e = pipeline::EventSet::parse(v.events);
    if (!e) return e.error();
    out.events = e.value();
    if (v.incidents_s > 0 && !out.events.has(pipeline::EventType::incident))
      return make_error("--incidents writes `incident` lines: add incident to --events");
  }
  auto o = pipeline::ResetFilter::parse_origins(v.origins);
  if (!o) return o.error();
  out.filter.origins = o.value();
  out.filter.min_confidence = v.min_confidence;
  if (out.events.has(pipeline::EventType::incident))
    out.incident_interval_ns = static_cast<uint64_t>((v.incidents_s > 0 ? v.incidents_s : kDefaultIncidentS) * 1e9);
  out.incident_destinations = v.incident_destinations;
  return out;
}

void apply_volume(const Volume& v, pipeline::Pipeline::Options& po) {
  using pipeline::EventType;
  po.flow_lines = v.events.has(EventType::flow);
  po.reset_lines = v.events.has(EventType::reset);
  po.loss_lines = v.events.has(EventType::lost);
  if (!v.events.has(EventType::stats)) po.stats_every_ns = 0;
  po.reset_filter = v.filter;
  po.incident_interval_ns = v.incident_interval_ns;
  po.incident_max_destinations = v.incident_destinations;
}

}  // namespace rsthop::cli
