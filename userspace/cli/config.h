// Where `trace`'s options come from besides the command line: a TOML/INI file
// (`--config FILE`, section `[trace]`) and `RSTHOP_*` environment variables,
// and the reread of both on SIGHUP.  CLI11 does the parsing; this file only
// wires it, so every option added to `trace` is settable everywhere at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/cli_fwd.h"
#include "cli/trace.h"
#include "common/result.h"

namespace rsthop::cli {

// "stats-interval" -> "RSTHOP_STATS_INTERVAL".
std::string env_name(const std::string& long_name);

// Adds `--config FILE` to `app` (usable after any subcommand) and an
// environment variable to each of `trace`'s options.  Call it after the last
// option of `trace` is added.  Precedence (CLI11's): command line, then the
// file, then the environment.
void add_config_sources(CLI::App& app, CLI::App& trace);

// Parses the same command line again (so the file and the environment are read
// afresh; the command line still wins).  `bound` is the TraceOptions `trace`'s
// options write into; it is left as it was.  `app` must outlive the reloader.
TraceReloader make_trace_reloader(CLI::App& app, CLI::App& trace, TraceOptions& bound, int argc,
                                  const char* const* argv);

}  // namespace rsthop::cli
