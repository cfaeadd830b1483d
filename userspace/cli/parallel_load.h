// Whether the programs are verified at once (kernel::CaptureConfig::parallel_load), for every
// command that attaches.  Two verifier threads on one core take longer than one after the other
// (docs/BENCHMARKS.md), so the second thread must find a core free *now*: the 1-minute load
// average lags by a minute (a benchmark or a build that just ended keeps it above 1) and chose the
// serial load on idle machines.
#pragma once

#include <functional>
#include <optional>

#include "common/result.h"

namespace rsthop::cli {

// The running tasks in a /proc/loadavg line ("0.50 0.40 0.30 3/512 1234": 3, this process
// included); nullopt when the line is malformed.
std::optional<int> runnable_tasks(const char* loadavg_line);

// A second verifier thread gets a core of its own: at least two CPUs are ours, and the tasks
// running besides us (runnable_now - 1) leave one of them idle.  The count is the whole
// machine's (/proc/loadavg), compared with the CPUs we may run on: under a narrower affinity
// mask, tasks on CPUs we cannot use count too, which errs towards one after the other.
bool second_core_free(int cpus, int runnable_now);

// The decision from three samples of the running tasks, 1 ms apart (one sample catches a
// passing task): second_core_free on the least of them; false when no sample could be read.
bool decide_parallel(int cpus, const std::function<std::optional<int>()>& sample_runnable);

// RSTHOP_PARALLEL_LOAD's value decides when set ("1" at once, "0" one after the other, anything
// else an error); unset (nullptr or empty), decide_parallel on the affinity mask's CPUs and
// /proc/loadavg.
Result<bool> parallel_load(const char* env);

}  // namespace rsthop::cli
