// Socket helpers shared by the probes (not part of the probe API): address
// conversion, non-blocking connect with a deadline, errno classification.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "common/fd.h"
#include "probe/probe.h"

namespace rsthop::probe::detail {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
inline Clock::time_point after_ms(int ms) { return Clock::now() + std::chrono::milliseconds(ms); }
// Milliseconds left until `deadline`, rounded up, never negative (a poll() timeout).
int ms_until(Clock::time_point deadline);

// "198.18.0.1:443" or "[2001:db8::1]:443".
std::string target_text(const Target& t);
socklen_t to_sockaddr(const Target& t, sockaddr_storage& ss);
Addr16 from_sockaddr(const sockaddr* sa);
uint16_t local_port_of(int fd);

// A non-blocking, close-on-exec TCP socket of the target's family (invalid on failure, errno set).
Fd tcp_socket(const Target& t);
// Starts a connect: 0 when connected at once, EINPROGRESS when pending, else the errno.
int connect_start(int fd, const Target& t);
// The outcome of a pending connect once poll() reported the socket: 0 or the socket's error.
int connect_result(int fd);
// poll() one descriptor until `deadline`: its revents, 0 on timeout, -1 on a poll error.
int wait_fd(int fd, short events, Clock::time_point deadline);

// ECONNREFUSED -> refused, ECONNRESET/EPIPE -> reset, ETIMEDOUT -> timeout,
// EHOSTUNREACH/ENETUNREACH -> unreachable, anything else -> error.
Outcome classify_errno(int e);

// socket + connect with `timeout_ms`; fills `cr` (outcome, ms, local_port,
// error) and returns the connected socket, or an invalid Fd when not ok.
Fd connect_with_deadline(const Target& t, int timeout_ms, ConnectResult& cr);

// The connect of a probe result `R` (HttpResult, TlsResult): fills r.connect and r.local_port, and
// when the connect failed, r's outcome, error and time (the time spent waiting for the handshake,
// not 0).  Returns the connected socket, or an invalid Fd when `r` is complete.
template <typename R>
Fd connect_probe(const Target& t, int timeout_ms, R& r) {
  Fd fd = connect_with_deadline(t, timeout_ms, r.connect);
  r.local_port = r.connect.local_port;
  if (!fd.valid()) {
    r.outcome = r.connect.outcome;
    r.error = r.connect.error;
    r.ms = r.connect.ms;
  }
  return fd;
}

// Half-closes, then reads and discards until the peer's FIN or `budget_ms`,
// so that closing does not turn unread data into a RST of ours.
void graceful_close(Fd& fd, int budget_ms);
// SO_LINGER {1,0} then close: the kernel sends a RST and keeps no state.
void abort_close(Fd& fd);

}  // namespace rsthop::probe::detail
