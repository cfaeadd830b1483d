#include "cli/report.h"

#include <unistd.h>

#include "output/names.h"

namespace rsthop::cli {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

Result<void> LossReporter::report(output::Writer& w, const output::Context& ctx, uint64_t now,
                                  const output::KernelCounters& k, uint64_t malformed) {
  for (int i = 0; i < RH_C_MAX; i++) {
    if (!output::counter_is_loss(i) || k[i] <= last_[i]) continue;
    auto r = w.emit([&](std::string& l) {
      output::append_lost_line(l, ctx, now, output::loss_cause(i), k[i] - last_[i], k[i]);
    });
    if (!r) return r;
    last_[i] = k[i];
  }
  if (malformed > last_malformed_) {
    auto r = w.emit([&](std::string& l) {
      output::append_lost_line(l, ctx, now, output::kLossCauseMalformedRecord, malformed - last_malformed_,
                               malformed);
    });
    if (!r) return r;
    last_malformed_ = malformed;
  }
  return {};
}

}  // namespace rsthop::cli
