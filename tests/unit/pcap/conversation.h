// A short TCP conversation as IP packets (client 40000 -> server 443): the
// handshake, a request, an ICMP time-exceeded from a router quoting the
// request, and a RST with a reason in its payload from the server.  Each
// packet's capture time is 1 ms after the previous one, from kT0.
#pragma once

#include <string>
#include <vector>

#include "tests/common/packet_builder.h"

namespace rsthop::test {

inline constexpr uint64_t kT0 = 1'700'000'000'123'456'789ULL;  // Unix ns
inline constexpr uint64_t kStep = 1'000'000ULL;

struct ConvNet {
  std::string client, server, router;
  bool v6() const { return client.find(':') != std::string::npos; }
};
inline ConvNet conv_v4() { return {"10.0.0.1", "10.0.0.2", "10.0.0.254"}; }
inline ConvNet conv_v6() { return {"2001:db8::1", "2001:db8::2", "2001:db8::fe"}; }

inline std::vector<Bytes> conversation(const ConvNet& n) {
  auto ip = [&](bool from_client, uint8_t ttl) {
    PacketBuilder b;
    if (n.v6())
      b.ipv6(from_client ? n.client : n.server, from_client ? n.server : n.client);
    else
      b.ipv4(from_client ? n.client : n.server, from_client ? n.server : n.client).df();
    return b.ttl(ttl);
  };
  const std::string req = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";
  std::vector<Bytes> out;
  out.push_back(ip(true, 64).tcp(40000, 443).flags(kSyn).seq(1000).mss(1460).sack_perm().wscale(7).build_l3());
  out.push_back(ip(false, 57).tcp(443, 40000).flags(kSyn | kAck).seq(5000).ack(1001).mss(1400).build_l3());
  out.push_back(ip(true, 64).tcp(40000, 443).flags(kAck).seq(1001).ack(5001).build_l3());
  Bytes request = ip(true, 64).tcp(40000, 443).flags(kPsh | kAck).seq(1001).ack(5001).payload(req).build_l3();
  out.push_back(request);
  PacketBuilder te;
  if (n.v6())
    te.ipv6(n.router, n.client);
  else
    te.ipv4(n.router, n.client);
  out.push_back(te.ttl(63).icmp_time_exceeded(request).build_l3());
  out.push_back(ip(false, 61)
                    .tcp(443, 40000)
                    .flags(kRst | kAck)
                    .seq(5001)
                    .ack(1001 + 38)
                    .payload(std::string("blocked by policy 42"))
                    .build_l3());
  return out;
}

}  // namespace rsthop::test
