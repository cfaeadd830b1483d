#include "output/community_id.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "common/addr.h"

namespace rsthop::output {
namespace {

struct Vector {
  const char* saddr;
  const char* daddr;
  uint16_t sport;
  uint16_t dport;
  uint16_t seed;
  const char* expected;
};

// Published test vectors of the Community ID specification:
// github.com/corelight/community-id-spec, baseline/baseline_deflt.json,
// baseline/baseline_seed1.json and the TCP rows of baseline/README.md.
const Vector kTcpVectors[] = {
    {"1.2.3.4", "5.6.7.8", 1122, 3344, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
    {"1.2.3.4", "5.6.7.8", 1122, 3344, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
    {"128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
    {"128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {"2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
    {"2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 1,
     "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
};

std::string cid(const char* s, const char* d, uint16_t sp, uint16_t dp, uint8_t proto, uint16_t seed) {
  auto sa = parse_addr(s);
  auto da = parse_addr(d);
  EXPECT_TRUE(sa.ok() && da.ok());
  uint8_t family = is_v4mapped(sa->data()) ? 4 : 6;
  return community_id_v1(family, sa->data(), da->data(), sp, dp, proto, seed);
}

TEST(CommunityId, PublishedTcpVectorsBothDirections) {
  for (const auto& v : kTcpVectors) {
    SCOPED_TRACE(std::string(v.saddr) + " -> " + v.daddr + " seed " + std::to_string(v.seed));
    EXPECT_EQ(cid(v.saddr, v.daddr, v.sport, v.dport, 6, v.seed), v.expected);
    EXPECT_EQ(cid(v.daddr, v.saddr, v.dport, v.sport, 6, v.seed), v.expected);
  }
}

TEST(CommunityId, PublishedUdpAndSctpVectors) {
  // Same files: the protocol byte is hashed, not assumed to be TCP.
  EXPECT_EQ(cid("192.168.1.52", "8.8.8.8", 54585, 53, 17, 0), "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
  EXPECT_EQ(cid("192.168.170.8", "192.168.170.56", 7, 7, 132, 0), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=");
  EXPECT_EQ(cid("192.168.170.56", "192.168.170.8", 7, 7, 132, 0), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=");
}

std::string icmp_cid(const char* s, const char* d, uint8_t type, uint8_t code, uint16_t seed) {
  auto sa = parse_addr(s);
  auto da = parse_addr(d);
  EXPECT_TRUE(sa.ok() && da.ok());
  uint8_t family = is_v4mapped(sa->data()) ? 4 : 6;
  return community_id_v1_icmp(family, sa->data(), da->data(), type, code, seed);
}

struct IcmpVector {
  const char* saddr;
  const char* daddr;
  uint8_t type;
  uint8_t code;
  const char* deflt;  // seed 0
  const char* seed1;
};

// The ICMP and ICMP6 rows of the spec's baseline/README.md (default and
// seed-1 tables): echo request and its reply share an ID, time exceeded
// (11) and ICMPv6 type 146 are one-way.
const IcmpVector kIcmpVectors[] = {
    {"1.2.3.4", "5.6.7.8", 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {"5.6.7.8", "1.2.3.4", 0, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=", "1:9pr4ZGTICiuZoIh90RRYE2RyXpU="},
    {"1.2.3.4", "5.6.7.8", 11, 0, "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=", "1:1DD7cWGC/Yg91YGsQeni8du3pIA="},
    {"fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 128, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {"fe80:1011:1213:1415:1617:1819:1A1B:1C1D", "fe80:0001:0203:0405:0607:0809:0A0B:0C0D", 129, 0,
     "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=", "1:IO27GQzPuCtNnwFvjWALMHu5tJE="},
    {"fe80:0001:0203:0405:0607:0809:0A0B:0C0D", "fe80:1011:1213:1415:1617:1819:1A1B:1C1D", 146, 0,
     "1:fYC8+pz24E+EhANP1EZhpX0Dw10=", "1:Cv4IKJe56BNkF0MBW2YxQ3Nwc3s="},
};

TEST(CommunityId, PublishedIcmpVectors) {
  for (const auto& v : kIcmpVectors) {
    SCOPED_TRACE(std::string(v.saddr) + " -> " + v.daddr + " type " + std::to_string(v.type));
    EXPECT_EQ(icmp_cid(v.saddr, v.daddr, v.type, v.code, 0), v.deflt);
    EXPECT_EQ(icmp_cid(v.saddr, v.daddr, v.type, v.code, 1), v.seed1);
  }
}

TEST(CommunityId, IcmpErrorsAreOneWay) {
  // An error hashed from the other side is another ID: it is never reordered.
  EXPECT_NE(icmp_cid("5.6.7.8", "1.2.3.4", 11, 0, 0), "1:f/YiSyWqczrTgfUCZlBUnvHRcPk=");
  // ...and its code is hashed: unreachable port (3/3) and host (3/1) differ.
  EXPECT_NE(icmp_cid("1.2.3.4", "5.6.7.8", 3, 3, 0), icmp_cid("1.2.3.4", "5.6.7.8", 3, 1, 0));
}

TEST(CommunityId, SameAddressOrdersByPort) {
  auto a = parse_addr("10.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(community_id_v1(4, a->data(), a->data(), 1000, 2000), community_id_v1(4, a->data(), a->data(), 2000, 1000));
  EXPECT_NE(community_id_v1(4, a->data(), a->data(), 1000, 2000), community_id_v1(4, a->data(), a->data(), 1000, 2001));
}

TEST(CommunityId, Ipv4UsesOnlyTheMappedTail) {
  // Garbage in the first 12 bytes must not change an IPv4 hash.
  auto s = parse_addr("1.2.3.4");
  auto d = parse_addr("5.6.7.8");
  ASSERT_TRUE(s.ok() && d.ok());
  Addr16 s2 = *s, d2 = *d;
  s2[0] = 0xaa;
  d2[5] = 0xbb;
  EXPECT_EQ(community_id_v1(4, s2.data(), d2.data(), 1122, 3344), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
}

// The spec's computation spelled out with OpenSSL's EVP one-shot calls (the
// implementation's digest and base64 are its own faster paths): seed,
// canonical endpoints, protocol, pad, ports; SHA-1; base64.
std::string reference_id(uint8_t family, const uint8_t* s16, const uint8_t* d16, uint16_t sp, uint16_t dp,
                         uint8_t proto, uint16_t seed) {
  size_t alen = family == 4 ? 4 : 16;
  const uint8_t* sa = s16 + 16 - alen;
  const uint8_t* da = d16 + 16 - alen;
  int cmp = std::memcmp(sa, da, alen);
  if (cmp > 0 || (cmp == 0 && sp > dp)) {
    std::swap(sa, da);
    std::swap(sp, dp);
  }
  std::vector<uint8_t> in = {static_cast<uint8_t>(seed >> 8), static_cast<uint8_t>(seed)};
  in.insert(in.end(), sa, sa + alen);
  in.insert(in.end(), da, da + alen);
  in.insert(in.end(), {proto, 0, static_cast<uint8_t>(sp >> 8), static_cast<uint8_t>(sp), static_cast<uint8_t>(dp >> 8),
                       static_cast<uint8_t>(dp)});
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EXPECT_EQ(EVP_Digest(in.data(), in.size(), md, &mdlen, EVP_sha1(), nullptr), 1);
  unsigned char b64[64];
  int n = EVP_EncodeBlock(b64, md, static_cast<int>(mdlen));
  return "1:" + std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

TEST(CommunityId, RandomTuplesMatchTheEvpReference) {
  std::mt19937_64 rng(14);
  for (int i = 0; i < 20000; i++) {
    uint8_t s[16] = {}, d[16] = {};
    uint8_t family = i % 2 ? 4 : 6;
    for (auto& b : s) b = static_cast<uint8_t>(rng());
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    if (i % 7 == 0) std::memcpy(d, s, 16);  // the same address: ordered by port
    auto sp = static_cast<uint16_t>(rng());
    auto dp = static_cast<uint16_t>(rng());
    auto proto = static_cast<uint8_t>(i % 3 ? 6 : 17);
    auto seed = static_cast<uint16_t>(i % 5 ? 0 : rng());
    ASSERT_EQ(community_id_v1(family, s, d, sp, dp, proto, seed), reference_id(family, s, d, sp, dp, proto, seed))
        << "tuple " << i;
  }
}

}  // namespace
}  // namespace rsthop::output
