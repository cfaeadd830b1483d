// SIGINT / SIGTERM end a run cleanly (detach, drain, final stats); SIGHUP,
// where a command installs it, asks for the outputs to be reopened (logrotate).
#pragma once

namespace rsthop::cli {

// The exit code of a run a signal ended (128 + SIGINT, as shells report it).
constexpr int kInterruptedExit = 130;

void install_stop_handlers();
bool stop_requested();

// SIGHUP no longer ends the process: it sets a flag reopen_requested() takes.
void install_reopen_handler();
// True once per SIGHUP received since the previous call.
bool reopen_requested();

}  // namespace rsthop::cli
