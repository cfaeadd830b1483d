#include "metrics/collect.h"

#include "output/names.h"

namespace rsthop::metrics {
namespace {

using attribution::Origin;
using attribution::Stage;

constexpr const char* kBuckets[] = {"none", "0", "1", "2", "3", "4-7", "8-15", "16+"};

Family counter(std::string name, std::string help, uint64_t v) {
  return Family{std::move(name), std::move(help), Type::counter, {Sample{{}, v}}};
}

void add_kernel(std::vector<Family>& out, const output::KernelCounters& k) {
  for (int i = 0; i < RH_C_MAX; i++) {
    const std::string name = output::counter_name(i);
    std::string metric = "rsthop_kernel_";
    metric.append(name).append("_total");
    std::string help = "The kernel programs' ";
    help.append(name).append(" counter (stats.kernel.").append(name).append(")");
    out.push_back(counter(std::move(metric), std::move(help), k[static_cast<size_t>(i)]));
  }
}

void add_userspace(std::vector<Family>& out, const RunStats& s) {
  out.push_back(
      counter("rsthop_events_received_total", "Events userspace received from the capture", s.user.events_received));
  out.push_back(counter("rsthop_flows_emitted_total", "Flow lines written", s.user.flows_emitted));
  out.push_back(counter("rsthop_resets_emitted_total", "Reset lines written", s.user.resets_emitted));
  out.push_back(
      counter("rsthop_parse_errors_total", "Ring-buffer records userspace could not read", s.user.parse_errors));
  out.push_back(counter("rsthop_flows_evicted_userspace_total",
                        "Flows the userspace timeline dropped to bound its memory", s.user.flows_evicted_userspace));
  out.push_back(Family{
      "rsthop_flows_tracked", "Flows open in the userspace timeline", Type::gauge, {Sample{{}, s.flows_tracked}}});
}

// Every origin x stage x bucket, zeros included: a rate() needs the series before its first reset.
void add_resets(std::vector<Family>& out, const ResetTally* t) {
  Family f{
      "rsthop_resets_total", "Resets attributed, by origin, stage and hop bucket of the sender", Type::counter, {}};
  for (Origin o : {Origin::endpoint, Origin::middlebox, Origin::local, Origin::unknown})
    for (Stage st : {Stage::post_syn, Stage::post_ack, Stage::post_psh, Stage::later})
      for (const char* b : kBuckets) {
        uint64_t n = 0;
        if (t) {
          auto it = t->counts().find({o, st, b});
          n = it == t->counts().end() ? 0 : it->second;
        }
        f.samples.push_back({{{"origin", attribution::name(o)}, {"stage", attribution::name(st)}, {"hop", b}}, n});
      }
  out.push_back(std::move(f));
}

void add_losses(std::vector<Family>& out, const RunStats& s) {
  Family f{
      "rsthop_events_lost_total", "Events rsthop missed or could not read, by cause (lost.cause)", Type::counter, {}};
  for (int i = 0; i < RH_C_MAX; i++)
    if (output::counter_is_loss(i)) f.samples.push_back({{{"cause", output::loss_cause(i)}}, s.kernel[i]});
  f.samples.push_back({{{"cause", output::kLossCauseMalformedRecord}}, s.malformed});
  uint64_t sink_full = 0;
  for (const auto& k : s.sinks) sink_full += k.dropped;
  f.samples.push_back({{{"cause", "sink_full"}}, sink_full});
  out.push_back(std::move(f));
}

void add_sinks(std::vector<Family>& out, const std::vector<SinkStats>& sinks) {
  Family depth{"rsthop_sink_queue_depth", "Lines waiting in each output sink's queue", Type::gauge, {}};
  Family dropped{
      "rsthop_sink_dropped_total", "Lines each output sink dropped because its queue was full", Type::counter, {}};
  for (const auto& k : sinks) {
    depth.samples.push_back({{{"sink", k.sink}}, k.queue_depth});
    dropped.samples.push_back({{{"sink", k.sink}}, k.dropped});
  }
  out.push_back(std::move(depth));
  out.push_back(std::move(dropped));
}

void add_attachments(std::vector<Family>& out, const std::vector<output::AttachmentInfo>& att) {
  Family f{"rsthop_attachment_info",
           "One series per attached program (fallback: why tc stands in for XDP)",
           Type::gauge,
           {}};
  for (const auto& a : att)
    f.samples.push_back(
        {{{"interface", a.interface}, {"hook", a.hook}, {"mode", a.mode}, {"fallback", a.fallback}}, 1});
  out.push_back(std::move(f));
}

}  // namespace

void ResetTally::count(const attribution::Verdict& v) { counts_[{v.origin, v.stage, hop_bucket(v.hop)}]++; }

const char* ResetTally::hop_bucket(const std::optional<int>& hop) {
  if (!hop || *hop < 0) return kBuckets[0];
  int h = *hop;
  if (h <= 3) return kBuckets[1 + h];
  if (h <= 7) return kBuckets[5];
  if (h <= 15) return kBuckets[6];
  return kBuckets[7];
}

std::vector<Family> collect(const RunStats& s) {
  std::vector<Family> out;
  add_kernel(out, s.kernel);
  add_userspace(out, s);
  add_resets(out, s.resets);
  add_losses(out, s);
  add_sinks(out, s.sinks);
  add_attachments(out, s.attachments);
  return out;
}

}  // namespace rsthop::metrics
