#include "cli/auto_options.h"

#include <algorithm>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/numbers.h"

namespace rsthop::cli {

void add_auto_diagnose_options(CLI::App* cmd, AutoDiagnoseOptions& a) {
  cmd->add_flag("--auto-diagnose", a.enabled,
                "Diagnose on its own a destination whose connections a middlebox resets, are reset again and "
                "again, or vanish silently (bounded probes; README: Auto-diagnose)");
  cmd->add_option("--auto-diagnose-budget", a.budget,
                  "Connections one auto-diagnose of a destination may open (default 32)")
      ->check(CLI::Range(4, 1000));
  cmd->add_option("--auto-diagnose-global-budget", a.global_budget,
                  "Connections all auto-diagnoses together may open in any hour (default 256)")
      ->check(CLI::Range(4, 100000));
  cmd->add_option("--auto-diagnose-cooldown", a.cooldown_s,
                  "Seconds before the same destination is auto-diagnosed again (default 600)")
      ->check(finite_in(0, 7 * 86400));
  cmd->add_option("--auto-diagnose-rate", a.rate, "New probe connections per second at most (default 20)")
      ->check(finite_in(1, 1000));
}

Result<diagnose::AutoRunner::Config> auto_runner_config(const AutoDiagnoseOptions& a) {
  if (a.budget > a.global_budget)
    return make_error("--auto-diagnose-budget " + std::to_string(a.budget) +
                      " is more than --auto-diagnose-global-budget " + std::to_string(a.global_budget) +
                      ": no diagnose could ever start");
  diagnose::AutoRunner::Config c;
  c.trigger.budget = a.budget;
  c.trigger.global_budget = a.global_budget;
  c.trigger.cooldown_ns = static_cast<uint64_t>(a.cooldown_s * 1e9);
  diagnose::Options& o = c.session;
  o.rate = a.rate;
  o.hold_ms = 1000;
  o.timing.timeout_ms = 3000;
  o.ladder.max_hops = 16;
  o.ladder.concurrency = 4;
  o.ladder.step_timeout_ms = 600;
  o.ladder.min_gap_ms = std::max(1, static_cast<int>(1000.0 / a.rate));
  return c;
}

}  // namespace rsthop::cli
