// tls_probe (like `openssl s_client -servername`) and client_hello.
//
// OpenSSL talks to two memory BIOs and this file moves the bytes between
// them and the socket itself: so the probe knows exactly when the first
// byte of the ClientHello left (reset before / after it), sees the socket's
// errno untouched, and never raises SIGPIPE (send with MSG_NOSIGNAL).
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "probe/probe.h"
#include "probe/sock.h"

namespace rsthop::probe {
namespace {

using detail::Clock;

constexpr int kCloseBudgetMs = 200;
const unsigned char kAlpn[] = "\x02h2\x08http/1.1";

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

bool is_ip_literal(const std::string& s) {
  unsigned char b[16];
  return inet_pton(AF_INET, s.c_str(), b) == 1 || inet_pton(AF_INET6, s.c_str(), b) == 1;
}

// A client that offers h2 and http/1.1, verifies nothing, and talks to
// memory BIOs; SNI is set unless it is empty or an IP literal (RFC 6066 §3
// forbids literals there, and servers reject them).
Result<SslPtr> make_client(SslCtxPtr& ctx, const std::string& sni, BIO*& rbio, BIO*& wbio) {
  ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return make_error("cannot create a TLS context: " + openssl_error());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn) - 1) != 0)
    return make_error("cannot set ALPN: " + openssl_error());
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl) return make_error("cannot create a TLS session: " + openssl_error());
  rbio = BIO_new(BIO_s_mem());
  wbio = BIO_new(BIO_s_mem());
  if (!rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    return make_error("cannot create memory BIOs: " + openssl_error());
  }
  SSL_set_bio(ssl.get(), rbio, wbio);  // ssl owns both
  if (!sni.empty() && !is_ip_literal(sni) && SSL_set_tlsext_host_name(ssl.get(), sni.c_str()) != 1)
    return make_error("cannot set the SNI '" + sni + "': " + openssl_error());
  SSL_set_connect_state(ssl.get());
  return ssl;
}

std::string name_line(X509_NAME* n) {
  if (!n) return {};
  BIO* b = BIO_new(BIO_s_mem());
  if (!b) return {};
  X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
  char* p = nullptr;
  long len = BIO_get_mem_data(b, &p);
  std::string s = len > 0 && p ? std::string(p, static_cast<size_t>(len)) : std::string();
  BIO_free(b);
  return s;
}

std::string rfc3339(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void record_cert(SSL* ssl, TlsResult& r) {
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return;
  r.subject = name_line(X509_get_subject_name(cert.get()));
  r.issuer = name_line(X509_get_issuer_name(cert.get()));
  r.not_before = rfc3339(X509_get0_notBefore(cert.get()));
  r.not_after = rfc3339(X509_get0_notAfter(cert.get()));
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      const unsigned char* d = ASN1_STRING_get0_data(g->d.dNSName);
      r.sans.emplace_back(reinterpret_cast<const char*>(d), static_cast<size_t>(ASN1_STRING_length(g->d.dNSName)));
    } else if (g->type == GEN_IPADD) {
      const unsigned char* d = ASN1_STRING_get0_data(g->d.iPAddress);
      int len = ASN1_STRING_length(g->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      if ((len == 4 && inet_ntop(AF_INET, d, buf, sizeof(buf))) ||
          (len == 16 && inet_ntop(AF_INET6, d, buf, sizeof(buf))))
        r.sans.emplace_back(buf);
    }
  }
  GENERAL_NAMES_free(names);
}

// Why the handshake failed, from OpenSSL's error queue (an alert, or else a sentence).
void classify_ssl_failure(TlsResult& r) {
  unsigned long e = ERR_peek_error();
  int reason = ERR_GET_REASON(e);
  if (e != 0 && reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    r.outcome = Outcome::tls_alert;
    r.alert = SSL_alert_desc_string_long(reason - SSL_AD_REASON_OFFSET);
    r.error = "the server sent the TLS alert '" + r.alert + "'";
    ERR_clear_error();
    return;
  }
  if (e != 0 && reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    r.outcome = Outcome::error;
    r.error = "the server closed the connection (FIN) during the TLS handshake";
    ERR_clear_error();
    return;
  }
  r.outcome = Outcome::error;
  r.error = "TLS handshake failed: " + openssl_error();
}

// The negotiated session: version, cipher, ALPN and the certificate.
void record_session(SSL* ssl, TlsResult& r) {
  r.version = SSL_get_version(ssl);
  // The cipher's IANA name (TLS_AES_128_GCM_SHA256), as ECS's tls.cipher
  // wants it, rather than OpenSSL's own (ECDHE-RSA-AES128-GCM-SHA256).
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
    if (const char* iana = SSL_CIPHER_standard_name(c)) r.cipher = iana;
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn && alpn_len) r.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  record_cert(ssl, r);
}

// Idles on the established connection for `hold_ms`; what the server sends
// (tickets) is read and dropped.  False (with `r` saying why) when the
// connection failed meanwhile; the caller closes it.
bool hold(const Fd& fd, int hold_ms, std::optional<Clock::time_point> hello_sent, TlsResult& r) {
  const auto hold_end = Clock::now() + std::chrono::milliseconds(hold_ms);
  for (;;) {
    int rv = detail::wait_fd(fd.get(), POLLIN, hold_end);
    if (rv <= 0) return true;  // held to the end (or poll failed): the connection survived
    char buf[16384];
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) continue;
    if (n == 0) return true;  // the server closed: not a reset
    int e = errno;
    r.outcome = detail::classify_errno(e);
    if (r.outcome == Outcome::reset && hello_sent) {
      r.reset_after_hello_ms = std::chrono::duration<double, std::milli>(Clock::now() - *hello_sent).count();
      r.error = "the connection was reset after the TLS handshake, while idle";
    } else {
      r.error = std::string("the held connection failed: ") + std::strerror(e);
    }
    return false;
  }
}

// The peer's FIN during the handshake: lets OpenSSL see the end (an alert may
// have come with it).  True when that completed the handshake after all.
bool peer_closed(SSL* ssl, BIO* rbio, Clock::time_point t0, TlsResult& r) {
  BIO_set_mem_eof_return(rbio, 0);
  ERR_clear_error();
  int rc = SSL_connect(ssl);
  if (rc == 1) return true;
  r.ms = detail::ms_since(t0);
  if (ERR_peek_error() != 0 && SSL_get_error(ssl, rc) == SSL_ERROR_SSL) {
    classify_ssl_failure(r);
  } else {
    r.outcome = Outcome::error;
    r.error = "the server closed the connection (FIN) during the TLS handshake";
  }
  return false;
}

// The socket failed with errno `e` during the handshake: a reset before or after the ClientHello, or another error.
void handshake_socket_failed(TlsResult& r, int e, const char* what, Clock::time_point t0,
                             std::optional<Clock::time_point> hello_sent) {
  r.ms = detail::ms_since(t0);
  r.outcome = detail::classify_errno(e);
  if (r.outcome == Outcome::reset) {
    if (hello_sent) {
      r.reset_after_hello_ms = std::chrono::duration<double, std::milli>(Clock::now() - *hello_sent).count();
      r.error = "the connection was reset during the TLS handshake, after the ClientHello left";
    } else {
      r.reset_before_hello = true;
      r.error = "the connection was reset before the ClientHello could be sent";
    }
  } else {
    r.error = std::string(what) + " failed during the TLS handshake: " + std::strerror(e);
  }
}

// Moves OpenSSL's output (and what the socket did not take before) to the
// socket; `hello_sent` is set by the first byte sent.  False with `err` set
// when the socket failed; true when all is sent or the rest waits for POLLOUT.
bool flush_out(int fd, BIO* wbio, std::vector<char>& out, std::optional<Clock::time_point>& hello_sent, int& err) {
  char* p = nullptr;
  long n = BIO_get_mem_data(wbio, &p);
  if (n > 0) {
    out.insert(out.end(), p, p + n);
    (void)BIO_reset(wbio);
  }
  while (!out.empty()) {
    const auto before = Clock::now();  // an answer can arrive within send() on short paths
    ssize_t s = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (s > 0) {
      if (!hello_sent) hello_sent = before;
      out.erase(out.begin(), out.begin() + s);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // the rest once POLLOUT
    err = errno;
    return false;
  }
  return true;
}

}  // namespace

void warm_up_tls() { SslCtxPtr ctx(SSL_CTX_new(TLS_client_method())); }

Result<std::vector<uint8_t>> client_hello(const std::string& sni) {
  SslCtxPtr ctx;
  BIO* rbio = nullptr;
  BIO* wbio = nullptr;
  auto ssl = make_client(ctx, sni, rbio, wbio);
  if (!ssl) return ssl.error();
  int rc = SSL_connect(ssl->get());  // writes the ClientHello, then wants the ServerHello
  if (rc > 0 || SSL_get_error(ssl->get(), rc) != SSL_ERROR_WANT_READ)
    return make_error("OpenSSL did not write a ClientHello: " + openssl_error());
  char* p = nullptr;
  long n = BIO_get_mem_data(wbio, &p);
  if (n <= 0 || !p) return make_error("OpenSSL wrote an empty ClientHello");
  return std::vector<uint8_t>(reinterpret_cast<uint8_t*>(p), reinterpret_cast<uint8_t*>(p) + n);
}

// The connect gets `timeout_ms`; the handshake another `timeout_ms`.
TlsResult tls_probe(const Target& t, const std::string& sni, const Timing& tm) {
  TlsResult r;
  Fd fd = detail::connect_probe(t, tm.timeout_ms, r);
  if (!fd.valid()) return r;
  ERR_clear_error();
  SslCtxPtr ctx;
  BIO* rbio = nullptr;
  BIO* wbio = nullptr;
  auto made = make_client(ctx, sni, rbio, wbio);
  if (!made) {
    r.outcome = Outcome::error;
    r.error = made.error().message;
    return r;
  }
  SSL* ssl = made->get();

  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::milliseconds(tm.timeout_ms);
  std::optional<Clock::time_point> hello_sent;
  std::vector<char> out;  // bytes OpenSSL wrote and the socket did not take yet

  auto socket_failed = [&](int e, const char* what) { handshake_socket_failed(r, e, what, t0, hello_sent); };
  // Moves OpenSSL's output to the socket; false when the socket failed.
  auto flush = [&]() -> bool {
    int e = 0;
    if (flush_out(fd.get(), wbio, out, hello_sent, e)) return true;
    socket_failed(e, "sending");
    return false;
  };

  for (;;) {
    ERR_clear_error();
    int rc = SSL_connect(ssl);
    int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, rc);
    if (!flush()) {
      detail::abort_close(fd);
      return r;
    }
    if (rc == 1) break;
    if (err != SSL_ERROR_WANT_READ) {
      r.ms = detail::ms_since(t0);
      classify_ssl_failure(r);
      (void)flush();  // our own alert, if OpenSSL wrote one
      detail::abort_close(fd);
      return r;
    }
    // OpenSSL wants bytes: wait for them (and for room, while output is pending).
    short events = POLLIN | (out.empty() ? 0 : POLLOUT);
    int rv = detail::wait_fd(fd.get(), events, deadline);
    if (rv == 0) {
      r.ms = detail::ms_since(t0);
      r.outcome = Outcome::timeout;
      r.error = hello_sent ? "no TLS answer within " + std::to_string(tm.timeout_ms) + " ms after the ClientHello"
                           : "the ClientHello could not be sent within " + std::to_string(tm.timeout_ms) + " ms";
      detail::abort_close(fd);
      return r;
    }
    if (rv < 0) {
      socket_failed(errno, "poll");
      return r;
    }
    char buf[16384];
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      BIO_write(rbio, buf, static_cast<int>(n));
    } else if (n == 0) {
      if (peer_closed(ssl, rbio, t0, r)) break;
      detail::abort_close(fd);
      return r;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      socket_failed(errno, "receiving");
      detail::abort_close(fd);
      return r;
    }
  }

  r.ms = detail::ms_since(t0);
  r.outcome = Outcome::ok;
  record_session(ssl, r);
  if (tm.hold_ms > 0 && !hold(fd, tm.hold_ms, hello_sent, r)) {
    detail::abort_close(fd);
    return r;
  }
  // close_notify, then a half-close that reads the server's remaining bytes
  // (TLS 1.3 session tickets), so our close() does not answer them with a RST.
  SSL_shutdown(ssl);
  (void)flush();
  detail::graceful_close(fd, kCloseBudgetMs);
  return r;
}

}  // namespace rsthop::probe
