// Fusion's signals: each reads the Inputs and gives one Evidence or nothing.
// fuse() lists them in its verdict; they are pure and tested one by one.
#pragma once

#include <optional>
#include <set>

#include "diagnose/fusion.h"

namespace rsthop::diagnose {

// The lowest TTL at which a SYN ladder reached the target (SYN-ACK or RST), if any.
std::optional<int> reached_at(const std::vector<probe::SynStep>& syn);
// The source of an ICMP error the capture saw quoting SYN-ladder step `s`.
std::optional<Addr16> syn_icmp_from(const Inputs& in, const probe::SynStep& s);
// reached_at(in.syn), except steps whose SYN also drew ICMP from the hop: an
// on-path device refused it while it went on, so the server is farther.
std::optional<int> server_reached_at(const Inputs& in);
// TTLs at which the capture saw an ICMP error quoting a step of `steps`.
std::set<int> icmp_ttls(const Inputs& in, const std::vector<probe::TriggerStep>& steps);

std::optional<attribution::Evidence> endpoint_hop_signal(const Inputs& in);
// Port 443 answers nearer than port 80: a proxy or load balancer terminates it.
std::optional<attribution::Evidence> port_distance_signal(const Inputs& in);
std::optional<attribution::Evidence> no_capture_signal(const Inputs& in);
// Whether the control request (the same request without the trigger) passes.
std::optional<attribution::Evidence> control_signal(const Inputs& in);
// The RSTs the trigger ladder drew carry different TTLs, so none gives a distance:
// `ttl_copy` when they follow the probe's TTL step for step with the offset a copy can
// have (0 or less, even: see copier_hop), `ttl_varies` when they do not (a TTL chosen per
// connection: forged), also when two such TTLs happen to differ by the probes' difference.
std::optional<attribution::Evidence> ttl_copy_signal(const Inputs& in);
// Where a TTL copier sits: a device at hop h that copies the TTL a probe sent
// with TTL k reaches it with (k - h + 1) replies with a RST that arrives with
// k - 2h + 2, so one constant offset o = RST TTL - k gives h = 1 - o / 2.
std::optional<int> copier_hop(const Inputs& in);
// The TLS probe was reset a while after its ClientHello.
std::optional<attribution::Evidence> delayed_reset_signal(const Inputs& in);

}  // namespace rsthop::diagnose
