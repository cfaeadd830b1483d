// What every command's lines share: the host name (host.name).
#pragma once

#include <string>

namespace rsthop::cli {

// gethostname(), or "unknown".
std::string host_name();

}  // namespace rsthop::cli
