// The member writers the flow, reset and packet lines share (event.cpp
// defines them; packet_line.cpp and event.cpp use them).  Internal to the
// output room: other rooms build lines from event.h and event_parts.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/abi.h"
#include "common/addr.h"
#include "flow/model.h"
#include "output/community_id.h"
#include "output/event.h"
#include "output/json_writer.h"
#include "output/where_fields.h"

namespace rsthop::output::lines {

// The ABI says 4 or 6; trust the address form when a record says neither.
inline uint8_t family_of(uint8_t family, const uint8_t* addr) {
  if (family == 4 || family == 6) return family;
  return is_v4mapped(addr) ? 4 : 6;
}
// Only XDP and tc see Ethernet headers; tracepoint events carry zero MACs
// that must not be reported as a real address.  A capture file has them
// when its link type does (zero MACs otherwise).  An rh_event or its head (flow::EventHead).
template <typename Event>
bool hook_has_l2(const Event& ev) {
  static constexpr uint8_t kZero[6] = {};
  if (ev.hook == RH_HOOK_PCAP) return std::memcmp(ev.smac, kZero, 6) != 0 || std::memcmp(ev.dmac, kZero, 6) != 0;
  return ev.hook == RH_HOOK_XDP || ev.hook == RH_HOOK_TC_INGRESS || ev.hook == RH_HOOK_TC_EGRESS;
}

// network.{transport,type,community_id}.
void network(JsonWriter& w, uint8_t family, std::string_view transport, const CommunityId& community_id);
// The tuple's Community ID; with a memo, computed once per flow.
CommunityId tuple_id(const Context& ctx, uint8_t family, const uint8_t* s, const uint8_t* d, uint16_t sport,
                     uint16_t dport, flow::FlowMemo* memo = nullptr);

// Which side of the interface the hook watches: ECS names the interface a
// packet came in by (observer.ingress) apart from the one it left by
// (observer.egress).  A flow's packets cross its interface both ways.
enum class Direction : uint8_t { ingress, egress, both };
inline Direction direction_of(uint8_t hook) {
  return hook == RH_HOOK_TC_EGRESS || hook == RH_HOOK_TP_SEND_RESET ? Direction::egress : Direction::ingress;
}
// The interface's name from the context, "" when unknown.
std::string interface_name(const Context& ctx, uint32_t ifindex);
// observer.ingress.interface.* / observer.egress.interface.*; nothing for ifindex 0.
void observer(JsonWriter& w, uint32_t ifindex, const std::string& name, Direction dir);

// Where in a capture file an event comes from (all empty for live events).
struct FileRef {
  std::string_view file;
  const std::vector<uint64_t>* frames = nullptr;  // reset lines
  uint64_t first_frame = 0, last_frame = 0;       // flow lines
};
// The common members of rsthop.* after event_type and schema_version.
void rsthop_members(JsonWriter& w, const Context& ctx, uint32_t ifindex, std::string_view hook,
                    const flow::AppHint* app, const FileRef& ref = {}, const Where& where = {});
// tls.client.server_name and url.domain.
void app_objects(JsonWriter& w, const flow::AppHint& app);

// The IP and TCP header features of rsthop.packet.* and rsthop.reset.*.
void ip_features(JsonWriter& w, const rh_event& ev, uint8_t family, std::string_view df_name);
void tcp_features(JsonWriter& w, const rh_event& ev);
// `name`: the first min(len, max_bytes) bytes in lowercase hex.
void hex_field(JsonWriter& w, std::string_view name, const uint8_t* data, size_t len, size_t max_bytes);
size_t format_hex(char* out, const uint8_t* data, size_t len);

}  // namespace rsthop::output::lines
