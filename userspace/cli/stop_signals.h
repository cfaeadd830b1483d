// SIGINT / SIGTERM end a run cleanly (detach, drain, final stats); SIGHUP is
// counted, for whoever rereads or reopens something on it (config, outputs).
#pragma once

#include <cstdint>

namespace rsthop::cli {

// The exit code of a run a signal ended (128 + SIGINT, as shells report it).
constexpr int kInterruptedExit = 130;

void install_stop_handlers();
bool stop_requested();

// Catches SIGHUP (instead of dying of it) and counts it.  Each consumer keeps
// the count it last acted on, so several can react to the same signal.
void install_hangup_handler();
uint64_t hangups();

// The outputs' view of SIGHUP (logrotate): true once per SIGHUP counted since
// the previous call.
bool reopen_requested();

}  // namespace rsthop::cli
