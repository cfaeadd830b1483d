#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "flow/app_hint.h"
#include "probe/probe.h"

namespace rsthop::probe {
namespace {

TEST(ClientHello, IsOneHandshakeRecordCarryingTheSni) {
  const std::string sni = "blocked.example.org";
  auto hello = client_hello(sni);
  ASSERT_TRUE(hello.ok()) << hello.error().message;
  const auto& b = *hello;
  ASSERT_GE(b.size(), 5u + 4u);
  EXPECT_EQ(b[0], 22);  // handshake
  EXPECT_EQ(b[1], 3);
  EXPECT_EQ(size_t(b[3]) << 8 | b[4], b.size() - 5) << "exactly one record";
  EXPECT_EQ(b[5], 1);  // ClientHello
  EXPECT_NE(std::search(b.begin(), b.end(), sni.begin(), sni.end()), b.end());

  flow::AppHint hint;
  ASSERT_TRUE(flow::parse_app_hint(b, hint));
  EXPECT_EQ(hint.tls_sni, sni);
}

TEST(ClientHello, OffersAlpn) {
  auto hello = client_hello("example.org");
  ASSERT_TRUE(hello.ok());
  const std::string h2 = "\x02h2\x08http/1.1";
  EXPECT_NE(std::search(hello->begin(), hello->end(), h2.begin(), h2.end()), hello->end());
}

TEST(ClientHello, IpLiteralIsNotSentAsSni) {
  auto hello = client_hello("198.18.0.1");
  ASSERT_TRUE(hello.ok());
  flow::AppHint hint;
  ASSERT_TRUE(flow::parse_app_hint(*hello, hint));
  EXPECT_EQ(hint.tls_sni, "");
}

TEST(HttpRequest, HasHostAndEndsTheHeader) {
  auto r = http_request("example.org");
  std::string s(r.begin(), r.end());
  EXPECT_EQ(s.rfind("GET / HTTP/1.1\r\nHost: example.org\r\n", 0), 0u);
  EXPECT_EQ(s.substr(s.size() - 4), "\r\n\r\n");
  flow::AppHint hint;
  ASSERT_TRUE(flow::parse_app_hint(r, hint));
  EXPECT_EQ(hint.http_host, "example.org");
  auto v6 = http_request("2001:db8::1");
  EXPECT_NE(std::string(v6.begin(), v6.end()).find("Host: [2001:db8::1]\r\n"), std::string::npos);
}

}  // namespace
}  // namespace rsthop::probe
