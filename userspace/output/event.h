// The output event model: domain objects (flow/model.h, ABI counters) turned
// into one JSON document per line, ECS-style (a dotted field name is a nested
// object: source.ip is {"source":{"ip":...}}).  JSON and text are both
// rendered from these documents, so they cannot disagree.  The contract is
// docs/schema/events.schema.json; bump kSchemaVersion when a field changes
// meaning or disappears (adding optional fields does not need a bump).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "attribution/verdict.h"
#include "bpf/abi.h"
#include "common/clock.h"
#include "flow/model.h"
#include "output/sink_stats.h"

namespace rsthop::output {

inline constexpr int kSchemaVersion = 1;

// What every builder needs besides the event itself.
struct Context {
  std::string host_name;                                        // host.name
  WallClock clock = WallClock::fixed(0);                        // kernel ns -> @timestamp
  std::function<std::string(uint32_t ifindex)> interface_name;  // may be empty; "" = unknown
  uint64_t netns_inode = 0;                                     // rsthop.netns.inode (where_fields.h); 0 = unknown
};

// Userspace-side counters reported next to the kernel's (stats.userspace.*).
struct UserspaceCounters {
  uint64_t events_received = 0;
  uint64_t flows_emitted = 0;
  uint64_t resets_emitted = 0;
  uint64_t parse_errors = 0;             // malformed ring-buffer records
  uint64_t flows_evicted_userspace = 0;  // timeline entries dropped to bound memory
};

using KernelCounters = std::array<uint64_t, RH_C_MAX>;

// How the capture ended up attached (stats.attachments[], first stats line of a live run).
struct AttachmentInfo {
  std::string interface;
  std::string hook;      // "xdp", "tc-ingress", "tc-egress"
  std::string mode;      // "native", "generic", "tcx", "clsact"
  std::string fallback;  // why this hook stands in for XDP; "" when it does not
};

// Builders append one compact JSON document (no newline) to `out`; this is
// the hot path, written with JsonWriter, no document tree.  Object members
// come in a fixed order, not sorted.
//
// event_type "flow": source is the initiator; @timestamp is the flow's end.
void append_flow_line(std::string& out, const Context& ctx, const flow::FlowSummary& f);
// event_type "reset": source is the RST's sender.
// `verdict` (may be null) adds reset.origin, reset.hops, reset.evidence[] and the rest of the attribution.
void append_reset_line(std::string& out, const Context& ctx, const flow::ResetRecord& r,
                       const attribution::Verdict* verdict = nullptr);
// event_type "packet": one raw control packet of any kind, ICMP included.
void append_packet_line(std::string& out, const Context& ctx, const flow::Packet& p);
// event_type "stats"; now_mono_ns is CLOCK_MONOTONIC (monotonic_now_ns()).
// `sinks`, when not empty, adds stats.sinks[] (each output's queue and drops);
// `attachments`, when given, adds stats.attachments[].
void append_stats_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                       const UserspaceCounters& user, double elapsed_s, bool final,
                       std::span<const SinkStats> sinks = {}, const std::vector<AttachmentInfo>* attachments = nullptr);
// event_type "lost": `count` since the previous report, `total` since start.
// cause is loss_cause(idx), kLossCauseMalformedRecord, or one of the sink
// causes, which name the output in lost.sink.
void append_lost_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, std::string_view cause,
                      uint64_t count, uint64_t total, std::string_view sink = {});

// The same documents parsed into nlohmann::json, for tests, tools and the
// text renderer.  They parse the line above, so the two cannot drift apart.
nlohmann::json flow_event(const Context& ctx, const flow::FlowSummary& f);
nlohmann::json reset_event(const Context& ctx, const flow::ResetRecord& r,
                           const attribution::Verdict* verdict = nullptr);
nlohmann::json packet_event(const Context& ctx, const flow::Packet& p);
nlohmann::json stats_event(const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                           const UserspaceCounters& user, double elapsed_s, bool final,
                           std::span<const SinkStats> sinks = {},
                           const std::vector<AttachmentInfo>* attachments = nullptr);
nlohmann::json lost_event(const Context& ctx, uint64_t now_mono_ns, std::string_view cause, uint64_t count,
                          uint64_t total, std::string_view sink = {});

// Lowercase hex of up to max_bytes of data.
std::string to_hex(const uint8_t* data, size_t len, size_t max_bytes);

}  // namespace rsthop::output
