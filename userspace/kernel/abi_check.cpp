// The ABI is shared, not mirrored: these checks catch a header that the BPF
// compiler and the C++ compiler would lay out differently.
#include <cstddef>

#include "bpf/abi.h"

static_assert(sizeof(rh_flow_key) == 40);
static_assert(sizeof(rh_flow_key4) == 12);
static_assert(offsetof(rh_flow_key, port_a) == 32 && offsetof(rh_flow_key, family) == 36);
static_assert(sizeof(rh_flow_state) % 8 == 0);
static_assert(offsetof(rh_flow_state, bytes) == 80);
static_assert(offsetof(rh_event, saddr) == 16 && offsetof(rh_event, sport) == 48);
static_assert(RH_REC_HEAD_SIZE == 104);
static_assert(offsetof(rh_event, flow_flags) == 100);
static_assert(offsetof(rh_event, key) % 8 == 0 && offsetof(rh_event, flow) % 8 == 0);
// The ring record: rh_event's header, the flow summary, then the payload or ICMP block.
static_assert(sizeof(rh_flow_sum) == 80);
static_assert(RH_REC_SIZE_BASE == 184);  // 3 cache lines with the ring's 8-byte header; grows only with a reason
static_assert(offsetof(rh_record, flow) == RH_REC_HEAD_SIZE);
static_assert(RH_REC_SIZE_BASE == offsetof(rh_record, flow) + sizeof(rh_flow_sum));
static_assert(RH_REC_SIZE_RST_PAYLOAD == RH_REC_SIZE_BASE + RH_RST_PAYLOAD_MAX);
static_assert(RH_REC_SIZE_BASE % 8 == 0 && RH_REC_SIZE_ICMP % 8 == 0);
static_assert(sizeof(rh_record) == RH_REC_SIZE_RST_PAYLOAD);
static_assert(offsetof(rh_data_event, data) == RH_REC_SIZE_BASE);
static_assert(sizeof(rh_event) % 8 == 0);
// The summary's counters are rh_flow_state's bytes .. ack_last, copied as one block.
static_assert(offsetof(rh_flow_sum, packets) - offsetof(rh_flow_sum, bytes) ==
              offsetof(rh_flow_state, packets) - offsetof(rh_flow_state, bytes));
static_assert(offsetof(rh_flow_sum, rst_count) - offsetof(rh_flow_sum, bytes) ==
              offsetof(rh_flow_state, rst_count) - offsetof(rh_flow_state, bytes));
static_assert(offsetof(rh_flow_sum, syn_seq) - offsetof(rh_flow_sum, bytes) ==
              offsetof(rh_flow_state, syn_seq) - offsetof(rh_flow_state, bytes));
static_assert(offsetof(rh_flow_sum, seq_next) - offsetof(rh_flow_sum, bytes) ==
              offsetof(rh_flow_state, seq_next) - offsetof(rh_flow_state, bytes));
static_assert(offsetof(rh_flow_sum, ack_last) - offsetof(rh_flow_sum, bytes) ==
              offsetof(rh_flow_state, ack_last) - offsetof(rh_flow_state, bytes));
static_assert(offsetof(rh_flow_sum, initiator) - offsetof(rh_flow_sum, bytes) == RH_FLOW_SUM_COUNTERS);
// rh_event's ICMP fields are the record's ICMP block, copied as one block.
static_assert(offsetof(rh_event, inner_saddr) - offsetof(rh_event, icmp_type) == offsetof(rh_icmp_block, inner_saddr));
static_assert(offsetof(rh_event, inner_seq) - offsetof(rh_event, icmp_type) == offsetof(rh_icmp_block, inner_seq));
static_assert(offsetof(rh_event, key) - offsetof(rh_event, icmp_type) == sizeof(rh_icmp_block));
static_assert(sizeof(rh_counters) == RH_C_MAX * sizeof(__u64));
static_assert(sizeof(rh_cidr) == 32);
static_assert(offsetof(rh_frame_event, kind) == offsetof(rh_event, kind));
static_assert(offsetof(rh_frame_event, data) == 24 && sizeof(rh_frame_event) == 24 + RH_FRAME_SNAP_MAX);
// flow_slots' value: the 12-byte key, the live word, then the state 8-aligned (16 + 160 bytes).
static_assert(offsetof(rh_flow_slot, live) == 12 && offsetof(rh_flow_slot, st) == 16);
static_assert(sizeof(rh_flow_slot) == 16 + sizeof(rh_flow_state));
