// TTL ladders: syn_ladder (traceroute with connect()) and trigger_ladder
// (a payload with a low TTL on an established connection).
//
// Both share one scheduler: TTLs are launched in order, at most
// `concurrency` in flight, at least `min_gap_ms` apart; each step ends on a
// socket event or its deadline.  The first TTL that ends the path (SYN:
// reached / refused / unreachable; trigger: reset / response / error) stops
// new launches; lower TTLs in flight finish, higher ones are closed and
// dropped, so the result is every TTL from 1 to that end, sorted.  A trigger
// ladder's first reset also keeps the next TTL: a second reset step is what
// shows whether the RST's TTL follows the probe's (a device copying it).
//
// Once a TTL ends the path, lower steps still waiting end LadderOptions::end_grace_ms later
// (their ICMP is due already; a rate-limited router never sends it), not at their timeout.
//
// A trigger step's ICMP time-exceeded reaches only a capture (the socket is
// established and ignores it): with LadderOptions::time_exceeded the caller
// tells the ladder, and the step ends a short linger later, not at its timeout.
#include <time.h>  // linux/errqueue.h needs struct timespec

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "probe/probe.h"
#include "probe/sock.h"

namespace rsthop::probe {
namespace {

using detail::Clock;
using std::chrono::milliseconds;

struct Pending {
  int ttl = 0;
  Fd fd;
  uint16_t local_port = 0;
  short events = 0;
  Clock::time_point started;  // connect()
  Clock::time_point t0;       // when this step's probe (SYN or payload) left
  Clock::time_point deadline;
  bool payload_sent = false;   // trigger: past the handshake
  bool probe_out = false;      // the step's probe (SYN, or the trigger's payload) has left
  bool time_exceeded = false;  // trigger: the caller's capture saw the probe's ICMP time-exceeded
};

// A higher TTL ended the ladder: the lower steps still waiting were sent before it, so an ICMP
// answer of theirs is due already.  A router that rate-limits its ICMP (most do) never sends it
// later: they end `grace_ms` from now (or twice the ending step's round trip, if longer), not at
// their step timeout.  A deadline already nearer (a linger after the ICMP) stays.
void cut_lower_steps(std::vector<Pending>& inflight, int end_ttl, milliseconds end_rtt, int grace_ms) {
  if (grace_ms <= 0) return;
  const auto until = Clock::now() + std::max<Clock::duration>(milliseconds(grace_ms), end_rtt);
  for (auto& p : inflight)
    if (p.ttl < end_ttl && p.probe_out) p.deadline = std::min(p.deadline, until);
}

// Prober: std::optional<Step> launch(int ttl, Pending&)   (a result now, or pending)
//         std::optional<Step> ready(Pending&, short revents)
//         Step expire(Pending&)
//         void finish(Pending&)                            (close the socket)
//         bool ends(const Step&)
//         int past_end(const Step&)                        (TTLs kept beyond an end)
//         std::optional<milliseconds> watch_every() const  (how often to call watch, if at all)
//         void watch(Pending&)                             (may bring the deadline forward)
template <class Step, class Prober>
std::vector<Step> run_ladder(const LadderOptions& o, Prober& pr) {
  const int max_hops = std::clamp(o.max_hops, 1, 255);
  const size_t concurrency = static_cast<size_t>(std::max(o.concurrency, 1));
  const auto gap = milliseconds(std::max(o.min_gap_ms, 0));

  std::vector<Step> steps;
  std::vector<Pending> inflight;
  int next = std::clamp(o.min_ttl, 1, max_hops);
  int end_ttl = INT_MAX;
  std::optional<Clock::time_point> last_launch;

  const auto watch_every = pr.watch_every();
  auto record = [&](Step s, const Pending& p) {
    s.duration_ms = detail::ms_since(p.started);
    if (pr.ends(s)) {
      end_ttl = std::min(end_ttl, s.ttl + pr.past_end(s));
      cut_lower_steps(inflight, s.ttl, milliseconds(static_cast<int64_t>(2 * s.ms)), o.end_grace_ms);
    }
    steps.push_back(std::move(s));
  };
  auto can_launch = [&] { return next <= max_hops && next <= end_ttl && inflight.size() < concurrency; };

  for (;;) {
    while (can_launch() && (!last_launch || Clock::now() - *last_launch >= gap)) {
      // The run's shared budget (probe/budget.h): spent, no step more is sent.
      if (pr.t.budget && !pr.t.budget->take()) {
        next = max_hops + 1;
        break;
      }
      Pending p;
      p.ttl = next++;
      last_launch = p.started = Clock::now();
      if (auto s = pr.launch(p.ttl, p)) {
        pr.finish(p);
        record(std::move(*s), p);
      } else {
        inflight.push_back(std::move(p));
      }
      if (gap.count() > 0) break;
    }
    // Steps above the end would only say "the end" again.
    for (auto& p : inflight)
      if (p.ttl > end_ttl) pr.finish(p);
    std::erase_if(inflight, [&](const Pending& p) { return p.ttl > end_ttl; });
    if (inflight.empty() && !can_launch()) break;

    auto wake = Clock::time_point::max();
    for (const auto& p : inflight) wake = std::min(wake, p.deadline);
    if (can_launch() && last_launch) wake = std::min(wake, *last_launch + gap);
    if (watch_every && !inflight.empty()) wake = std::min(wake, Clock::now() + *watch_every);
    std::vector<pollfd> pfds;
    pfds.reserve(inflight.size());
    for (const auto& p : inflight) pfds.push_back({p.fd.get(), p.events, 0});
    int rc = ::poll(pfds.data(), pfds.size(), inflight.empty() && !can_launch() ? 0 : detail::ms_until(wake));
    if (rc < 0 && errno != EINTR) break;  // cannot happen with valid descriptors

    const auto now = Clock::now();
    for (size_t i = 0; i < inflight.size(); i++) {
      Pending& p = inflight[i];
      std::optional<Step> s;
      if (rc > 0 && pfds[i].revents) s = pr.ready(p, pfds[i].revents);
      if (!s && watch_every) pr.watch(p);
      if (!s && now >= p.deadline) s = pr.expire(p);
      if (s) {
        pr.finish(p);
        record(std::move(*s), p);
      }
    }
    std::erase_if(inflight, [](const Pending& p) { return !p.fd.valid(); });
  }
  std::erase_if(steps, [&](const Step& s) { return s.ttl > end_ttl; });
  std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.ttl < b.ttl; });
  return steps;
}

bool set_ttl(int fd, uint8_t family, int ttl) {
  return family == 6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) == 0
                     : setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == 0;
}

// The first ICMP error queued on the socket: its kind and sender.
struct IcmpSeen {
  SynStep::Kind kind;
  std::optional<Addr16> from;
};
std::optional<IcmpSeen> read_icmp(int fd) {
  for (;;) {
    char data[64];
    char control[512];
    iovec iov{data, sizeof(data)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return std::nullopt;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      const auto* ee = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(c));
      std::optional<SynStep::Kind> kind;
      if (ee->ee_origin == SO_EE_ORIGIN_ICMP) {
        if (ee->ee_type == 11)
          kind = SynStep::time_exceeded;
        else if (ee->ee_type == 3)
          kind = SynStep::unreachable;
      } else if (ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
        if (ee->ee_type == 3)
          kind = SynStep::time_exceeded;
        else if (ee->ee_type == 1)
          kind = SynStep::unreachable;
      }
      if (!kind) continue;  // local errors, packet-too-big: not a hop's verdict
      IcmpSeen seen{*kind, std::nullopt};
      const sockaddr* off = SO_EE_OFFENDER(ee);
      if (off->sa_family == AF_INET || off->sa_family == AF_INET6) seen.from = detail::from_sockaddr(off);
      return seen;
    }
  }
}

struct SynProber {
  const Target& t;
  int step_ms;

  SynStep step(const Pending& p, SynStep::Kind k) const {
    SynStep s;
    s.ttl = p.ttl;
    s.kind = k;
    s.local_port = p.local_port;
    s.ms = detail::ms_since(p.t0);
    if (k == SynStep::reached || k == SynStep::refused) s.from = t.addr;
    return s;
  }
  SynStep judge(Pending& p, int err) const {
    if (auto icmp = read_icmp(p.fd.get())) {
      SynStep s = step(p, icmp->kind);
      s.from = icmp->from;
      return s;
    }
    switch (err) {
      case 0:
        return step(p, SynStep::reached);
      case ECONNREFUSED:
        return step(p, SynStep::refused);
      case ETIMEDOUT:
        return step(p, SynStep::silent);
      default:
        return step(p, SynStep::unreachable);  // a local "no route" and the like, no sender
    }
  }
  std::optional<SynStep> launch(int ttl, Pending& p) {
    p.t0 = Clock::now();
    p.fd = detail::tcp_socket(t);
    if (!p.fd.valid()) return step(p, SynStep::silent);  // out of descriptors: nothing was sent
    const int one = 1;
    set_ttl(p.fd.get(), t.family, ttl);
    if (t.family == 6)
      setsockopt(p.fd.get(), IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
    else
      setsockopt(p.fd.get(), IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
    int e = detail::connect_start(p.fd.get(), t);
    p.local_port = detail::local_port_of(p.fd.get());
    if (e != EINPROGRESS) return judge(p, e);
    p.events = POLLOUT;
    p.probe_out = true;
    p.deadline = p.t0 + milliseconds(step_ms);
    return std::nullopt;
  }
  std::optional<SynStep> ready(Pending& p, short) { return judge(p, detail::connect_result(p.fd.get())); }
  SynStep expire(Pending& p) { return step(p, SynStep::silent); }
  // A plain close: for a socket still in SYN_SENT or already failed it sends
  // nothing; for a reached one it sends a FIN (with the step's TTL, which
  // reached the target), so the target sees an ordinary short connection and
  // no RST of ours shows up in the capture next to the ones being hunted.
  void finish(Pending& p) { p.fd.reset(); }
  bool ends(const SynStep& s) const {
    return s.kind == SynStep::reached || s.kind == SynStep::refused || s.kind == SynStep::unreachable;
  }
  int past_end(const SynStep&) const { return 0; }
  // A SYN's ICMP fails the connect: the socket itself ends the step.
  std::optional<milliseconds> watch_every() const { return std::nullopt; }
  void watch(Pending&) {}
};

struct TriggerProber {
  const Target& t;
  const std::vector<uint8_t>& payload;
  int step_ms;
  int connect_ms;
  const LadderOptions& o;

  TriggerStep step(const Pending& p, TriggerStep::Kind k, std::string detail = {}) const {
    TriggerStep s;
    s.ttl = p.ttl;
    s.kind = k;
    s.local_port = p.local_port;
    s.ms = p.payload_sent ? detail::ms_since(p.t0) : 0;
    s.time_exceeded = p.time_exceeded && k == TriggerStep::silent;
    s.detail = std::move(detail);
    // The capture matches the step by local_port (reading our ISN would need TCP_REPAIR).
    return s;
  }
  // Connected: lower the TTL and send the payload.
  std::optional<TriggerStep> send_payload(Pending& p) {
    if (!set_ttl(p.fd.get(), t.family, p.ttl))
      return step(p, TriggerStep::error, std::string("cannot set the TTL: ") + std::strerror(errno));
    p.t0 = Clock::now();  // before: on a short path the answer can arrive within send()
    ssize_t n = ::send(p.fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    p.payload_sent = p.probe_out = true;
    if (n < 0) {
      int e = errno;
      if (e == ECONNRESET || e == EPIPE) return step(p, TriggerStep::reset);
      return step(p, TriggerStep::error, std::string("sending the payload failed: ") + std::strerror(e));
    }
    if (static_cast<size_t>(n) < payload.size())
      return step(
          p, TriggerStep::error,
          "the socket took only " + std::to_string(n) + " of " + std::to_string(payload.size()) + " payload bytes");
    p.events = POLLIN;
    p.deadline = p.t0 + milliseconds(step_ms);
    return std::nullopt;
  }
  std::optional<TriggerStep> connect_failed(Pending& p, int e) const {
    return step(p, TriggerStep::error, "connecting to " + detail::target_text(t) + " failed: " + std::strerror(e));
  }
  std::optional<TriggerStep> launch(int ttl, Pending& p) {
    p.ttl = ttl;
    p.fd = detail::tcp_socket(t);
    if (!p.fd.valid())
      return step(p, TriggerStep::error, std::string("cannot create a socket: ") + std::strerror(errno));
    int e = detail::connect_start(p.fd.get(), t);  // at the default TTL
    p.local_port = detail::local_port_of(p.fd.get());
    if (e == 0) return send_payload(p);
    if (e != EINPROGRESS) return connect_failed(p, e);
    p.events = POLLOUT;
    p.deadline = Clock::now() + milliseconds(connect_ms);
    return std::nullopt;
  }
  std::optional<TriggerStep> ready(Pending& p, short revents) {
    if (!p.payload_sent) {
      int e = detail::connect_result(p.fd.get());
      if (e != 0) return connect_failed(p, e);
      return send_payload(p);
    }
    char buf[2048];
    ssize_t n = ::recv(p.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) return step(p, TriggerStep::response);
    if (n == 0) return step(p, TriggerStep::response, "the peer closed the connection (FIN) without data");
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
      if (revents & (POLLERR | POLLHUP)) e = detail::connect_result(p.fd.get());
      if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == 0) return std::nullopt;
    }
    if (e == ECONNRESET || e == EPIPE) return step(p, TriggerStep::reset);
    return step(p, TriggerStep::error, std::string("receiving failed: ") + std::strerror(e));
  }
  TriggerStep expire(Pending& p) {
    if (!p.payload_sent)
      return step(p, TriggerStep::error,
                  "no TCP handshake with " + detail::target_text(t) + " within " + std::to_string(connect_ms) + " ms");
    return step(p, TriggerStep::silent);
  }
  // Abort: the payload is unacknowledged and TCP would retransmit it (at the
  // low TTL) for minutes.  The TTL goes back to the default first, so the
  // RST reaches the target and frees its side too.
  void finish(Pending& p) {
    if (!p.fd.valid()) return;
    set_ttl(p.fd.get(), t.family, -1);
    detail::abort_close(p.fd);
  }
  bool ends(const TriggerStep& s) const { return s.kind != TriggerStep::silent; }
  int past_end(const TriggerStep& s) const { return s.kind == TriggerStep::reset ? 1 : 0; }
  std::optional<milliseconds> watch_every() const {
    if (!o.time_exceeded) return std::nullopt;
    return milliseconds(std::max(o.watch_ms, 1));
  }
  // The payload is out and unanswered: has the capture seen its ICMP time-exceeded?
  void watch(Pending& p) {
    if (!p.payload_sent || p.time_exceeded || !o.time_exceeded(p.local_port)) return;
    p.time_exceeded = true;
    p.deadline = linger_deadline(Clock::now(), p.t0 - p.started, o.linger_ms, p.deadline);
  }
};

}  // namespace

Clock::time_point linger_deadline(Clock::time_point icmp_seen, Clock::duration rtt, int linger_ms,
                                  Clock::time_point deadline) {
  const Clock::duration linger = std::max<Clock::duration>(milliseconds(std::max(linger_ms, 0)), 2 * rtt);
  return std::min(deadline, icmp_seen + linger);
}

std::vector<SynStep> syn_ladder(const Target& t, const LadderOptions& o) {
  SynProber pr{t, std::max(o.step_timeout_ms, 1)};
  return run_ladder<SynStep>(o, pr);
}

// The handshake (at the default TTL) gets max(step_timeout_ms, 1000) ms: a
// lost SYN is retransmitted after 1 s.  `error` ends the ladder too: when
// the target cannot be reached at full TTL, higher TTLs would fail the same way.
std::vector<TriggerStep> trigger_ladder(const Target& t, const std::vector<uint8_t>& payload, const LadderOptions& o) {
  TriggerProber pr{t, payload, std::max(o.step_timeout_ms, 1), std::max(o.step_timeout_ms, 1000), o};
  return run_ladder<TriggerStep>(o, pr);
}

}  // namespace rsthop::probe
