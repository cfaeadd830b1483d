// lab-lbproxy: a full TCP proxy, standing in for a load balancer (an F5, say)
// in the namespace lab.  It accepts on every --listen address, opens one
// connection to --upstream per client and relays bytes both ways.  With
// --reset-after-ms D it resets the client connection (SO_LINGER {1,0}) D ms
// after the client's first data, the way an idle or policy timer on a real
// balancer does.  A reset from either side is passed on as a reset.  One
// thread per connection.  Prints "ready" on stdout once listening.
#include <poll.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "lab_net.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> listen;
  std::string upstream;
  long long reset_after_ms = -1;
  int connect_timeout_ms = 3000;
  bool verbose = false;
};

struct Side {
  lab::Fd fd;
  bool read_done = false;  // EOF seen; the other side got a FIN
};

void log(const Options& opt, const std::string& msg) {
  if (opt.verbose) std::cerr << "lab-lbproxy: " << msg << "\n";
}

lab::Fd connect_upstream(const lab::SockAddr& up, int timeout_ms) {
  lab::Fd fd(::socket(up.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  lab::set_timeouts(fd.get(), timeout_ms);  // SO_SNDTIMEO bounds connect() too
  if (::connect(fd.get(), up.get(), up.len) != 0) fd.reset();
  return fd;
}

// Relays until both directions are closed, a reset arrives, or the timer fires.
void relay(lab::Fd client_fd, const lab::SockAddr& up, const Options& opt) {
  Side s[2];  // 0: client, 1: upstream
  s[0].fd = std::move(client_fd);
  s[1].fd = connect_upstream(up, opt.connect_timeout_ms);
  if (!s[1].fd.valid()) {
    log(opt, "cannot reach upstream " + lab::to_string(up) + ": " + lab::errno_text());
    lab::close_with_reset(s[0].fd);
    return;
  }
  lab::set_timeouts(s[1].fd.get(), 10000);
  bool timer_armed = false;
  Clock::time_point deadline{};
  char buf[16384];
  while (!(s[0].read_done && s[1].read_done)) {
    int wait_ms = -1;
    if (timer_armed) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        log(opt, "timer expired: resetting the client");
        lab::close_with_reset(s[0].fd);
        return;  // the upstream closes normally when s[1] goes out of scope
      }
      wait_ms = static_cast<int>(left);
    }
    pollfd p[2];
    for (int i = 0; i < 2; ++i) p[i] = {s[i].fd.get(), static_cast<short>(s[i].read_done ? 0 : POLLIN), 0};
    int r = ::poll(p, 2, wait_ms);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2 && r > 0; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Side& from = s[i];
      Side& to = s[1 - i];
      ssize_t n = ::recv(from.fd.get(), buf, sizeof buf, 0);
      if (n > 0) {
        if (i == 0 && !timer_armed && opt.reset_after_ms >= 0) {
          timer_armed = true;
          deadline = Clock::now() + std::chrono::milliseconds(opt.reset_after_ms);
        }
        if (!lab::send_all(to.fd.get(), buf, static_cast<size_t>(n))) {
          lab::close_with_reset(from.fd);
          return;
        }
      } else if (n == 0) {
        from.read_done = true;
        ::shutdown(to.fd.get(), SHUT_WR);
      } else if (errno != EINTR && errno != EAGAIN) {
        log(opt, std::string(i == 0 ? "client" : "upstream") + " failed (" + lab::errno_text() +
                     "): resetting the other side");
        lab::close_with_reset(to.fd);
        return;
      }
    }
  }
}

std::vector<lab::Fd> open_listeners(const Options& opt) {
  std::vector<lab::Fd> out;
  for (const auto& l : opt.listen) out.push_back(lab::listen_on(lab::parse_endpoint(l)));
  return out;
}

[[noreturn]] void serve(std::vector<lab::Fd>& listeners, const lab::SockAddr& up, const Options& opt) {
  std::vector<pollfd> pfds;
  for (auto& l : listeners) pfds.push_back({l.get(), POLLIN, 0});
  for (;;) {
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw lab::LabError("poll failed: " + lab::errno_text());
    }
    for (auto& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      lab::Fd c(::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;
      std::thread(relay, std::move(c), std::cref(up), std::cref(opt)).detach();
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"lab-lbproxy: a TCP proxy that resets its clients on a timer, like a load balancer"};
  app.add_option("--listen", opt.listen, "ADDR:PORT or [V6ADDR]:PORT to accept on (repeatable)")->required();
  app.add_option("--upstream", opt.upstream, "ADDR:PORT or [V6ADDR]:PORT to relay to")->required();
  app.add_option("--reset-after-ms", opt.reset_after_ms,
                 "reset the client this long after its first data; negative: never")
      ->capture_default_str();
  app.add_option("--connect-timeout-ms", opt.connect_timeout_ms, "upstream connect timeout")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  app.add_flag("-v,--verbose", opt.verbose, "log each connection's fate on stderr");
  CLI11_PARSE(app, argc, argv);
  try {
    signal(SIGPIPE, SIG_IGN);
    const lab::SockAddr up = lab::parse_endpoint(opt.upstream);
    auto listeners = open_listeners(opt);
    std::cout << "ready" << std::endl;
    serve(listeners, up, opt);
  } catch (const std::exception& e) {
    std::cerr << "lab-lbproxy: " << e.what() << "\n";
    return 1;
  }
}
