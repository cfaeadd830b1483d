// Tiny in-process servers on loopback for the probe tests (never anything else).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "common/fd.h"

namespace rsthop::test {

// Listens on 127.0.0.1 (or ::1) on an ephemeral port; with a handler, a
// thread accepts connections one by one and hands each (blocking, with a
// 3 s receive timeout) to it.  Without a handler it never accepts: the
// kernel completes handshakes from the backlog and nothing is ever said.
class LoopbackServer {
 public:
  using Handler = std::function<void(Fd&)>;
  explicit LoopbackServer(Handler handler, int family = 4);
  ~LoopbackServer();
  uint16_t port() const { return port_; }

 private:
  Fd listen_;
  uint16_t port_ = 0;
  Handler handler_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then released).
uint16_t closed_port();

// Reads until "\r\n\r\n", EOF or the receive timeout.
std::string read_head(int fd);
// SO_LINGER {1,0} then close: the peer gets a RST.
void abort_fd(Fd& fd);

// A server SSL_CTX with a fresh self-signed P-256 certificate: CN=probe.test,
// O=rsthop test, SAN DNS:probe.test and IP:127.0.0.1, valid for a day.
// ALPN: picks http/1.1, or with `alpn_alert` refuses with no_application_protocol.
struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
std::unique_ptr<SSL_CTX, SslCtxDeleter> make_server_ctx(bool alpn_alert = false);

}  // namespace rsthop::test
