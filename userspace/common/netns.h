// Which network namespace this process runs in: the inode number of
// /proc/self/ns/net (what `ip netns identify`, `lsns -t net` and
// `stat -L -c %i /run/netns/NAME` show).  Events carry it as
// rsthop.netns.inode, so lines from tracers in several namespaces of one host
// can be told apart.
#pragma once

#include <cstdint>

namespace rsthop {

// 0 when /proc is not mounted or not readable.
uint64_t own_netns_inode();

}  // namespace rsthop
