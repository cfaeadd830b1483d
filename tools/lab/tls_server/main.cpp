// lab-tls-server: the lab's web server.  HTTPS on --https-port with a
// self-signed certificate made in memory at start-up (EC P-256, CN and SAN =
// --name) that accepts any SNI, and plain HTTP on --http-port answering a 301
// to https://NAME/.  One thread per connection; every socket has read/write
// timeouts so half-open peers cannot pin it.  --abort-after-hello reads the
// ClientHello and closes with SO_LINGER {1,0}, i.e. the server resets.
// --http-reset answers HTTP and then resets (the server's own RST+ACK; a
// client segment crossing it would draw a plain RST).  --reply-delay-ms models a
// distant server.  Prints "ready" on stdout once
// every listener is open.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lab_net.h"

namespace {

struct Options {
  std::string name = "server.lab";
  std::vector<std::string> binds;
  int https_port = 443;
  int http_port = 80;
  bool abort_after_hello = false;
  bool http_reset = false;  // answer HTTP, then reset: the client's ACK of the answer draws a second RST
  int timeout_ms = 10000;
  int reply_delay_ms = 0;
};

struct Listener {
  lab::Fd fd;
  bool https;
};

template <auto F>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    F(p);
  }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using CtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;

std::string ssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void check(bool ok, const std::string& what) {
  if (!ok) throw lab::LabError("cannot " + what + ": " + ssl_error());
}

// A self-signed certificate for `name`, valid from an hour ago for 30 days.
X509Ptr make_certificate(EVP_PKEY* key, const std::string& name) {
  X509Ptr x(X509_new());
  check(x != nullptr, "allocate a certificate");
  check(X509_set_version(x.get(), 2) == 1, "set the certificate version");
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 30L * 86400);
  check(X509_set_pubkey(x.get(), key) == 1, "set the public key");
  X509_NAME* subject = X509_get_subject_name(x.get());
  check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()),
                                   -1, -1, 0) == 1,
        "set the common name '" + name + "'");
  check(X509_set_issuer_name(x.get(), subject) == 1, "set the issuer");
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
  std::string san = "DNS:" + name;
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
  check(ext != nullptr, "build the subjectAltName " + san);
  bool added = X509_add_ext(x.get(), ext, -1) == 1;
  X509_EXTENSION_free(ext);
  check(added, "add the subjectAltName");
  check(X509_sign(x.get(), key, EVP_sha256()) > 0, "sign the certificate");
  return x;
}

CtxPtr make_context(const std::string& name) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "generate an EC P-256 key");
  X509Ptr cert = make_certificate(key.get(), name);
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  check(ctx != nullptr, "create a TLS context");
  check(SSL_CTX_use_certificate(ctx.get(), cert.get()) == 1, "load the certificate");
  check(SSL_CTX_use_PrivateKey(ctx.get(), key.get()) == 1, "load the private key");
  // No servername callback: every SNI gets the same certificate.
  return ctx;
}

bool has_header_end(const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; }

// Reads one TLS record (the ClientHello) from the raw socket; false on EOF/timeout.
bool read_client_hello(int fd) {
  unsigned char hdr[5];
  size_t got = 0;
  while (got < sizeof hdr) {
    ssize_t n = ::recv(fd, hdr + got, sizeof hdr - got, 0);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  size_t left = (static_cast<size_t>(hdr[3]) << 8) | hdr[4];
  char buf[4096];
  while (left > 0) {
    ssize_t n = ::recv(fd, buf, std::min(left, sizeof buf), 0);
    if (n <= 0) return false;
    left -= static_cast<size_t>(n);
  }
  return true;
}

void serve_https(lab::Fd fd, SSL_CTX* ctx, const Options& opt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(opt.reply_delay_ms));
  if (opt.abort_after_hello) {
    read_client_hello(fd.get());
    lab::close_with_reset(fd);
    return;
  }
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return;
  SSL_set_fd(ssl, fd.get());
  bool clean = false;
  if (SSL_accept(ssl) == 1) {
    std::string req;
    char buf[4096];
    while (!has_header_end(req) && req.size() < 65536) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    if (has_header_end(req)) {
      std::string body = "hello from " + opt.name + " over TLS\n";
      std::string resp =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      clean = SSL_write(ssl, resp.data(), static_cast<int>(resp.size())) > 0;
      if (clean) SSL_shutdown(ssl);
    }
  }
  SSL_free(ssl);
  if (clean) {
    lab::close_gracefully(fd);
  }
  // Otherwise the handshake failed or the peer went away: a plain close is enough.
}

void serve_http(lab::Fd fd, const Options& opt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(opt.reply_delay_ms));
  std::string req;
  char buf[4096];
  while (!has_header_end(req) && req.size() < 65536) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string resp = "HTTP/1.1 301 Moved Permanently\r\nLocation: https://" + opt.name +
                     "/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (!lab::send_all(fd.get(), resp.data(), resp.size())) return;
  if (opt.http_reset)
    lab::close_with_reset(fd);  // RST+ACK now; a client segment crossing it meets a closed port: a plain RST
  else
    lab::close_gracefully(fd);
}

std::vector<Listener> open_listeners(const Options& opt) {
  std::vector<std::string> binds = opt.binds;
  if (binds.empty()) binds = {"0.0.0.0", "::"};
  std::vector<Listener> out;
  for (const auto& b : binds) {
    for (auto [port, https] : {std::pair{opt.https_port, true}, std::pair{opt.http_port, false}}) {
      if (port == 0) continue;
      out.push_back({lab::listen_on(lab::make_addr(b, port)), https});
    }
  }
  if (out.empty()) throw lab::LabError("both --https-port and --http-port are 0: nothing to serve");
  return out;
}

[[noreturn]] void serve(std::vector<Listener>& listeners, SSL_CTX* ctx, const Options& opt) {
  std::vector<pollfd> pfds;
  for (auto& l : listeners) pfds.push_back({l.fd.get(), POLLIN, 0});
  for (;;) {
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw lab::LabError("poll failed: " + lab::errno_text());
    }
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (!(pfds[i].revents & POLLIN)) continue;
      lab::Fd c(::accept4(pfds[i].fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;  // ECONNABORTED and friends: the client already gave up
      lab::set_timeouts(c.get(), opt.timeout_ms);
      if (listeners[i].https)
        std::thread(serve_https, std::move(c), ctx, std::cref(opt)).detach();
      else
        std::thread(serve_http, std::move(c), std::cref(opt)).detach();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"lab-tls-server: HTTPS (self-signed, any SNI) and an HTTP->HTTPS redirect for the rsthop lab"};
  app.add_option("--name", opt.name, "certificate CN/SAN and redirect target")->capture_default_str();
  app.add_option("--bind", opt.binds, "address to listen on (repeatable; default 0.0.0.0 and ::)");
  app.add_option("--https-port", opt.https_port, "HTTPS port, 0 disables")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--http-port", opt.http_port, "HTTP redirect port, 0 disables")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_flag("--abort-after-hello", opt.abort_after_hello, "read the ClientHello, then reset the connection");
  app.add_flag("--http-reset", opt.http_reset, "answer on the HTTP port, then reset (RST+ACK)");
  app.add_option("--timeout-ms", opt.timeout_ms, "per-socket read/write timeout")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_option("--reply-delay-ms", opt.reply_delay_ms,
                 "wait this long after accepting before touching a connection, like a distant server "
                 "(the kernel still ACKs at once): lets on-path injectors win their race")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    signal(SIGPIPE, SIG_IGN);
    CtxPtr ctx = make_context(opt.name);
    auto listeners = open_listeners(opt);
    std::cout << "ready" << std::endl;
    serve(listeners, ctx.get(), opt);
  } catch (const std::exception& e) {
    std::cerr << "lab-tls-server: " << e.what() << "\n";
    return 1;
  }
}
