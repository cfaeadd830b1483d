#include "cli/service.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <iostream>

#include "cli/stop_signals.h"
#include "common/clock.h"
#include "kernel/capture.h"

namespace rsthop::cli {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "--" : ", --") + n;
  return s;
}

}  // namespace

Service::Service(TraceReloader reload) : reload_(std::move(reload)) {
  uint64_t usec = 0;
  // > 0 only when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is ours).
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_every_ns_ = usec * 1000 / 2;
  hangups_seen_ = hangups();
}

void Service::ready(const std::string& status) {
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
  if (watchdog_every_ns_) {
    sd_notify(0, "WATCHDOG=1");
    next_watchdog_ns_ = monotonic_now_ns() + watchdog_every_ns_;
  }
}

void Service::tick(uint64_t now_ns, pipeline::Pipeline& pipe) {
  if (watchdog_every_ns_ && now_ns >= next_watchdog_ns_) {
    sd_notify(0, "WATCHDOG=1");
    next_watchdog_ns_ = now_ns + watchdog_every_ns_;
  }
  if (uint64_t h = hangups(); h != hangups_seen_) {
    hangups_seen_ = h;
    if (reload_) reread(now_ns, pipe);
  }
}

void Service::reread(uint64_t now_ns, pipeline::Pipeline& pipe) {
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", static_cast<unsigned long long>(now_ns / 1000));
  auto r = reload_();
  if (!r) {
    std::cerr << "rsthop: notice: " << r.error().message << "; the running options stay\n";
  } else {
    const TraceOptions& o = r.value().options;
    pipe.set_live(o.packets, static_cast<uint64_t>(o.stats_interval_s * 1e9), now_ns);
    kernel::set_libbpf_verbose(o.verbose);
    std::vector<std::string> restart;
    for (const auto& name : r.value().changed) {
      const auto& live = live_options();
      if (std::find(live.begin(), live.end(), name) == live.end()) restart.push_back(name);
    }
    std::cerr << "rsthop: notice: configuration reread";
    if (!restart.empty()) std::cerr << "; changes to " << join(restart) << " need a restart";
    std::cerr << "\n";
  }
  sd_notify(0, "READY=1");
}

void Service::stopping() { sd_notify(0, "STOPPING=1"); }

}  // namespace rsthop::cli
