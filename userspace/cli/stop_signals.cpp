#include "cli/stop_signals.h"

#include <csignal>

namespace rsthop::cli {
namespace {
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reopen = 0;
void on_signal(int) { g_stop = 1; }
void on_hup(int) { g_reopen = 1; }
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

void install_reopen_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_hup;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);
}

bool reopen_requested() {
  if (!g_reopen) return false;
  g_reopen = 0;
  return true;
}

}  // namespace rsthop::cli
