#include "common/addr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

namespace rsthop {
namespace {

std::string ntop(int af, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(af, a, buf, sizeof(buf));
  return buf;
}

TEST(Addr, HandFormattedIpv4MatchesInetNtop) {
  std::mt19937 rng(7);
  Addr16 a{};
  a[10] = a[11] = 0xff;
  for (int n = 0; n < 100'000; n++) {
    uint32_t v = n < 256 ? static_cast<uint32_t>(n) * 0x01010101u : static_cast<uint32_t>(rng());
    std::memcpy(a.data() + 12, &v, 4);
    ASSERT_EQ(addr_to_string(a.data()), ntop(AF_INET, a.data() + 12));
  }
}

TEST(Addr, Ipv6AndMacText) {
  for (const char* text : {"2001:db8::1", "::", "::1", "fe80::1:2:3:4", "2001:db8:0:0:1::2", "::1.2.3.4"}) {
    auto a = parse_addr(text);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(addr_to_string(a->data()), ntop(AF_INET6, a->data())) << text;
  }
  const uint8_t mac[6] = {0x00, 0x1b, 0xa0, 0xff, 0x0a, 0x09};
  EXPECT_EQ(mac_to_string(mac), "00:1b:a0:ff:0a:09");
  char buf[kMacTextLen];
  EXPECT_EQ(format_mac(buf, mac), kMacTextLen);
}

// Both MAC texts from their tables, against snprintf, for every byte value in
// every position.
TEST(Addr, MacTextsMatchSnprintfForEveryByte) {
  for (int v = 0; v < 256; v++) {
    for (int pos = 0; pos < 6; pos++) {
      uint8_t mac[6] = {0x02, 0x68, 0x78, 0x01, 0x00, 0x01};
      mac[pos] = static_cast<uint8_t>(v);
      char want[32];
      std::snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
                    mac[5]);
      ASSERT_EQ(mac_to_string(mac), want);
      std::snprintf(want, sizeof(want), "%02X-%02X-%02X-%02X-%02X-%02X", mac[0], mac[1], mac[2], mac[3], mac[4],
                    mac[5]);
      ASSERT_EQ(mac_to_ecs_string(mac), want);
    }
  }
}

}  // namespace
}  // namespace rsthop
