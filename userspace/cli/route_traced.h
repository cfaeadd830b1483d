// Whether the route to an address leaves through one of the traced
// interfaces: the engine's Options::route_traced for live commands.  A route
// lookup (probe::route_interface) picks the route without sending a packet;
// each address is looked up once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rsthop::cli {

std::function<bool(const uint8_t* addr, uint8_t family)> route_traced_fn(std::vector<std::string> interfaces);

}  // namespace rsthop::cli
