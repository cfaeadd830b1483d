// The signals for real injectors' habits, on hand-made facts: a TTL chosen per
// connection (ttl_varies), fields copied from the request (copied_fields), an
// answer injected before the RST (injected_answer), two senders in one burst.
// Each one is shown firing and, on an endpoint's own RST, staying quiet.
#include <gtest/gtest.h>

#include "attribution/remote.h"

namespace rsthop::attribution {
namespace {

// An endpoint's own RST three hops away, matching its SYN-ACK (TTL 62).
RemoteFacts facts() {
  RemoteFacts f;
  f.rst.ttl = 62;
  f.rst.family = 4;
  f.rst.sport = 443;
  f.rst_hop = 3;
  rh_event base{};
  base.ttl = 62;
  f.base = base;
  f.endpoint_hop = 3;
  f.sender = 1;
  f.receiver = 0;
  f.synack_ttls_seen = {62};
  f.rst_ttls_seen = {62};
  return f;
}

bool fired(const std::vector<Evidence>& ev, const char* signal) {
  for (const auto& e : ev)
    if (e.signal == signal) return true;
  return false;
}

// The engine's TTL memory: a set as std::set<uint8_t> was (size, membership, ascending walk), without its nodes.
TEST(InjectorSignals, TtlSetIsASetInAscendingOrder) {
  TtlSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.front(), 0);
  for (uint8_t t : {255, 64, 0, 64, 63, 128, 127}) s.insert(t);
  EXPECT_EQ(s.size(), 6u);
  EXPECT_TRUE(s.contains(0));
  EXPECT_TRUE(s.contains(255));
  EXPECT_FALSE(s.contains(62));
  EXPECT_FALSE(s.contains(65));
  EXPECT_EQ(s.front(), 0);
  std::vector<int> walked;
  s.each([&](uint8_t t) { walked.push_back(t); });
  EXPECT_EQ(walked, (std::vector<int>{0, 63, 64, 127, 128, 255}));
  EXPECT_EQ(TtlSet({201, 107}).front(), 107);
  EXPECT_FALSE(s.single());
  EXPECT_FALSE(TtlSet().single());
  for (uint8_t t : {0, 63, 64, 200, 255}) EXPECT_TRUE(TtlSet({t}).single()) << int(t);
  EXPECT_FALSE(TtlSet({3, 200}).single());
  EXPECT_FALSE(TtlSet({64, 65}).single());
}

// A fingerprint's per-RST values in place: what a vector held, for the first 16 RSTs of a burst.
TEST(InjectorSignals, BurstValuesKeepTheFirstSixteen) {
  BurstValues<int64_t> v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v, std::vector<int64_t>{});
  for (int64_t i = 0; i < 20; i++) v.push_back(i * -3);
  ASSERT_EQ(v.size(), BurstValues<int64_t>::kMaxValues);
  EXPECT_EQ(v.front(), 0);
  EXPECT_EQ(v.back(), -45);
  std::vector<int64_t> first16;
  for (int64_t i = 0; i < 16; i++) first16.push_back(i * -3);
  EXPECT_EQ(v, first16);
  EXPECT_FALSE(v == std::vector<int64_t>(first16.begin(), first16.end() - 1));
  EXPECT_EQ(BurstValues<uint8_t>({64, 62}), (BurstValues<uint8_t>{64, 62}));
  EXPECT_FALSE(BurstValues<uint8_t>({64, 62}) == (BurstValues<uint8_t>{64}));
}

TEST(InjectorSignals, TtlVariesNeedsThreeForeignTtlsAndOneServerTtl) {
  RemoteFacts f = facts();
  EXPECT_FALSE(ttl_varies_signal(f)) << "the server's own RSTs";
  f.rst.ttl = 107;
  f.rst_ttls_seen = {62, 107, 201};
  EXPECT_FALSE(ttl_varies_signal(f)) << "two foreign TTLs may be two devices";
  f.rst_ttls_seen = {62, 107, 201, 45};
  auto e = ttl_varies_signal(f);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->strong);
  EXPECT_GT(e->weight, 0);
  EXPECT_NE(e->observed().find("3 different TTLs"), std::string::npos) << e->observed();
  EXPECT_NE(e->expected().find("TTL 62"), std::string::npos) << e->expected();
  f.synack_ttls_seen = {62, 63};  // the server's own TTL changes too: a path change, not forgery
  EXPECT_FALSE(ttl_varies_signal(f));
  f = facts();
  f.rst_ttls_seen = {62, 107, 201, 45};
  EXPECT_FALSE(ttl_varies_signal(f)) << "this RST has the server's TTL";
}

TEST(InjectorSignals, TtlVariesHidesTheHop) {
  RemoteFacts f = facts();
  f.rst.ttl = 64;  // looks like hop 1
  f.rst_hop = 1;
  f.rst_ttls_seen = {64, 107, 201};
  const auto ev = remote_evidence(f);
  ASSERT_TRUE(fired(ev, "ttl_varies"));
  const Decision d = decide(f, ev);
  EXPECT_EQ(d.origin, Origin::middlebox);
  EXPECT_FALSE(d.hop) << "no hop is read from a TTL chosen per connection";
  EXPECT_TRUE(d.ttl_forged);
}

TEST(InjectorSignals, CopiedFields) {
  RemoteFacts f = facts();
  flow::PacketMark req;
  req.ip_id = 4000;
  req.window = 502;
  f.answered = req;
  f.rst.ip_id = 9;
  f.rst.window = 502;
  EXPECT_FALSE(copied_fields_signal(f)) << "a window alone is no proof";
  f.rst.ip_id = 4001;
  auto e = copied_fields_signal(f);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->strong);
  EXPECT_NE(e->observed().find("IP ID 4001 = the request's + 1"), std::string::npos) << e->observed();
  EXPECT_NE(e->observed().find("window 502"), std::string::npos) << e->observed();
  f.rst.family = 6;
  EXPECT_FALSE(copied_fields_signal(f)) << "IPv6 has no IP ID";
}

TEST(InjectorSignals, InjectedAnswer) {
  RemoteFacts f = facts();
  EXPECT_FALSE(injected_answer_signal(f));
  flow::PacketMark fin;
  fin.ttl = 64;
  f.fin = fin;
  f.st.bytes[1] = 120;  // the FIN's blockpage, the sender's only data
  auto e = injected_answer_signal(f);
  ASSERT_TRUE(e);
  EXPECT_GT(e->weight, 0) << "a FIN TTL unlike the SYN-ACK's";
  f.fin->ttl = 62;
  EXPECT_EQ(injected_answer_signal(f)->weight, 0) << "the server's own answer and close: context";
  f.st.ts_first_payload[1] = 5;  // the sender had sent data before: an ordinary close
  EXPECT_FALSE(injected_answer_signal(f));
}

TEST(InjectorSignals, TwoSendersInOneBurst) {
  RemoteFacts f = facts();
  f.rst.ttl = 64;
  f.rst_hop = 1;
  f.fingerprint.ttls = {64, 63};
  const auto ev = remote_evidence(f);
  ASSERT_TRUE(fired(ev, "burst_ttl"));
  const Decision d = decide(f, ev);
  EXPECT_EQ(d.origin, Origin::middlebox);
  EXPECT_EQ(d.senders, (std::vector<int>{1, 2}));
  EXPECT_EQ(d.hop, 1);
  const std::string s = remote_summary(f, d, Stage::post_syn);
  EXPECT_NE(s.find("2 senders"), std::string::npos) << s;
  EXPECT_NE(s.find("hops 1 and 2"), std::string::npos) << s;
}

}  // namespace
}  // namespace rsthop::attribution
