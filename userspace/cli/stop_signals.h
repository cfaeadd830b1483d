// SIGINT / SIGTERM end a run cleanly (detach, drain, final stats).
#pragma once

namespace rsthop::cli {

void install_stop_handlers();
bool stop_requested();

}  // namespace rsthop::cli
