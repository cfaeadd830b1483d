#include "cli/parallel_load.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace rsthop::cli {

namespace {

// A non-negative decimal integer that is all of `s`.
std::optional<int> whole_int(std::string_view s) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

std::optional<int> sample_loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return runnable_tasks(line.c_str());
}

}  // namespace

std::optional<int> runnable_tasks(const char* line) {
  if (!line) return std::nullopt;
  // Fields are separated by spaces; the 4th is "running/total".
  std::string_view rest(line);
  std::string_view field;
  for (int i = 0; i < 4; ++i) {
    const size_t start = rest.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \t\n"), rest.size());
    field = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  const size_t slash = field.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto running = whole_int(field.substr(0, slash));
  const auto total = whole_int(field.substr(slash + 1));
  if (!running || !total || *total < *running) return std::nullopt;
  return running;
}

bool second_core_free(int cpus, int runnable_now) {
  const int others = std::max(0, runnable_now - 1);  // the count includes the task reading it
  return cpus >= 2 && others <= cpus - 2;
}

bool decide_parallel(int cpus, const std::function<std::optional<int>()>& sample_runnable) {
  std::optional<int> least;
  for (int i = 0; i < 3; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto n = sample_runnable();
    if (n) least = least ? std::min(*least, *n) : *n;
  }
  return least && second_core_free(cpus, *least);
}

Result<bool> parallel_load(const char* env) {
  if (env && *env) {
    const std::string_view v(env);
    if (v != "0" && v != "1")
      return make_error("RSTHOP_PARALLEL_LOAD must be 1 (verify the programs at once) or 0 (one after the other)");
    return v == "1";
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return false;
  return decide_parallel(CPU_COUNT(&set), sample_loadavg);
}

}  // namespace rsthop::cli
