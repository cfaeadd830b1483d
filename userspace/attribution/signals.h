// Small pure helpers the engine's signals are built from.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "attribution/verdict.h"

namespace rsthop::attribution {

// The usual initial TTLs (32, 64, 128, 255): the smallest one >= ttl.
int initial_ttl(int ttl);
// Hop index of a packet's sender from its TTL: hop k is the device a packet
// sent with TTL k reaches.  `at_egress`: seen leaving this box (already
// decremented by it when forwarded); 0 means this host made it.
int hops_from_ttl(int ttl, bool at_egress);
// Printable reason text in a RST payload, or "" when it is not text.
std::string payload_text(std::span<const uint8_t> payload);
// draft-ietf-tcpm-rst-diagnostic-payload: magic 0x33AA, reason code, enterprise number, text.
std::optional<RstDiagnostic> rst_diagnostic(std::span<const uint8_t> payload);
// zero | constant | incrementing | random over a burst's IP IDs ("n/a" for IPv6).
std::string ip_id_pattern(std::span<const uint16_t> ids, bool ipv6);

}  // namespace rsthop::attribution
