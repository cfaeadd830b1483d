#include "cli/diagnose_exit.h"

#include <utility>

#include "cli/stop_signals.h"

namespace rsthop::cli {

DiagnoseExit diagnose_exit(const diagnose::Outcome& out) {
  std::string capture = out.capture_error ? out.capture_error->message : std::string();
  if (out.partial) return {kInterruptedExit, std::move(capture)};
  if (out.capture_error) return {1, std::move(capture)};
  if (out.verdict.outcome == diagnose::RequestOutcome::error) return {1, out.verdict.summary};
  return {0, {}};
}

}  // namespace rsthop::cli
