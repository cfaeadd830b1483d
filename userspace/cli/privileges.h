// What `trace` and `diagnose` keep once their programs are attached (libcap-ng).
//
// Loading and attaching needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON...); reading the ring
// buffer, the counters and the flow map through fds already open, writing outputs already
// open, sending probes over ordinary sockets (IP_TTL, IP_RECVERR) and closing tcx / XDP /
// tracepoint links need nothing.  Only clsact filters need CAP_NET_ADMIN again, to be removed.
#pragma once

#include <functional>
#include <vector>

#include "common/result.h"
#include "kernel/capture.h"

namespace rsthop::cli {

// What the rest of the run still needs.
struct Needs {
  bool net_admin = false;  // clsact filters to remove at the end
  bool keep_uid = false;   // outputs reopened by path (files after rotation, local sockets):
                           // a root process keeps uid 0, without any capability
};

// What a capture attached this way needs until it is detached.
Needs needs_after_attach(const std::vector<kernel::Attachment>& attached);

// Drops every capability but those `needs` names (kept in the permitted and bounding sets,
// not effective: see with_net_admin), clears the ambient set, moves a root process to
// nobody:nogroup without supplementary groups (unless needs.keep_uid), and sets no_new_privs.  A process without
// capabilities and not root is left as it is.  Must run while the process has one thread
// (capabilities are per thread): it fails otherwise.
Result<void> drop_privileges(const Needs& needs);

// Gives up root for the calling thread only (the kernel keeps credentials per thread; the raw
// system calls, unlike glibc's wrappers, change only this one): a root thread with CAP_SETUID
// and CAP_SETGID becomes nobody:nogroup without supplementary groups (which empties its
// capability sets), any other thread just empties them; no_new_privs for it too.  For work that
// runs beside a thread still attaching, e.g. diagnose's first probes while the BPF object loads.
Result<void> drop_this_thread();

// Runs `f` with CAP_NET_ADMIN effective when drop_privileges kept it, lowered again after;
// without it (nothing was dropped, or it was not kept) just runs `f`.
void with_net_admin(const std::function<void()>& f);

}  // namespace rsthop::cli
