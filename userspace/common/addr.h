// Addresses as the ABI stores them: 16 bytes, network order, IPv4-mapped.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rsthop {

using Addr16 = std::array<uint8_t, 16>;

bool is_v4mapped(const uint8_t* a);
// "198.18.0.1" for IPv4-mapped addresses, RFC 5952 text otherwise.
std::string addr_to_string(const uint8_t* a);
std::string mac_to_string(const uint8_t* m);
// The same texts written to `out` without a terminating NUL; both return
// the length.  For hot paths that must not allocate.
inline constexpr size_t kAddrTextMax = 46;  // INET6_ADDRSTRLEN
inline constexpr size_t kMacTextLen = 17;
size_t format_addr(char* out /*[kAddrTextMax]*/, const uint8_t* a);
size_t format_mac(char* out /*[kMacTextLen]*/, const uint8_t* m);
// ECS's MAC notation (RFC 7042): uppercase, hyphen-separated, "02-68-78-01-00-01".
size_t format_mac_ecs(char* out /*[kMacTextLen]*/, const uint8_t* m);
std::string mac_to_ecs_string(const uint8_t* m);
// Parses an IPv4 or IPv6 address into the mapped form.
Result<Addr16> parse_addr(std::string_view text);

struct Cidr {
  Addr16 addr{};  // masked
  Addr16 mask{};
  bool contains(const uint8_t* a) const;
};
// "198.18.0.0/15", "2001:db8::/32" or a bare address (a host route).
Result<Cidr> parse_cidr(std::string_view text);

}  // namespace rsthop
