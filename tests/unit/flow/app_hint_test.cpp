// parse_app_hint on untrusted first-payload bytes: real and hand-built TLS
// ClientHellos, HTTP requests, every truncation, garbage.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "flow/app_hint.h"
#include "tls_hello.h"

namespace rsthop::test {
namespace {

using flow::AppHint;
using flow::parse_app_hint;

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

size_t find(const Bytes& hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return it == hay.end() ? std::string::npos : static_cast<size_t>(it - hay.begin());
}

void put16(Bytes& b, size_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

// One extension: type, length, body.
Bytes ext(uint16_t type, const Bytes& body) {
  Bytes e;
  put16(e, type);
  put16(e, body.size());
  e.insert(e.end(), body.begin(), body.end());
  return e;
}

Bytes sni_ext(std::string_view name, uint8_t name_type = 0) {
  Bytes body;
  put16(body, name.size() + 3);
  body.push_back(name_type);
  put16(body, name.size());
  body.insert(body.end(), name.begin(), name.end());
  return ext(0, body);
}

// A minimal ClientHello record around `exts` (already encoded extensions).
Bytes client_hello(const Bytes& exts, uint8_t record_major = 3) {
  Bytes hs;
  hs.push_back(3);  // client_version 3.3
  hs.push_back(3);
  hs.insert(hs.end(), 32, 0x11);  // random
  hs.push_back(0);                // session_id
  put16(hs, 2);                   // cipher_suites
  hs.push_back(0x13);
  hs.push_back(0x01);
  hs.push_back(1);  // compression_methods: null
  hs.push_back(0);
  put16(hs, exts.size());
  hs.insert(hs.end(), exts.begin(), exts.end());
  Bytes rec = {22, record_major, 1};
  put16(rec, hs.size() + 4);
  rec.push_back(1);  // ClientHello
  rec.push_back(0);
  put16(rec, hs.size());
  rec.insert(rec.end(), hs.begin(), hs.end());
  return rec;
}

TEST(AppHintTls, OpensslClientHelloGivesTheSni) {
  Bytes hello = openssl_client_hello("www.example.com");
  ASSERT_GT(hello.size(), 100u);
  EXPECT_EQ(hello[0], 22);  // handshake record
  AppHint h;
  EXPECT_TRUE(parse_app_hint(hello, h));
  EXPECT_EQ(h.tls_sni, "www.example.com");
  EXPECT_TRUE(h.http_host.empty());
  EXPECT_TRUE(h.http_request.empty());
}

TEST(AppHintTls, OpensslClientHelloWithoutSni) {
  Bytes hello = openssl_client_hello("");
  AppHint h;
  EXPECT_TRUE(parse_app_hint(hello, h));
  EXPECT_TRUE(h.tls_sni.empty());
}

TEST(AppHintTls, TruncatedAtEveryLengthNeverYieldsAPartialName) {
  const std::string name = "api.internal-service.example.net";
  Bytes hello = openssl_client_hello(name);
  size_t at = find(hello, name);
  ASSERT_NE(at, std::string::npos);
  size_t complete = at + name.size();
  for (size_t n = 0; n <= hello.size(); n++) {
    AppHint h;
    bool tls = parse_app_hint(std::span<const uint8_t>(hello.data(), n), h);
    // Record header (5) + handshake type (1) + length (3) say "ClientHello".
    EXPECT_EQ(tls, n >= 9) << "cut at " << n;
    EXPECT_EQ(h.tls_sni, n >= complete ? name : "") << "cut at " << n;
    EXPECT_TRUE(h.http_host.empty());
  }
}

TEST(AppHintTls, SniAfterAnotherExtension) {
  Bytes exts = ext(10, {0, 2, 0, 29});  // supported_groups
  Bytes s = sni_ext("b.example");
  exts.insert(exts.end(), s.begin(), s.end());
  AppHint h;
  EXPECT_TRUE(parse_app_hint(client_hello(exts), h));
  EXPECT_EQ(h.tls_sni, "b.example");
}

TEST(AppHintTls, SnapshotCutAfterTheSniStillNamesIt) {
  // A large ClientHello (post-quantum key share) cut at the 512-byte snapshot.
  Bytes exts = sni_ext("pq.example");
  Bytes big = ext(51, Bytes(1200, 0x42));
  exts.insert(exts.end(), big.begin(), big.end());
  Bytes hello = client_hello(exts);
  ASSERT_GT(hello.size(), size_t{RH_DATA_SNAP_MAX});
  AppHint h;
  EXPECT_TRUE(parse_app_hint(std::span<const uint8_t>(hello.data(), RH_DATA_SNAP_MAX), h));
  EXPECT_EQ(h.tls_sni, "pq.example");
}

TEST(AppHintTls, SnapshotCutBeforeTheSniNamesNothing) {
  Bytes exts = ext(51, Bytes(600, 0x42));
  Bytes s = sni_ext("late.example");
  exts.insert(exts.end(), s.begin(), s.end());
  Bytes hello = client_hello(exts);
  AppHint h;
  EXPECT_TRUE(parse_app_hint(std::span<const uint8_t>(hello.data(), RH_DATA_SNAP_MAX), h));
  EXPECT_TRUE(h.tls_sni.empty());
  AppHint whole;
  EXPECT_TRUE(parse_app_hint(hello, whole));
  EXPECT_EQ(whole.tls_sni, "late.example");
}

TEST(AppHintTls, RejectsNonHostNamesAndOtherNameTypes) {
  AppHint a;
  EXPECT_TRUE(parse_app_hint(client_hello(sni_ext("bad name\x01")), a));
  EXPECT_TRUE(a.tls_sni.empty());
  AppHint b;
  EXPECT_TRUE(parse_app_hint(client_hello(sni_ext("x.example", 1)), b));
  EXPECT_TRUE(b.tls_sni.empty());
}

TEST(AppHintTls, NotAClientHello) {
  Bytes server_hello = client_hello(sni_ext("x.example"));
  server_hello[5] = 2;  // ServerHello
  AppHint a;
  EXPECT_FALSE(parse_app_hint(server_hello, a));
  EXPECT_TRUE(a.tls_sni.empty());
  AppHint b;
  EXPECT_FALSE(parse_app_hint(client_hello(sni_ext("x.example"), /*record_major=*/2), b));
  EXPECT_TRUE(b.tls_sni.empty());
}

TEST(AppHintHttp, RequestLineAndHostWithThePortStripped) {
  AppHint h;
  EXPECT_TRUE(parse_app_hint(
      bytes_of(
          "GET /search?q=1 HTTP/1.1\r\nUser-Agent: curl/8\r\nhOsT:  Shop.Example.com:8080 \r\nAccept: */*\r\n\r\n"),
      h));
  EXPECT_EQ(h.http_request, "GET /search?q=1 HTTP/1.1");
  EXPECT_EQ(h.http_host, "Shop.Example.com");
  EXPECT_TRUE(h.tls_sni.empty());
}

TEST(AppHintHttp, EveryMethod) {
  for (const char* m : {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}) {
    AppHint h;
    std::string req = std::string(m) + " / HTTP/1.1\r\nHost: m.example\r\n\r\n";
    EXPECT_TRUE(parse_app_hint(bytes_of(req), h)) << m;
    EXPECT_EQ(h.http_request, std::string(m) + " / HTTP/1.1");
    EXPECT_EQ(h.http_host, "m.example");
  }
}

TEST(AppHintHttp, BracketedIpv6HostKeepsTheBracketsDropsThePort) {
  AppHint h;
  EXPECT_TRUE(parse_app_hint(bytes_of("GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n"), h));
  EXPECT_EQ(h.http_host, "[2001:db8::1]");
  AppHint plain;
  EXPECT_TRUE(parse_app_hint(bytes_of("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n"), plain));
  EXPECT_EQ(plain.http_host, "[2001:db8::1]");
}

TEST(AppHintHttp, NoHostHeader) {
  AppHint h;
  EXPECT_TRUE(parse_app_hint(bytes_of("GET / HTTP/1.0\r\nHostname: no\r\nX-Host: no\r\n\r\n"), h));
  EXPECT_EQ(h.http_request, "GET / HTTP/1.0");
  EXPECT_TRUE(h.http_host.empty());
}

TEST(AppHintHttp, HostInTheBodyIsNotAHeader) {
  AppHint h;
  EXPECT_TRUE(parse_app_hint(bytes_of("POST /f HTTP/1.1\r\nContent-Length: 15\r\n\r\nHost: evil.test"), h));
  EXPECT_TRUE(h.http_host.empty());
}

TEST(AppHintHttp, HostWithSpacesOrControlCharactersIsDropped) {
  AppHint h;
  EXPECT_TRUE(parse_app_hint(bytes_of("GET / HTTP/1.1\r\nHost: a b.example\r\n\r\n"), h));
  EXPECT_TRUE(h.http_host.empty());
  AppHint e;
  EXPECT_TRUE(parse_app_hint(bytes_of("GET / HTTP/1.1\r\nHost:\r\n\r\n"), e));
  EXPECT_TRUE(e.http_host.empty());
}

TEST(AppHintHttp, LongRequestLineIsCappedAt256) {
  std::string req = "GET /" + std::string(1000, 'a') + " HTTP/1.1\r\nHost: long.example\r\n\r\n";
  AppHint h;
  EXPECT_TRUE(parse_app_hint(bytes_of(req), h));
  EXPECT_EQ(h.http_request.size(), 256u);
  EXPECT_EQ(h.http_request, req.substr(0, 256));
  EXPECT_EQ(h.http_host, "long.example");
}

TEST(AppHintHttp, TruncatedAtEveryLengthNeverYieldsAPartialHost) {
  const std::string req = "GET /a HTTP/1.1\r\nHost: www.example.org:80\r\nAccept: */*\r\n\r\n";
  size_t host_line_end = req.find("\r\nAccept");
  for (size_t n = 0; n <= req.size(); n++) {
    AppHint h;
    bool http = parse_app_hint(bytes_of(std::string_view(req).substr(0, n)), h);
    EXPECT_EQ(http, n >= 4) << "cut at " << n;  // "GET " decides
    EXPECT_EQ(h.http_host, n >= host_line_end + 2 ? "www.example.org" : "") << "cut at " << n;
    // A cut request line is kept as far as it goes (it still says what was asked).
    EXPECT_EQ(h.http_request, n < 4 ? "" : n < 17 ? req.substr(0, n) : "GET /a HTTP/1.1") << "cut at " << n;
  }
}

TEST(AppHintHttp, LowercaseMethodIsNotHttp) {
  AppHint h;
  EXPECT_FALSE(parse_app_hint(bytes_of("get / HTTP/1.1\r\nHost: x\r\n\r\n"), h));
  EXPECT_TRUE(h.http_request.empty());
}

TEST(AppHint, GarbageIsNeitherAndNeverCrashes) {
  AppHint h;
  EXPECT_FALSE(parse_app_hint(bytes_of("SSH-2.0-OpenSSH_9.2p1\r\n"), h));
  EXPECT_FALSE(parse_app_hint({}, h));
  EXPECT_TRUE(h.tls_sni.empty() && h.http_host.empty() && h.http_request.empty());

  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  size_t tls_like = 0;
  for (int i = 0; i < 20000; i++) {
    Bytes b(static_cast<size_t>(byte(rng)) * 2);
    for (auto& x : b) x = static_cast<uint8_t>(byte(rng));
    if (i % 2 && b.size() >= 6) {  // half of them look like a ClientHello header
      b[0] = 22;
      b[1] = 3;
      b[5] = 1;
    }
    AppHint g;
    bool ok = parse_app_hint(b, g);
    tls_like += ok;
    for (const std::string* s : {&g.tls_sni, &g.http_host})
      for (char c : *s)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) ||
                    std::string_view(".-_:[]").find(c) != std::string_view::npos);
  }
  EXPECT_GT(tls_like, 9000u);  // the headers were recognised, the rest survived
}

TEST(AppHint, FuzzedClientHelloMutationsNeverCrash) {
  Bytes hello = openssl_client_hello("mut.example");
  std::mt19937 rng(99);
  for (int i = 0; i < 20000; i++) {
    Bytes b = hello;
    int flips = 1 + i % 4;
    for (int k = 0; k < flips; k++) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    b.resize(rng() % (b.size() + 1));
    AppHint g;
    parse_app_hint(b, g);
    EXPECT_LE(g.tls_sni.size(), b.size());
  }
}

}  // namespace
}  // namespace rsthop::test
