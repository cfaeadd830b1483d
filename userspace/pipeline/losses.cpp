#include "pipeline/losses.h"

#include "output/names.h"

namespace rsthop::pipeline {

Result<void> LossReporter::report(output::Writer* w, const output::Context& ctx, uint64_t now,
                                  const output::KernelCounters& k, uint64_t malformed) {
  auto one = [&](std::string_view cause, uint64_t count, uint64_t total) -> Result<void> {
    total_ += count;
    if (!w) return {};
    return w->emit([&](std::string& l) { output::append_lost_line(l, ctx, now, cause, count, total); });
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
  return {};
}

}  // namespace rsthop::pipeline
