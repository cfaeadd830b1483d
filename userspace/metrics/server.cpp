#include "metrics/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "metrics/http.h"

namespace rsthop::metrics {
namespace {

Error bad_address(const std::string& s) {
  return make_error("--metrics wants ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464, not '" + s + "'", EINVAL);
}

std::string url_host_port(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
  return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
}

using Clock = std::chrono::steady_clock;
constexpr int kLingerMs = 500;

// Milliseconds left until `deadline`, at least 0.
int left_ms(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms > 0 ? static_cast<int>(ms) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, left_ms(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& s) {
  ListenAddress a;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad_address(s);
    a.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) return bad_address(s);
    a.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  if (a.host.empty() || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad_address(s);
  unsigned long p = std::stoul(port);
  if (p > 65535) return bad_address(s);
  a.port = static_cast<uint16_t>(p);
  return a;
}

Result<std::unique_ptr<Server>> Server::listen(const std::string& addr_port, const Board& board) {
  auto a = parse_listen_address(addr_port);
  if (!a) return a.error();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(a->host.c_str(), std::to_string(a->port).c_str(), &hints, &res); rc != 0)
    return make_error("cannot listen on " + addr_port + " for --metrics: " + gai_strerror(rc), EINVAL);
  Fd fd(socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int err = fd.valid() ? 0 : errno;
  int one = 1;
  if (!err) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (!err && bind(fd.get(), res->ai_addr, res->ai_addrlen) != 0) err = errno;
  freeaddrinfo(res);
  if (!err && ::listen(fd.get(), 16) != 0) err = errno;
  if (err) {
    std::string why = err == EADDRINUSE ? "the port is in use" : std::strerror(err);
    return make_error("cannot listen on " + addr_port + " for --metrics: " + why, err);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  Fd stop(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) return make_error(std::string("cannot create an eventfd: ") + std::strerror(errno), errno);
  return std::unique_ptr<Server>(new Server(std::move(fd), std::move(stop), board, url_host_port(ss)));
}

Server::Server(Fd listen_fd, Fd stop_fd, const Board& board, std::string bound)
    : listen_fd_(std::move(listen_fd)), stop_fd_(std::move(stop_fd)), board_(board), bound_(std::move(bound)) {}

Server::~Server() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_.get(), &one, sizeof(one));
    thread_.join();
  }
}

void Server::start() {
  if (thread_.joinable()) return;
  // The thread blocks every signal (inherited from the mask at creation):
  // SIGINT, SIGTERM, SIGHUP go to the thread that handles them, whatever
  // way (handler, signalfd) it does.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  thread_ = std::thread([this] { run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void Server::run() {
  pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  for (;;) {
    fds[0].revents = fds[1].revents = 0;
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    Fd c(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (c.valid()) serve(c.get());
  }
}

// One exchange: read the head (bounded), answer, close.  Any error or the
// deadline ends it quietly: a scraper retries, the trace must not care.
void Server::serve(int fd) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  std::string buf;
  char chunk[1024];
  bool too_large = false;
  while (!request_complete(buf)) {
    if (buf.size() >= kMaxRequestBytes) {
      too_large = true;
      break;
    }
    if (!wait_for(fd, POLLIN, deadline)) return;
    ssize_t n = recv(fd, chunk, std::min(sizeof(chunk), kMaxRequestBytes - buf.size()), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
  }
  requests_++;
  const std::string out = respond(
      buf, [this] { return board_.read(); }, too_large);
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return;
      continue;
    }
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
  // Closing with unread bytes (an oversized head) would send a RST that can
  // destroy the answer before the client reads it: end our side, and read
  // what the client still sends until it closes (briefly).
  shutdown(fd, SHUT_WR);
  const auto linger = std::min(deadline, Clock::now() + std::chrono::milliseconds(kLingerMs));
  while (wait_for(fd, POLLIN, linger)) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

}  // namespace rsthop::metrics
