#include "cli/parallel_load.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace rsthop::cli {

std::optional<int> runnable_tasks(const char* line) {
  if (!line) return std::nullopt;
  // The 4th field is "running/total".
  double a = 0, b = 0, c = 0;
  int running = 0, total = 0;
  if (std::sscanf(line, "%lf %lf %lf %d/%d", &a, &b, &c, &running, &total) != 5) return std::nullopt;
  if (running < 0 || total < running) return std::nullopt;
  return running;
}

bool second_core_free(int cpus, int runnable_now) {
  const int others = std::max(0, runnable_now - 1);  // the count includes the task reading it
  return cpus >= 2 && others <= cpus - 2;
}

namespace {

std::optional<int> sample_runnable() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  return runnable_tasks(line.c_str());
}

}  // namespace

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
  std::optional<int> least;
  for (int i = 0; i < 3; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto n = sample_runnable();
    if (n) least = least ? std::min(*least, *n) : *n;
  }
  return least && second_core_free(CPU_COUNT(&set), *least);
}

}  // namespace rsthop::cli
