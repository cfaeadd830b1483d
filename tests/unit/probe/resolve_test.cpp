#include <gtest/gtest.h>

#include "probe/probe.h"

namespace rsthop::probe {
namespace {

TEST(Resolve, Ipv4LiteralWithDefaultPort) {
  auto t = resolve("127.0.0.1", 443);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->family, 4);
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(addr_to_string(t->addr.data()), "127.0.0.1");
  EXPECT_EQ(t->host, "127.0.0.1");
}

TEST(Resolve, Ipv4LiteralWithPort) {
  auto t = resolve("198.18.0.1:8080", 443);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(addr_to_string(t->addr.data()), "198.18.0.1");
  EXPECT_EQ(t->host, "198.18.0.1");
}

TEST(Resolve, BracketedIpv6WithPort) {
  auto t = resolve("[2001:db8::1]:8443", 443);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->family, 6);
  EXPECT_EQ(t->port, 8443);
  EXPECT_EQ(addr_to_string(t->addr.data()), "2001:db8::1");
  EXPECT_EQ(t->host, "2001:db8::1");
}

TEST(Resolve, BracketedIpv6WithoutPort) {
  auto t = resolve("[::1]", 80);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->family, 6);
  EXPECT_EQ(t->port, 80);
}

TEST(Resolve, BareIpv6LiteralHasNoPort) {
  auto t = resolve("2001:db8::443", 443);  // the last group is part of the address
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->family, 6);
  EXPECT_EQ(t->port, 443);
  EXPECT_EQ(addr_to_string(t->addr.data()), "2001:db8::443");
}

TEST(Resolve, Localhost) {
  auto t = resolve("localhost:8080", 443, 4);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->family, 4);
  EXPECT_EQ(addr_to_string(t->addr.data()), "127.0.0.1");
  EXPECT_EQ(t->host, "localhost");
}

TEST(Resolve, FamilyIsForced) {
  auto t = resolve("127.0.0.1", 443, 6);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message.rfind("cannot resolve '127.0.0.1': ", 0), 0u) << t.error().message;
  auto bad = resolve("127.0.0.1", 443, 5);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("0, 4 or 6"), std::string::npos);
}

TEST(Resolve, BadInputGetsOneSentence) {
  struct Case {
    const char* in;
    const char* expect;
  } cases[] = {
      {"", "cannot parse '' as HOST[:PORT] or [V6]:PORT: it is empty"},
      {"[2001:db8::1", "missing ']'"},
      {"[2001:db8::1]x", "unexpected text after ']'"},
      {"host:", "the port '' is not in 1-65535"},
      {"host:0", "the port '0' is not in 1-65535"},
      {"host:65536", "the port '65536' is not in 1-65535"},
      {"host:http", "the port 'http' is not in 1-65535"},
      {":443", "the host is empty"},
      {"[]:443", "the host is empty"},
  };
  for (const auto& c : cases) {
    auto t = resolve(c.in, 443);
    ASSERT_FALSE(t.ok()) << c.in;
    EXPECT_NE(t.error().message.find(c.expect), std::string::npos) << c.in << " -> " << t.error().message;
    EXPECT_EQ(t.error().message.find('\n'), std::string::npos);
  }
}

TEST(Resolve, UnknownNameSaysWhy) {
  auto t = resolve("no-such-host.invalid:443", 443);  // .invalid never resolves (RFC 6761)
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message.rfind("cannot resolve 'no-such-host.invalid': ", 0), 0u) << t.error().message;
}

TEST(Names, AreStable) {
  EXPECT_STREQ(outcome_name(Outcome::ok), "ok");
  EXPECT_STREQ(outcome_name(Outcome::refused), "refused");
  EXPECT_STREQ(outcome_name(Outcome::reset), "reset");
  EXPECT_STREQ(outcome_name(Outcome::timeout), "timeout");
  EXPECT_STREQ(outcome_name(Outcome::unreachable), "unreachable");
  EXPECT_STREQ(outcome_name(Outcome::tls_alert), "tls_alert");
  EXPECT_STREQ(outcome_name(Outcome::cert_error), "cert_error");
  EXPECT_STREQ(outcome_name(Outcome::error), "error");
  EXPECT_STREQ(syn_kind_name(SynStep::time_exceeded), "time_exceeded");
  EXPECT_STREQ(syn_kind_name(SynStep::unreachable), "unreachable");
  EXPECT_STREQ(syn_kind_name(SynStep::reached), "reached");
  EXPECT_STREQ(syn_kind_name(SynStep::refused), "refused");
  EXPECT_STREQ(syn_kind_name(SynStep::silent), "silent");
  EXPECT_STREQ(trigger_kind_name(TriggerStep::reset), "reset");
  EXPECT_STREQ(trigger_kind_name(TriggerStep::response), "response");
  EXPECT_STREQ(trigger_kind_name(TriggerStep::silent), "silent");
  EXPECT_STREQ(trigger_kind_name(TriggerStep::error), "error");
}

TEST(Names, ParseIsTheInverseOfName) {
  for (int i = 0; i <= static_cast<int>(Outcome::error); i++)
    EXPECT_EQ(parse_outcome(name(static_cast<Outcome>(i))), static_cast<Outcome>(i)) << i;
  for (int i = 0; i <= SynStep::silent; i++)
    EXPECT_EQ(parse_syn_kind(name(static_cast<SynStep::Kind>(i))), static_cast<SynStep::Kind>(i)) << i;
  for (int i = 0; i <= TriggerStep::error; i++)
    EXPECT_EQ(parse_trigger_kind(name(static_cast<TriggerStep::Kind>(i))), static_cast<TriggerStep::Kind>(i)) << i;
  EXPECT_FALSE(parse_outcome("timed_out"));
  EXPECT_FALSE(parse_syn_kind(""));
  EXPECT_FALSE(parse_trigger_kind("Reset"));
}

}  // namespace
}  // namespace rsthop::probe
