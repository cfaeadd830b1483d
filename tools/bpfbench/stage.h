// bpfbench --stage: the per-CPU staging prototype (issue 14); see stage.cpp.
#pragma once

#include <cstdint>

namespace rsthop::bpfbench {

// Measures empty / reserve-per-record / staged-batch XDP programs; prints JSON; returns the exit code.
// fill / output false: the decomposition variants (an 8-byte record; a batch dropped instead of copied out).
int run_stage(int repeat, int runs, uint32_t batch, uint64_t timer_ns, bool fill, bool output);

}  // namespace rsthop::bpfbench
