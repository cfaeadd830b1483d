#include "probe/sock.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace rsthop::probe::detail {

int ms_until(Clock::time_point deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

std::string target_text(const Target& t) {
  std::string a = addr_to_string(t.addr.data());
  if (t.family == 6) a = "[" + a + "]";
  return a + ":" + std::to_string(t.port);
}

socklen_t to_sockaddr(const Target& t, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof(ss));
  if (t.family == 4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(t.port);
    std::memcpy(&sin->sin_addr, t.addr.data() + 12, 4);
    return sizeof(*sin);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(t.port);
  std::memcpy(&sin6->sin6_addr, t.addr.data(), 16);
  return sizeof(*sin6);
}

Addr16 from_sockaddr(const sockaddr* sa) {
  Addr16 a{};
  if (sa->sa_family == AF_INET) {
    a[10] = a[11] = 0xff;
    std::memcpy(a.data() + 12, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(a.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  }
  return a;
}

uint16_t local_port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

Fd tcp_socket(const Target& t) {
  return Fd(::socket(t.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

int connect_start(int fd, const Target& t) {
  sockaddr_storage ss;
  socklen_t len = to_sockaddr(t, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return 0;
  return errno;
}

int connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

int wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms_until(deadline));
    if (r > 0) return p.revents;
    if (r == 0) {
      if (Clock::now() >= deadline) return 0;
      continue;  // poll's millisecond rounding woke us a little early
    }
    if (errno != EINTR) return -1;
  }
}

Outcome classify_errno(int e) {
  switch (e) {
    case ECONNREFUSED:
      return Outcome::refused;
    case ECONNRESET:
    case EPIPE:
      return Outcome::reset;
    case ETIMEDOUT:
      return Outcome::timeout;
    case EHOSTUNREACH:
    case ENETUNREACH:
      return Outcome::unreachable;
    default:
      return Outcome::error;
  }
}

Fd connect_with_deadline(const Target& t, int timeout_ms, ConnectResult& cr) {
  if (t.budget && !t.budget->take()) {
    cr.outcome = Outcome::error;
    cr.error = t.budget->left() > 0
                   ? "not sent: the run was interrupted"
                   : "not sent: the budget of " + std::to_string(t.budget->total()) + " connections is spent";
    return {};
  }
  auto t0 = Clock::now();  // after the rate's wait: `ms` is the network's time
  auto deadline = t0 + std::chrono::milliseconds(timeout_ms);
  Fd fd = tcp_socket(t);
  if (!fd.valid()) {
    cr.outcome = Outcome::error;
    cr.error = std::string("cannot create a TCP socket: ") + std::strerror(errno);
    return {};
  }
  int e = connect_start(fd.get(), t);
  cr.local_port = local_port_of(fd.get());
  if (e == EINPROGRESS) {
    int r = wait_fd(fd.get(), POLLOUT, deadline);
    if (r == 0) {
      cr.ms = ms_since(t0);
      cr.outcome = Outcome::timeout;
      cr.error = "no answer to the SYN from " + target_text(t) + " within " + std::to_string(timeout_ms) + " ms";
      return {};
    }
    e = r < 0 ? errno : connect_result(fd.get());
  }
  cr.ms = ms_since(t0);
  if (e == 0) {
    cr.outcome = Outcome::ok;
    cr.error.clear();
    return fd;
  }
  cr.outcome = classify_errno(e);
  if (cr.outcome == Outcome::refused)
    cr.error = target_text(t) + " refused the connection (RST to the SYN)";
  else
    cr.error = "connecting to " + target_text(t) + " failed: " + std::strerror(e);
  return {};
}

void graceful_close(Fd& fd, int budget_ms) {
  if (!fd.valid()) return;
  ::shutdown(fd.get(), SHUT_WR);
  auto deadline = after_ms(budget_ms);
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n > 0) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
    if (wait_fd(fd.get(), POLLIN, deadline) <= 0) break;
  }
  fd.reset();
}

void abort_close(Fd& fd) {
  if (!fd.valid()) return;
  linger l{1, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  fd.reset();
}

}  // namespace rsthop::probe::detail
