// The Evidence type: two texts in one buffer, built in place from literals and numbers.
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>

#include "attribution/verdict.h"

namespace rsthop::attribution {
namespace {

TEST(Evidence, ObservedThenExpectedShareOneBuffer) {
  const uint8_t ttl = 64;
  const int64_t off = -70000;
  Evidence e = Evidence("seq", 0.3, true).obs("TTL ", ttl, " off by ", off).exp("seq ", uint32_t{4294967295u}, ".");
  EXPECT_EQ(e.signal, "seq");
  EXPECT_EQ(e.observed(), "TTL 64 off by -70000");  // a uint8_t is a number, not a character
  EXPECT_EQ(e.expected(), "seq 4294967295.");
  EXPECT_DOUBLE_EQ(e.weight, 0.3);
  EXPECT_TRUE(e.strong);
}

TEST(Evidence, ObservedAloneLeavesExpectedEmpty) {
  Evidence e = Evidence("l2_vendor", 0).obs("Example Networks");
  EXPECT_EQ(e.observed(), "Example Networks");
  EXPECT_TRUE(e.expected().empty());
  Evidence from_texts("window", "window 2048", "window 0", 0.1);
  EXPECT_EQ(from_texts.observed(), "window 2048");
  EXPECT_EQ(from_texts.expected(), "window 0");
  EXPECT_FALSE(from_texts.strong);
}

TEST(Evidence, ObsAppendsUntilExpBegins) {
  Evidence e("copied_fields", 0.4);
  e.obs("IP ID ", 7);
  e.obs(": built from the request");
  e.exp("the peer's ", "own counter");
  EXPECT_EQ(e.observed(), "IP ID 7: built from the request");
  EXPECT_EQ(e.expected(), "the peer's own counter");
}

// Texts are held in place up to InlineText::kInline bytes: one that grows past
// it, in any piece, moves to the heap whole, and copies keep their own text.
TEST(Evidence, TextsPastTheInlineRoomAreKeptWhole) {
  const std::string long_vendor(100, 'v');  // a registry name: no bound of ours
  Evidence e("l2_vendor", 0.2);
  e.obs("MAC of ", long_vendor);
  e.exp("the server's own, ", uint64_t{18446744073709551615u}, " and more");
  EXPECT_EQ(e.observed(), "MAC of " + long_vendor);
  EXPECT_EQ(e.expected(), "the server's own, 18446744073709551615 and more");
  Evidence copy = e;
  e.exp(" changed");
  EXPECT_EQ(copy.expected(), "the server's own, 18446744073709551615 and more");
  EXPECT_EQ(copy.observed(), "MAC of " + long_vendor);
  // Assigned over an existing text, and moved (as into the evidence vector), the text is whole.
  Evidence assigned("seq", 0);
  assigned.obs("seq 1");
  assigned = copy;
  EXPECT_EQ(assigned.observed(), "MAC of " + long_vendor);
  const Evidence moved = std::move(copy);
  EXPECT_EQ(moved.expected(), "the server's own, 18446744073709551615 and more");

  // At the boundary: a text of exactly kInline bytes stays in place, one more byte moves it.
  const std::string fill(InlineText::kInline - 1, 'x');
  InlineText t;
  t.append(fill, "y");
  EXPECT_EQ(t.view(), fill + "y");
  t.append(int64_t{-9223372036854775807 - 1});
  EXPECT_EQ(t.view(), fill + "y-9223372036854775808");
  EXPECT_EQ(t.size(), InlineText::kInline + 20);
}

TEST(Evidence, SignalNamesCompareAndPrintAsText) {
  const SignalName a = "race", b = "race", c = "seq";
  EXPECT_TRUE(a == b.view());
  EXPECT_FALSE(a == c);
  std::ostringstream os;
  os << c;
  EXPECT_EQ(os.str(), "seq");
  std::string s = "x";
  append(s, a, ":", uint16_t{65535}, ",", -1, ",", std::string("y"));
  EXPECT_EQ(s, "xrace:65535,-1,y");
}

}  // namespace
}  // namespace rsthop::attribution
