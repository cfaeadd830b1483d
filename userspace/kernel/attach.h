// Attaching the packet programs: XDP links, tcx links, clsact fallback.
// Each Link detaches what it attached when destroyed, and nothing else.
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "common/fd.h"
#include "common/result.h"
#include "kernel/capture.h"

namespace rsthop::kernel {

// rsthop's tag on clsact filters: `rsthop cleanup` removes only these.  Each
// instance takes the first free handle of kTcHandles from kTcHandle, so a
// second rsthop (a diagnose beside a trace) neither fails nor replaces the
// first one's filter.
inline constexpr uint32_t kTcHandle = 0x7273;  // "rs"
inline constexpr uint32_t kTcHandles = 16;
inline constexpr uint32_t kTcPriority = 0x7273;
// The priority of a filter on a clsact qdisc rsthop created itself: how `rsthop cleanup`
// knows, after a kill, that the qdisc is rsthop's to remove.
inline constexpr uint32_t kTcPriorityOwnQdisc = 0x7274;
inline constexpr const char* kTcProgPrefix = "rh_tc_";

class Link {
 public:
  virtual ~Link() = default;
};

// XDP through a bpf_link; native falls back to generic when asked for native.
// The error's code is EBUSY when another XDP program holds the interface.
Result<std::unique_ptr<Link>> attach_xdp(bpf_program* prog, uint32_t ifindex, XdpMode mode, std::string& mode_used);
// tc through a tcx link (kernel 6.6+), else (or when `clsact_only`) a clsact
// filter carrying rsthop's tag.
Result<std::unique_ptr<Link>> attach_tc(bpf_program* prog, uint32_t ifindex, bool ingress, bool clsact_only,
                                        std::string& mode_used);

// True when a live process holds BPF program `prog_id` open (a running rsthop's
// filter, not a leftover of a killed one).
bool prog_held_by_a_process(uint32_t prog_id);

}  // namespace rsthop::kernel
