#include "output/names.h"

#include <array>

#include "bpf/abi.h"

namespace rsthop::output {

namespace {

struct CounterInfo {
  const char* name;
  const char* loss_cause;  // nullptr: not a loss
};

// Indexed by enum rh_counter; the static_assert below catches a counter
// added to the ABI without a name here.
constexpr std::array<CounterInfo, RH_C_MAX> kCounters = {{
    {"packets", nullptr},
    {"tcp", nullptr},
    {"filtered", nullptr},
    {"non_tcp", nullptr},
    {"events", nullptr},
    {"lost_ringbuf", "ringbuf_full"},
    {"lost_flow_table", "flow_table_full"},
    {"flow_new", nullptr},
    {"flow_midstream", nullptr},
    {"trunc_l2", "truncated_l2"},
    {"trunc_l3", "truncated_l3"},
    {"trunc_l4", "truncated_l4"},
    {"malformed_l3", "malformed_l3"},
    {"malformed_l4", "malformed_l4"},
    {"unsupported_encap", "unsupported_encap"},
    // Non-first fragments carry no TCP header; RSTs are never fragmented, so
    // this is context, not loss.
    {"fragments", nullptr},
    {"icmp_errors", nullptr},
    {"local_resets", nullptr},
    // The event was delivered but its payload snapshot is short.
    {"snap_truncated", "snapshot_truncated"},
}};
static_assert(kCounters.size() == RH_C_MAX && RH_C_SNAP_TRUNCATED == RH_C_MAX - 1,
              "every enum rh_counter needs a name in names.cpp");

// enum sk_rst_reason (include/net/rstreason.h), values 0..24.
constexpr std::array<const char*, 25> kRstReasons = {
    "NOT_SPECIFIED",
    "NO_SOCKET",
    "TCP_INVALID_ACK_SEQUENCE",
    "TCP_RFC7323_PAWS",
    "TCP_TOO_OLD_ACK",
    "TCP_ACK_UNSENT_DATA",
    "TCP_FLAGS",
    "TCP_OLD_ACK",
    "TCP_ABORT_ON_DATA",
    "TCP_TIMEWAIT_SOCKET",
    "INVALID_SYN",
    "TCP_ABORT_ON_CLOSE",
    "TCP_ABORT_ON_LINGER",
    "TCP_ABORT_ON_MEMORY",
    "TCP_STATE",
    "TCP_KEEPALIVE_TIMEOUT",
    "TCP_DISCONNECT_WITH_DATA",
    "MPTCP_RST_EUNSPEC",
    "MPTCP_RST_EMPTCP",
    "MPTCP_RST_ERESOURCE",
    "MPTCP_RST_EPROHIBIT",
    "MPTCP_RST_EWQ2BIG",
    "MPTCP_RST_EBADPERF",
    "MPTCP_RST_EMIDDLEBOX",
    "ERROR",
};

}  // namespace

const char* counter_name(int idx) {
  if (idx < 0 || idx >= RH_C_MAX) return "unknown";
  return kCounters[static_cast<size_t>(idx)].name;
}

bool counter_is_loss(int idx) { return loss_cause(idx) != nullptr; }

const char* loss_cause(int idx) {
  if (idx < 0 || idx >= RH_C_MAX) return nullptr;
  return kCounters[static_cast<size_t>(idx)].loss_cause;
}

std::string_view hook_name(uint8_t hook) {
  switch (hook) {
    case RH_HOOK_XDP:
      return "xdp";
    case RH_HOOK_TC_INGRESS:
      return "tc-ingress";
    case RH_HOOK_TC_EGRESS:
      return "tc-egress";
    case RH_HOOK_TP_SEND_RESET:
      return "tp-send-reset";
    case RH_HOOK_TP_RECV_RESET:
      return "tp-recv-reset";
    case RH_HOOK_PCAP:
      return "pcap";
    default:
      return "unknown";
  }
}

std::string_view packet_kind_name(uint8_t kind) {
  switch (kind) {
    case RH_EV_SYN:
      return "syn";
    case RH_EV_SYNACK:
      return "syn-ack";
    case RH_EV_FIN:
      return "fin";
    case RH_EV_RST:
      return "rst";
    case RH_EV_ICMP:
      return "icmp";
    case RH_EV_PAYLOAD:
      return "payload";
    case RH_EV_LOCAL_RST_SEND:
      return "local-rst-send";
    case RH_EV_LOCAL_RST_RECV:
      return "local-rst-recv";
    default:
      return "unknown";
  }
}

std::string_view packet_action_name(uint8_t kind) {
  switch (kind) {
    case RH_EV_SYN:
      return "packet-syn";
    case RH_EV_SYNACK:
      return "packet-syn-ack";
    case RH_EV_FIN:
      return "packet-fin";
    case RH_EV_RST:
      return "packet-rst";
    case RH_EV_ICMP:
      return "packet-icmp";
    case RH_EV_PAYLOAD:
      return "packet-payload";
    case RH_EV_LOCAL_RST_SEND:
      return "packet-local-rst-send";
    case RH_EV_LOCAL_RST_RECV:
      return "packet-local-rst-recv";
    default:
      return "packet-unknown";
  }
}

std::string rst_reason_name(uint16_t reason) {
  if (reason < kRstReasons.size()) return kRstReasons[reason];
  return "UNKNOWN_" + std::to_string(reason);
}

std::string tcp_flags_string(uint8_t flags) {
  char buf[8];
  return std::string(buf, format_tcp_flags(buf, flags));
}

size_t format_tcp_flags(char* out, uint8_t flags) {
  static constexpr struct {
    uint8_t bit;
    char letter;
  } kOrder[] = {{RH_TCP_FIN, 'F'}, {RH_TCP_SYN, 'S'}, {RH_TCP_RST, 'R'}, {RH_TCP_PSH, 'P'},
                {RH_TCP_ACK, 'A'}, {RH_TCP_URG, 'U'}, {RH_TCP_ECE, 'E'}, {RH_TCP_CWR, 'C'}};
  size_t n = 0;
  for (const auto& f : kOrder) {
    if (flags & f.bit) out[n++] = f.letter;
  }
  return n;
}

}  // namespace rsthop::output
