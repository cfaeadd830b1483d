// A probe's socket learns of a reset only after the capture's program has
// queued the RST's record, but the record can still be behind the last read
// of the ring: a record another CPU reserved earlier and has not committed yet
// (a guest's vCPU can be descheduled mid-record) stops the consumer at it.
// Before the verdict is fused, the session reads the capture again until every
// step the sockets saw reset has its RST, or a bounded wait has passed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>

#include "bpf/abi.h"
#include "common/addr.h"

namespace rsthop::diagnose {

// Calls `pump` (reads the capture) until every port of `want` is in `seen()`, at most `budget`
// long, sleeping `every` between reads; true when all arrived.  `pump` runs at least once.
bool await_records(const std::set<uint16_t>& want, const std::function<void()>& pump,
                   const std::function<bool(uint16_t)>& seen, std::chrono::milliseconds budget,
                   std::chrono::milliseconds every = std::chrono::milliseconds(5));

// The probe's local port whose reset `ev` shows coming from `target`'s address and port: a RST on
// the wire from there, or this host's TCP accepting a RST from there (RH_EV_LOCAL_RST_RECV,
// tcp_receive_reset).  A RST forged by this host's own firewall arrives over `lo`, which the capture
// does not watch: the local event is the only record of it.  nullopt for anything else (this host's
// own RSTs, other addresses, other kinds, and the target's other ports: a TLS target's port-80 probes
// draw their ports from another sequence than the port-443 ones, so one local port can serve both).
std::optional<uint16_t> reset_port(const rh_event& ev, const Addr16& target, uint16_t target_port);

// The probe's local port an ICMP error `ev` quotes: a packet of ours to `target`'s address and port
// (the quoted header's destination).  nullopt for other kinds, addresses and ports: an error quoting a
// port-80 probe that happens to use a port-443 step's local port is not that step's (a TTL ladder
// would place the hop from another connection's ICMP).
std::optional<uint16_t> icmp_port(const rh_event& ev, const Addr16& target, uint16_t target_port);

}  // namespace rsthop::diagnose
