#include "output/sink_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace rsthop::output {

namespace {

int64_t unix_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// connect() bounded by kIoTimeout: a blackholed address must not hold the thread for minutes.
int connect_bounded(int fd, const sockaddr* addr, socklen_t len) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, addr, len);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kIoTimeout).count()));
    if (rc == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (rc < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return -1;
    if (err) {
      errno = err;
      return -1;
    }
    rc = 0;
  }
  ::fcntl(fd, F_SETFL, flags);
  return rc;
}

}  // namespace

Result<SocketTarget> unix_target(const std::string& path, int type, std::string what) {
  SocketTarget t;
  t.family = AF_UNIX;
  t.type = type;
  t.what = std::move(what);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path)
    return make_error(t.what + ": a unix socket path must be 1 to " + std::to_string(sizeof sun.sun_path - 1) +
                      " bytes long");
  std::memcpy(sun.sun_path, path.data(), path.size());
  std::memcpy(&t.addr, &sun, sizeof sun);
  t.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return t;
}

Result<SocketTarget> inet_target(const std::string& host, uint16_t port, int type, std::string what) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || !res) return make_error(what + ": cannot resolve " + host + ": " + ::gai_strerror(rc));
  SocketTarget t;
  t.family = res->ai_family;
  t.type = type;
  std::memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
  t.len = res->ai_addrlen;
  t.what = std::move(what);
  ::freeaddrinfo(res);
  return t;
}

Error SocketSink::failed(const char* doing, int err) const {
  return make_error(std::string("cannot ") + doing + " " + target_.what + ": " + std::strerror(err), err);
}

Result<void> SocketSink::connect() {
  Fd fd(::socket(target_.family, target_.type | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return failed("open a socket for", errno);
  timeval tv{static_cast<time_t>(std::chrono::seconds(kIoTimeout).count()), 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  // UDP stays unconnected: a receiver that is not there yet must not turn
  // into ECONNREFUSED on the next send (syslog over UDP is fire and forget).
  bool udp = target_.type == SOCK_DGRAM && target_.family != AF_UNIX;
  if (!udp && connect_bounded(fd.get(), reinterpret_cast<const sockaddr*>(&target_.addr), target_.len) != 0)
    return failed("connect to", errno);
  fd_ = std::move(fd);
  return {};
}

bool SocketSink::frame(std::string& out, std::string_view line, bool stream) {
  size_t start = out.size();
  if (framing_ == Framing::lines) {
    out += line;
    if (stream) out.push_back('\n');
    return stream || out.size() - start <= kMaxDatagram;
  }
  std::string msg;
  append_rfc5424(msg, id_, unix_now_us(), line);
  if (msg.size() > kMaxSyslogMessage || (!stream && msg.size() > kMaxDatagram)) return false;
  if (stream)
    append_octet_counted(out, msg);
  else
    out += msg;
  return true;
}

Result<void> SocketSink::send_stream(std::string_view lines) {
  std::string wire;
  if (framing_ == Framing::lines) {
    wire.assign(lines);
  } else {
    wire.reserve(lines.size() + lines.size() / 2);
    for (size_t pos = 0; pos < lines.size();) {
      size_t nl = lines.find('\n', pos);
      if (nl == std::string_view::npos) nl = lines.size();
      size_t before = wire.size();
      if (!frame(wire, lines.substr(pos, nl - pos), true)) {
        wire.resize(before);
        oversize_.fetch_add(1, std::memory_order_relaxed);
      }
      pos = nl + 1;
    }
  }
  for (size_t off = 0; off < wire.size();) {
    ssize_t n = ::send(fd_.get(), wire.data() + off, wire.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("write to", errno == EAGAIN ? ETIMEDOUT : errno);
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

Result<void> SocketSink::send_datagrams(std::string_view lines) {
  std::string dgram;
  for (size_t pos = 0; pos < lines.size();) {
    size_t nl = lines.find('\n', pos);
    if (nl == std::string_view::npos) nl = lines.size();
    std::string_view line = lines.substr(pos, nl - pos);
    pos = nl + 1;
    dgram.clear();
    if (!frame(dgram, line, false)) {
      oversize_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    for (;;) {
      bool udp = target_.family != AF_UNIX;  // unix datagram sockets are connected
      ssize_t n = ::sendto(fd_.get(), dgram.data(), dgram.size(), MSG_NOSIGNAL,
                           udp ? reinterpret_cast<const sockaddr*>(&target_.addr) : nullptr, udp ? target_.len : 0);
      if (n >= 0) break;
      if (errno == EINTR) continue;
      if (errno == EMSGSIZE) {  // the socket's own limit is lower than ours
        oversize_.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      return failed("write to", errno == EAGAIN ? ETIMEDOUT : errno);
    }
  }
  return {};
}

Result<void> SocketSink::write(std::string_view lines) {
  if (!fd_.valid())
    if (auto r = connect(); !r) return r;
  return target_.type == SOCK_STREAM ? send_stream(lines) : send_datagrams(lines);
}

}  // namespace rsthop::output
