#include "cli/stop_signals.h"

#include <atomic>
#include <csignal>

namespace rsthop::cli {
namespace {
volatile std::sig_atomic_t g_stop = 0;
std::atomic<uint64_t> g_hangups{0};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "a signal handler may only touch lock-free atomics");
void on_signal(int) { g_stop = 1; }
void on_hangup(int) { g_hangups.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A closed pipe is a write error we report, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop != 0; }

void install_hangup_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &sa, nullptr);
}

uint64_t hangups() { return g_hangups.load(std::memory_order_relaxed); }

bool reopen_requested() {
  static uint64_t seen = 0;
  const uint64_t now = hangups();
  if (now == seen) return false;
  seen = now;
  return true;
}

}  // namespace rsthop::cli
