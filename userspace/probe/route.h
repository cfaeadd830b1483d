// Which interface the route to a target leaves through (no packet is sent:
// connect() on a UDP socket only picks the route and the source address).
#pragma once

#include <string>

#include "common/result.h"
#include "probe/probe.h"

namespace rsthop::probe {

Result<std::string> route_interface(const Target& t);

}  // namespace rsthop::probe
