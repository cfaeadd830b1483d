// The generated skeleton behind a move-only owner.
#pragma once

#include <memory>

#include "bpf/abi.h"  // the skeleton's rodata names ABI types
#include "rsthop.skel.h"

namespace rsthop::kernel {

struct SkelDeleter {
  void operator()(rsthop_bpf* s) const { rsthop_bpf__destroy(s); }
};
using SkelPtr = std::unique_ptr<rsthop_bpf, SkelDeleter>;

// A bpf_link (raw tracepoints), owned from the moment bpf_program__attach returns it.
struct BpfLinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};
using BpfLinkPtr = std::unique_ptr<bpf_link, BpfLinkDeleter>;

}  // namespace rsthop::kernel
