// The fused verdict when this host's own firewall refused the connection
// (the engine's `local_refusal` signal on the connect probe's RST): the SYN
// never left, so the SYN ladder's "refused at TTL 1" is this host, not the
// server, and nothing is blamed on the gateway or the target.  Apart from
// fuse() so the case stays one small function.
#pragma once

#include <string>

#include "diagnose/fusion.h"

namespace rsthop::diagnose {

// Fills `v` and returns true when `rs` (the RST on the connect probe) is that case.
bool local_firewall_verdict(const Inputs& in, const ResetSeen& rs, const std::string& target, Verdict& v);

}  // namespace rsthop::diagnose
