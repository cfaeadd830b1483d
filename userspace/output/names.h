// Stable names for the ABI's enums, as they appear in JSON.  These strings
// are part of the output schema (docs/schema/events.schema.json): renaming
// one is a schema change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rsthop::output {

// snake_case name of an enum rh_counter index ("lost_ringbuf"); "unknown"
// outside 0..RH_C_MAX-1.
const char* counter_name(int idx);
// Counters that mean rsthop missed or could not read something, and so are
// reported in-band as `lost` events.
bool counter_is_loss(int idx);
// lost.cause for a loss counter ("ringbuf_full"); nullptr when idx is not one.
const char* loss_cause(int idx);
// lost.cause for malformed ring-buffer records found by userspace.
inline constexpr const char* kLossCauseMalformedRecord = "malformed_record";
// Lines an output could not take (lost.sink names it): its queue was full, or
// the line exceeds its message size limit (datagrams, syslog).
inline constexpr const char* kLossCauseSinkFull = "sink_full";
inline constexpr const char* kLossCauseSinkOversize = "sink_oversize";

// "xdp" | "tc-ingress" | "tc-egress" | "tp-send-reset" | "tp-recv-reset" | "pcap" | "unknown".
std::string_view hook_name(uint8_t hook);
// "syn" | "syn-ack" | "fin" | "rst" | "icmp" | "payload" | "local-rst-send" | "local-rst-recv" | "unknown".
std::string_view packet_kind_name(uint8_t kind);
// event.action of a packet line: "packet-" and the kind ("packet-syn").
std::string_view packet_action_name(uint8_t kind);
// Kernel enum sk_rst_reason names without the SK_RST_REASON_ prefix ("NO_SOCKET");
// "UNKNOWN_<n>" for values newer than this table.
std::string rst_reason_name(uint16_t reason);
// Set TCP flag letters in "FSRPAUEC" order: RST+ACK is "RA".
std::string tcp_flags_string(uint8_t flags);
// The same letters written to `out` (at most 8, no NUL); returns how many.
size_t format_tcp_flags(char* out, uint8_t flags);

}  // namespace rsthop::output
