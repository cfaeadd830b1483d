// trace's --auto-diagnose options: registered on a CLI11 command, then checked
// and turned into the runner's configuration (diagnose/auto_runner.h).
#pragma once

#include "cli/cli_fwd.h"
#include "common/result.h"
#include "diagnose/auto_runner.h"

namespace rsthop::cli {

struct AutoDiagnoseOptions {
  bool enabled = false;     // --auto-diagnose
  int budget = 32;          // --auto-diagnose-budget: connections per diagnose of one destination
  int global_budget = 256;  // --auto-diagnose-global-budget: connections per hour, all destinations
  double cooldown_s = 600;  // --auto-diagnose-cooldown: between two diagnoses of one destination
  double rate = 20;         // --auto-diagnose-rate: new connections per second at most
};

void add_auto_diagnose_options(CLI::App* cmd, AutoDiagnoseOptions& a);

// The trigger's and the session's settings from the options; a budget the global budget cannot
// hold is a one-sentence error.  The caller fills in the capture's side (registry, local events,
// route, context).
Result<diagnose::AutoRunner::Config> auto_runner_config(const AutoDiagnoseOptions& a);

}  // namespace rsthop::cli
