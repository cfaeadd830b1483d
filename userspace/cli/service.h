// `trace` as a service: tells systemd (sd_notify) when it is ready, alive
// (the watchdog) and stopping, and rereads its configuration on SIGHUP.
// Without a service manager ($NOTIFY_SOCKET unset) every notification is a no-op.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/config.h"
#include "cli/trace.h"
#include "pipeline/pipeline.h"

namespace rsthop::cli {

// The options a SIGHUP applies to a running trace; every other one needs a restart.
inline const std::vector<std::string>& live_options() {
  static const std::vector<std::string> names{"packets", "stats-interval", "verbose"};
  return names;
}

class Service {
 public:
  // `reload` may be empty (no reread: SIGHUP is then only counted).
  explicit Service(TraceReloader reload);

  // READY=1, after every program is attached.
  void ready(const std::string& status);
  // From the event loop, each pass: WATCHDOG=1 when due, and the reread after a new SIGHUP.
  void tick(uint64_t now_ns, pipeline::Pipeline& pipe);
  // STOPPING=1, when the loop ends.
  void stopping();

 private:
  void reread(uint64_t now_ns, pipeline::Pipeline& pipe);

  TraceReloader reload_;
  uint64_t watchdog_every_ns_ = 0;  // half of $WATCHDOG_USEC; 0: no watchdog
  uint64_t next_watchdog_ns_ = 0;
  uint64_t hangups_seen_ = 0;
};

}  // namespace rsthop::cli
