// `trace -i any`: every interface of this network namespace that is up when
// the trace starts.  Interfaces created or brought up later are not followed
// (restart the trace to include them).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace rsthop::kernel {

// Names of the interfaces that are up (IFF_UP), loopback included, in index order.
Result<std::vector<std::string>> up_interfaces();

// `names` with every "any" replaced by up_interfaces() (each name once).
Result<std::vector<std::string>> expand_any(const std::vector<std::string>& names);

}  // namespace rsthop::kernel
