// Loading the BPF object.  Most of the time to load it is the verifier's, one large packet
// program after the other (each carries its own copy of the global rh_ip_* function).  With
// `parallel`, the object is loaded as instances sharing one set of maps: a first instance creates
// the maps (and the frozen .rodata) and loads no program, then rh_tc_egress is verified in an
// instance of its own on a second thread while the main instance verifies the others; both reuse
// the first instance's maps, so every program writes to the same ring, flow table and counters.
#pragma once

#include <functional>

#include "common/result.h"
#include "kernel/skeleton.h"

namespace rsthop::kernel {

// Which programs to load: the packet programs and the local-reset tracepoints.
struct ProgramSet {
  bool xdp = false;
  bool tc_ingress = true;
  bool tc_egress = true;
  bool tracepoints = false;
};

struct Loaded {
  SkelPtr main;   // the maps, the tracepoints and the packet programs not split off
  SkelPtr split;  // rh_tc_egress alone (parallel load), else empty
  bpf_program* tc_egress() const { return split ? split->progs.rh_tc_egress : main->progs.rh_tc_egress; }
};

// `configure` sets the read-only data and the map sizes of a freshly opened instance; it is
// called once per instance and must set them alike.  `parallel` splits rh_tc_egress off when it
// is loaded beside another packet program (else the load is the plain one-instance load).
Result<Loaded> load_object(const std::function<void(rsthop_bpf*)>& configure, const ProgramSet& programs,
                           bool parallel);

}  // namespace rsthop::kernel
