// This host's own firewall refusing a connection before its SYN left (an
// OUTPUT rule "reject with tcp reset"): the SYN never reaches a traced
// interface and the forged RST loops back over `lo`, so only the
// tcp_receive_reset tracepoint sees it.  Apart from Engine::classify so the
// rule and its evidence stand alone.
#pragma once

#include "attribution/engine.h"

namespace rsthop::attribution {

// When `r` is that case, fills origin, hops, stage, confidence, summary and
// evidence of `v` and returns true; otherwise leaves `v` alone.  The case: a
// RST only the tracepoint saw (nothing of the flow on a traced interface),
// accepted by a socket in SYN_SENT, from a peer whose route leaves through a
// traced interface (opt.route_traced; without it the rule cannot tell a
// firewall here from an untraced interface, and stays silent).
bool local_firewall_refusal(const flow::ResetRecord& r, const Engine::Options& opt, Verdict& v);

}  // namespace rsthop::attribution
