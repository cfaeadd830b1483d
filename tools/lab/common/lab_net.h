// Socket helpers shared by the lab middleboxes (lab-tls-server, lab-injector,
// lab-lbproxy): an owning Fd, address parsing and the "reset on close" trick.
// Header-only, depends on nothing but libc.  Errors are thrown as LabError with
// a sentence meant for the user; each main() catches them and exits 1.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace lab {

struct LabError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::string errno_text(int err = errno) { return std::strerror(err); }

// Move-only owner of a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

// "198.18.1.2" or "2001:db8::1" plus a port.
inline SockAddr make_addr(const std::string& ip, int port) {
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len = sizeof(sockaddr_in6);
  } else {
    throw LabError("'" + ip + "' is not an IPv4 or IPv6 address");
  }
  return a;
}

// "ADDR:PORT" or "[V6ADDR]:PORT".
inline SockAddr parse_endpoint(const std::string& s) {
  std::string host, port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find("]:");
    if (close == std::string::npos) throw LabError("'" + s + "' is not of the form [IPV6]:PORT");
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon)
      throw LabError("'" + s + "' is not of the form ADDR:PORT (write IPv6 as [ADDR]:PORT)");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (const std::exception&) {
    p = -1;
  }
  if (p <= 0 || p > 65535) throw LabError("'" + s + "' has no valid port (1-65535)");
  return make_addr(host, p);
}

inline std::string to_string(const SockAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&a.ss);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
  inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(ntohs(v6->sin6_port));
}

// A listening TCP socket; IPv6 sockets are v6-only so "::" and "0.0.0.0" coexist.
inline Fd listen_on(const SockAddr& a) {
  Fd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) throw LabError("cannot create a socket: " + errno_text());
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), a.get(), a.len) != 0) throw LabError("cannot bind " + to_string(a) + ": " + errno_text());
  if (::listen(fd.get(), 128) != 0) throw LabError("cannot listen on " + to_string(a) + ": " + errno_text());
  return fd;
}

// Bounds every blocking read and write, so half-open peers cannot pin a thread.
inline void set_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// close() with SO_LINGER {1, 0}: the kernel answers with a RST instead of a FIN.
inline void close_with_reset(Fd& fd) {
  if (!fd.valid()) return;
  linger l{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

// Graceful close: FIN, then wait (bounded) for the peer's FIN so that late data
// (a TLS close_notify, say) never meets a closed socket and provokes a RST.
inline void close_gracefully(Fd& fd, int drain_ms = 2000) {
  if (!fd.valid()) return;
  ::shutdown(fd.get(), SHUT_WR);
  set_timeouts(fd.get(), drain_ms);
  char buf[4096];
  for (int i = 0; i < 64; ++i) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n <= 0) break;
  }
  fd.reset();
}

inline bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace lab
