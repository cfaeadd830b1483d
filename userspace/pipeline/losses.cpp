#include "pipeline/losses.h"

#include "output/names.h"

namespace rsthop::pipeline {

Result<void> LossReporter::report(output::Writer* w, const output::Context& ctx, uint64_t now,
                                  const output::KernelCounters& k, uint64_t malformed,
                                  std::span<const output::SinkStats> sinks) {
  auto one = [&](std::string_view cause, uint64_t count, uint64_t total, std::string_view sink = {}) -> Result<void> {
    total_ += count;
    if (!w) return {};
    return w->emit_accounting(
        [&](std::string& l) { output::append_lost_line(l, ctx, now, cause, count, total, sink); });
  };
  for (int i = 0; i < RH_C_MAX; i++) {
    if (!output::counter_is_loss(i) || k[i] <= last_[i]) continue;
    auto r = one(output::loss_cause(i), k[i] - last_[i], k[i]);
    last_[i] = k[i];
    if (!r) return r;
  }
  if (malformed > last_malformed_) {
    auto r = one(output::kLossCauseMalformedRecord, malformed - last_malformed_, malformed);
    last_malformed_ = malformed;
    if (!r) return r;
  }
  if (last_sinks_.size() < sinks.size()) last_sinks_.resize(sinks.size());
  for (size_t i = 0; i < sinks.size(); i++) {
    const auto& s = sinks[i];
    auto& last = last_sinks_[i];
    Result<void> r;
    if (s.dropped_full > last.dropped_full)
      r = one(output::kLossCauseSinkFull, s.dropped_full - last.dropped_full, s.dropped_full, s.name);
    if (r && s.dropped_oversize > last.dropped_oversize)
      r = one(output::kLossCauseSinkOversize, s.dropped_oversize - last.dropped_oversize, s.dropped_oversize, s.name);
    last = s;
    if (!r) return r;
  }
  return {};
}

}  // namespace rsthop::pipeline
