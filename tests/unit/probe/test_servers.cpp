#include "test_servers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace rsthop::test {

LoopbackServer::LoopbackServer(Handler handler, int family) : handler_(std::move(handler)) {
  listen_ = Fd(::socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listen_.valid()) throw std::runtime_error("socket failed");
  sockaddr_storage ss{};
  socklen_t len;
  if (family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*a);
  }
  if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(listen_.get(), 16) != 0)
    throw std::runtime_error(std::string("bind/listen failed: ") + std::strerror(errno));
  len = sizeof(ss);
  getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(family == 6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                            : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (!handler_) return;
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{listen_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      Fd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;
      timeval tv{3, 0};
      setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(c.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      handler_(c);
    }
  });
}

LoopbackServer::~LoopbackServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

uint16_t closed_port() {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);  // released when `s` closes; nobody listens there
}

std::string read_head(int fd) {
  std::string buf;
  char chunk[1024];
  while (buf.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return buf;
}

void abort_fd(Fd& fd) {
  linger l{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd.reset();
}

namespace {

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void*) {
  static const unsigned char ours[] = "\x08http/1.1";
  unsigned char* o = nullptr;
  if (SSL_select_next_proto(&o, outlen, ours, sizeof(ours) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

int refuse_alpn(SSL*, const unsigned char**, unsigned char*, const unsigned char*, unsigned int, void*) {
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

std::unique_ptr<SSL_CTX, SslCtxDeleter> make_server_ctx(bool alpn_alert) {
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!ctx || !key || !x) throw std::runtime_error("OpenSSL allocation failed");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("rsthop test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("probe.test"), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "DNS:probe.test,IP:127.0.0.1");
  if (!ext) throw std::runtime_error("SAN extension failed");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (X509_sign(x, key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  if (SSL_CTX_use_certificate(ctx.get(), x) != 1 || SSL_CTX_use_PrivateKey(ctx.get(), key) != 1)
    throw std::runtime_error("cannot install the test certificate");
  X509_free(x);
  EVP_PKEY_free(key);
  SSL_CTX_set_alpn_select_cb(ctx.get(), alpn_alert ? refuse_alpn : select_http11, nullptr);
  return ctx;
}

}  // namespace rsthop::test
