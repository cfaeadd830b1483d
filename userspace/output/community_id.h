// Community ID v1 (https://github.com/corelight/community-id-spec): one
// string per connection, the same from both directions, so rsthop lines can
// be joined with Zeek, Suricata and Elastic records of the same flow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rsthop::output {

// "1:" + base64 of a SHA-1 digest, in place: the hot path allocates nothing.
struct CommunityId {
  char text[32] = {};
  uint8_t len = 0;  // 0: the crypto library failed
  std::string_view view() const { return {text, len}; }
};

// Addresses are 16 bytes in network order as the ABI stores them; for
// family 4 only the last four bytes (the IPv4-mapped tail) are hashed, as
// the spec hashes the 4-byte address.  Ports are in host order.  Every line
// of a flow asks for the same ID, so results are memoized per thread in a
// small direct-mapped cache keyed by the exact hash input.
CommunityId community_id_v1_fixed(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport,
                                  uint16_t dport, uint8_t proto = 6, uint16_t seed = 0);

// The same as a string; empty if the crypto library fails.
std::string community_id_v1(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint16_t sport,
                            uint16_t dport, uint8_t proto = 6, uint16_t seed = 0);

// The spec's ID of an ICMP (family 4, protocol 1) or ICMPv6 (58) message:
// type and code take the ports' places.  A request or reply with a
// counterpart type (echo, timestamp, solicitations...) hashes as
// (type, counterpart type) in canonical order, so both directions agree;
// any other message (every error: unreachable, time exceeded...) is one-way,
// hashed as sent, (type, code).
CommunityId community_id_v1_icmp_fixed(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint8_t type,
                                       uint8_t code, uint16_t seed = 0);
std::string community_id_v1_icmp(uint8_t family, const uint8_t* saddr16, const uint8_t* daddr16, uint8_t type,
                                 uint8_t code, uint16_t seed = 0);

}  // namespace rsthop::output
