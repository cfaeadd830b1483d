// How a `diagnose` run that printed its verdict ends: its exit code and the sentence for stderr
// (README: Exit codes).  Apart from run_diagnose so the order of the cases is tested.
#pragma once

#include <string>

#include "diagnose/session.h"

namespace rsthop::cli {

struct DiagnoseExit {
  int code = 0;
  std::string message;  // said on stderr when not empty ("rsthop: " + message)
};

// An interruption (SIGINT, SIGTERM: out.partial) exits 130 whatever else went wrong after the
// verdict was printed: the user asked the run to stop, and a script must see that the verdict is
// partial.  A capture error still gets its sentence.  Otherwise a capture error or a verdict of
// outcome `error` exits 1, and ok / reset / drop exit 0.
DiagnoseExit diagnose_exit(const diagnose::Outcome& out);

}  // namespace rsthop::cli
