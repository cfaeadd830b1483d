#include "cli/numbers.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include <CLI/CLI.hpp>

namespace rsthop::cli {
namespace {

std::string shown(const std::string& s) { return s.size() > 32 ? s.substr(0, 32) + "..." : s; }

std::string number(double v) {
  std::ostringstream o;
  o << v;  // %g: 60, 0.05, 2.592e+06
  return o.str();
}

}  // namespace

CLI::Validator finite_in(double lo, double hi) {
  const std::string range = number(lo) + " to " + number(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& in) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(in.c_str(), &end);
        if (in.empty() || end != in.c_str() + in.size() || !std::isfinite(v) || v < lo || v > hi)
          return "'" + shown(in) + "' is not a number from " + range;
        return {};
      },
      "NUMBER in [" + range + "]");
}

}  // namespace rsthop::cli
