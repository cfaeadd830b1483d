// SIGINT / SIGTERM end a run cleanly (detach, drain, final stats).
#pragma once

namespace rsthop::cli {

// The exit code of a run a signal ended (128 + SIGINT, as shells report it).
constexpr int kInterruptedExit = 130;

void install_stop_handlers();
bool stop_requested();

}  // namespace rsthop::cli
