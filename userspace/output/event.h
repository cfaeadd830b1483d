// The output event model: domain objects (flow/model.h, ABI counters) turned
// into one JSON document per line in ECS (a dotted field name is a nested
// object: source.ip is {"source":{"ip":...}}).  Only ECS fields, in ECS's
// formats, sit at the top level (@timestamp, ecs, event, host, source,
// destination, network, observer, tls, url); everything of rsthop's own is
// under rsthop.* (rsthop.event_type, rsthop.reset, ...).  JSON and text are
// both rendered from these documents, so they cannot disagree.  The contract
// is docs/schema/events.schema.json and the ECS subset it claims
// (tests/fixtures/ecs); bump kSchemaVersion when a field changes meaning or
// disappears (adding optional fields does not need a bump).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attribution/verdict.h"
#include "bpf/abi.h"
#include "common/cgroup_resolver.h"
#include "common/clock.h"
#include "flow/model.h"
#include "output/sink_stats.h"

namespace rsthop::output {

inline constexpr int kSchemaVersion = 2;
// The ECS release whose field definitions the lines follow (ecs.version).
inline constexpr const char* kEcsVersion = "8.11.0";

// What every builder needs besides the event itself.
struct Context {
  std::string host_name;                                        // host.name
  WallClock clock = WallClock::fixed(0);                        // kernel ns -> @timestamp
  std::function<std::string(uint32_t ifindex)> interface_name;  // may be empty; "" = unknown
  uint16_t community_id_seed = 0;                               // --community-id-seed
  uint64_t netns_inode = 0;                                     // rsthop.netns.inode (where_fields.h); 0 = unknown
  // cgroup v2 id -> path and tags (common/cgroup_resolver.h); may be empty, nullptr = unknown.
  std::function<const CgroupInfo*(uint64_t id)> cgroup;
};

// Userspace-side counters reported next to the kernel's (rsthop.stats.userspace.*).
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
// rsthop.event_type "flow": source is the initiator; @timestamp is the flow's end.
void append_flow_line(std::string& out, const Context& ctx, const flow::FlowSummary& f);
// rsthop.event_type "reset": source is the RST's sender.
// `verdict` (may be null) adds rsthop.reset.origin, .hops, .evidence[] and the rest of the attribution.
void append_reset_line(std::string& out, const Context& ctx, const flow::ResetRecord& r,
                       const attribution::Verdict* verdict = nullptr);
// rsthop.event_type "packet": one raw control packet of any kind, ICMP included.
// `memo`: the flow's (flow::Timeline::Seen), filled with the flow's Community
// ID for its later lines; null for a flow without a record yet.
void append_packet_line(std::string& out, const Context& ctx, const flow::Packet& p, flow::FlowMemo* memo = nullptr);
// rsthop.event_type "stats"; now_mono_ns is CLOCK_MONOTONIC (monotonic_now_ns()).
// `sinks`, when not empty, adds rsthop.stats.sinks[] (each output's queue and drops);
// `attachments`, when given, adds rsthop.stats.attachments[].
void append_stats_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                       const UserspaceCounters& user, double elapsed_s, bool final,
                       std::span<const SinkStats> sinks = {}, const std::vector<AttachmentInfo>* attachments = nullptr);
// rsthop.event_type "lost": `count` since the previous report, `total` since start.
// cause is loss_cause(idx), kLossCauseMalformedRecord, or one of the sink
// causes, which name the output in rsthop.lost.sink.
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
