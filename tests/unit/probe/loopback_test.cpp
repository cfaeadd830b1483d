// tcp_connect, http_get and tls_probe against servers this test runs on loopback.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "probe/probe.h"
#include "test_servers.h"

namespace rsthop::probe {
namespace {

using test::LoopbackServer;

Target loopback(uint16_t port, int family = 4) {
  auto t = resolve(family == 6 ? "::1" : "127.0.0.1", port);
  EXPECT_TRUE(t.ok());
  return *t;
}

void close_quietly(Fd& fd) {
  ::shutdown(fd.get(), SHUT_WR);
  char b[512];
  while (::recv(fd.get(), b, sizeof(b), 0) > 0) {}
  fd.reset();
}

TEST(TcpConnect, Ok) {
  LoopbackServer srv([](Fd& c) { close_quietly(c); });
  auto r = tcp_connect(loopback(srv.port()), Timing{1000});
  EXPECT_EQ(r.outcome, Outcome::ok) << r.error;
  EXPECT_NE(r.local_port, 0);
  EXPECT_GE(r.ms, 0);
  EXPECT_LT(r.ms, 1000);
}

TEST(TcpConnect, OkOverIpv6) {
  LoopbackServer srv([](Fd& c) { close_quietly(c); }, 6);
  auto r = tcp_connect(loopback(srv.port(), 6), Timing{1000});
  EXPECT_EQ(r.outcome, Outcome::ok) << r.error;
  EXPECT_NE(r.local_port, 0);
}

TEST(TcpConnect, RefusedOnClosedPort) {
  auto r = tcp_connect(loopback(test::closed_port()), Timing{1000});
  EXPECT_EQ(r.outcome, Outcome::refused);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_NE(r.local_port, 0);
}

TEST(HttpGet, StatusLineAndLocation) {
  std::string seen;
  LoopbackServer srv([&](Fd& c) {
    seen = test::read_head(c.get());
    std::string a = "HTTP/1.1 301 Moved\r\nLocation: https://x/\r\nContent-Length: 0\r\n\r\n";
    ::send(c.get(), a.data(), a.size(), MSG_NOSIGNAL);
    close_quietly(c);
  });
  auto r = http_get(loopback(srv.port()), "probe.test", Timing{2000});
  EXPECT_EQ(r.outcome, Outcome::ok) << r.error;
  EXPECT_EQ(r.connect.outcome, Outcome::ok);
  EXPECT_EQ(r.status_line, "HTTP/1.1 301 Moved");
  EXPECT_EQ(r.location, "https://x/");
  EXPECT_EQ(r.local_port, r.connect.local_port);
  EXPECT_NE(seen.find("Host: probe.test\r\n"), std::string::npos) << seen;
}

TEST(HttpGet, ResetAfterTheRequest) {
  LoopbackServer srv([](Fd& c) {
    test::read_head(c.get());
    test::abort_fd(c);
  });
  auto r = http_get(loopback(srv.port()), "probe.test", Timing{2000});
  EXPECT_EQ(r.outcome, Outcome::reset) << r.error;
  EXPECT_EQ(r.connect.outcome, Outcome::ok);
}

TEST(HttpGet, SilentServerTimesOut) {
  LoopbackServer srv(nullptr);  // handshakes from the backlog, never a byte
  auto r = http_get(loopback(srv.port()), "probe.test", Timing{300});
  EXPECT_EQ(r.outcome, Outcome::timeout) << r.error;
  EXPECT_GE(r.ms, 290);
}

TEST(HttpGet, RefusedIsReported) {
  auto r = http_get(loopback(test::closed_port()), "x", Timing{1000});
  EXPECT_EQ(r.outcome, Outcome::refused);
  EXPECT_EQ(r.connect.outcome, Outcome::refused);
}

TEST(TlsProbe, RefusedOnClosedPort) {
  auto r = tls_probe(loopback(test::closed_port()), "probe.test", Timing{1000});
  EXPECT_EQ(r.outcome, Outcome::refused);
  EXPECT_FALSE(r.reset_before_hello);
  EXPECT_FALSE(r.reset_after_hello_ms);
}

// A probe whose connect failed reports the connect's time and port, as the HTTP probe always did
// (the TLS probe said 0 ms): both take them from one place.
TEST(ProbeConnect, AFailedConnectGivesItsTimeAndPort) {
  const auto tls = tls_probe(loopback(test::closed_port()), "probe.test", Timing{1000});
  const auto http = http_get(loopback(test::closed_port()), "x", Timing{1000});
  for (const auto* c : {&tls.connect, &http.connect}) {
    EXPECT_EQ(c->outcome, Outcome::refused);
    EXPECT_GT(c->ms, 0);
    EXPECT_NE(c->local_port, 0);
  }
  EXPECT_EQ(tls.ms, tls.connect.ms);
  EXPECT_EQ(tls.local_port, tls.connect.local_port);
  EXPECT_EQ(tls.error, tls.connect.error);
  EXPECT_EQ(http.ms, http.connect.ms);
  EXPECT_EQ(http.local_port, http.connect.local_port);
}

TEST(TlsProbe, ResetAfterTheClientHello) {
  LoopbackServer srv([](Fd& c) {
    char b[64];
    ::recv(c.get(), b, sizeof(b), 0);  // the first bytes of the ClientHello
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    test::abort_fd(c);
  });
  auto r = tls_probe(loopback(srv.port()), "blocked.example", Timing{2000});
  EXPECT_EQ(r.outcome, Outcome::reset) << r.error;
  ASSERT_TRUE(r.reset_after_hello_ms.has_value()) << r.error;
  EXPECT_GE(*r.reset_after_hello_ms, 25);
  EXPECT_LT(*r.reset_after_hello_ms, 1000);
  EXPECT_FALSE(r.reset_before_hello);
  EXPECT_NE(r.local_port, 0);
}

TEST(TlsProbe, SilentServerTimesOut) {
  LoopbackServer srv(nullptr);
  auto r = tls_probe(loopback(srv.port()), "probe.test", Timing{300});
  EXPECT_EQ(r.outcome, Outcome::timeout) << r.error;
  EXPECT_EQ(r.connect.outcome, Outcome::ok);
  EXPECT_GE(r.ms, 290);
}

TEST(TlsProbe, ServerClosingWithoutAnswerIsAnError) {
  LoopbackServer srv([](Fd& c) {
    char b[64];
    ::recv(c.get(), b, sizeof(b), 0);
    close_quietly(c);
  });
  auto r = tls_probe(loopback(srv.port()), "probe.test", Timing{2000});
  EXPECT_EQ(r.outcome, Outcome::error);
  EXPECT_NE(r.error.find("FIN"), std::string::npos) << r.error;
}

void serve_tls(SSL_CTX* ctx, Fd& c, std::string* sni_seen) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, c.get());
  if (SSL_accept(ssl) == 1) {
    if (sni_seen) {
      const char* n = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      *sni_seen = n ? n : "";
    }
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  close_quietly(c);
}

TEST(TlsProbe, HandshakeRecordsTheCertificate) {
  auto ctx = test::make_server_ctx();
  std::string sni_seen;
  LoopbackServer srv([&](Fd& c) { serve_tls(ctx.get(), c, &sni_seen); });
  auto r = tls_probe(loopback(srv.port()), "probe.test", Timing{2000});
  ASSERT_EQ(r.outcome, Outcome::ok) << r.error;
  EXPECT_EQ(r.version, "TLSv1.3");
  EXPECT_FALSE(r.cipher.empty());
  EXPECT_EQ(r.alpn, "http/1.1");
  EXPECT_NE(r.subject.find("CN=probe.test"), std::string::npos) << r.subject;
  EXPECT_NE(r.subject.find("O=rsthop test"), std::string::npos) << r.subject;
  EXPECT_EQ(r.subject, r.issuer);  // self-signed
  EXPECT_NE(std::find(r.sans.begin(), r.sans.end(), "probe.test"), r.sans.end());
  EXPECT_NE(std::find(r.sans.begin(), r.sans.end(), "127.0.0.1"), r.sans.end());
  EXPECT_EQ(r.not_before.size(), 20u) << r.not_before;  // 2025-01-01T00:00:00Z
  EXPECT_EQ(r.not_before[10], 'T');
  EXPECT_EQ(r.not_after.back(), 'Z');
  EXPECT_LT(r.not_before, r.not_after);
  EXPECT_GT(r.ms, 0);
  EXPECT_FALSE(r.reset_after_hello_ms);
  EXPECT_EQ(sni_seen, "probe.test");
}

TEST(TlsProbe, AlertIsNamed) {
  auto ctx = test::make_server_ctx(/*alpn_alert=*/true);
  LoopbackServer srv([&](Fd& c) { serve_tls(ctx.get(), c, nullptr); });
  auto r = tls_probe(loopback(srv.port()), "probe.test", Timing{2000});
  EXPECT_EQ(r.outcome, Outcome::tls_alert) << r.error;
  EXPECT_EQ(r.alert, "no application protocol");
}

}  // namespace
}  // namespace rsthop::probe
