// Which interface the route to a target leaves through (no packet is sent:
// connect() on a UDP socket only picks the route and the source address).
#pragma once

#include <string>

#include "probe/probe.h"
#include "common/result.h"

namespace rsthop::probe {

Result<std::string> route_interface(const Target& t);

}  // namespace rsthop::probe
