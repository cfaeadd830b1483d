#include "cli/report.h"

#include <unistd.h>

namespace rsthop::cli {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace rsthop::cli
