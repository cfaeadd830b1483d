// Offline road in miniature, for the flow and attribution suites: frames in,
// the flow::Packet events the kernel programs (bpf/rsthop.bpf.c) would have
// emitted out.  The work is the pcap room's Tracker (userspace/pcap/tracker.h),
// which runs the kernel's shared C (bpf/parse.h, bpf/track.h); these names
// keep the suites' vocabulary.  Frames default to the tc-ingress hook on
// ifindex 1, as the live road would stamp them.
#pragma once

#include <span>
#include <vector>

#include "flow/model.h"
#include "pcap/tracker.h"

namespace rsthop::offline {

using Frame = pcap::Frame;
using LocalReset = pcap::LocalReset;
using Replayer = pcap::Tracker;

// Every event of `frames`, in order.
std::vector<flow::Packet> replay(Replayer& r, std::span<const Frame> frames);

}  // namespace rsthop::offline
