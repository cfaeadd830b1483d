// Checks for the numeric options: finite, within bounds, said in one sentence.
#pragma once

#include <string>

#include "cli/cli_fwd.h"

namespace rsthop::cli {

// Accepts a decimal number x with lo <= x <= hi; rejects "nan", "inf", values
// out of range (1e300 seconds is not a duration) and text, quoting what was
// typed (cut to 32 characters) rather than printing a 309-digit number.
CLI::Validator finite_in(double lo, double hi);

}  // namespace rsthop::cli
