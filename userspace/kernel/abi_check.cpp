// The ABI is shared, not mirrored: these checks catch a header that the BPF
// compiler and the C++ compiler would lay out differently.
#include <cstddef>

#include "bpf/abi.h"

static_assert(sizeof(rh_flow_key) == 40);
static_assert(offsetof(rh_flow_key, port_a) == 32 && offsetof(rh_flow_key, family) == 36);
static_assert(sizeof(rh_flow_state) % 8 == 0);
static_assert(offsetof(rh_flow_state, bytes) == 80);
static_assert(offsetof(rh_event, saddr) == 16 && offsetof(rh_event, sport) == 48);
static_assert(RH_EV_SIZE_BASE == 264);  // 4 cache lines + 8 bytes; grows only with a reason
static_assert(offsetof(rh_event, key) % 8 == 0 && offsetof(rh_event, flow) % 8 == 0);
// Records are prefixes: each size ends where the next optional block starts.
static_assert(RH_EV_SIZE_BASE == offsetof(rh_event, flow) + sizeof(rh_flow_state));
static_assert(RH_EV_SIZE_RST_PAYLOAD == RH_EV_SIZE_BASE + RH_RST_PAYLOAD_MAX);
static_assert(RH_EV_SIZE_BASE % 8 == 0 && RH_EV_SIZE_ICMP % 8 == 0);
static_assert(sizeof(rh_event) % 8 == 0);
static_assert(offsetof(rh_data_event, data) == RH_EV_SIZE_BASE);
static_assert(sizeof(rh_counters) == RH_C_MAX * sizeof(__u64));
static_assert(sizeof(rh_cidr) == 32);
static_assert(offsetof(rh_frame_event, kind) == offsetof(rh_event, kind));
static_assert(offsetof(rh_frame_event, data) == 24 && sizeof(rh_frame_event) == 24 + RH_FRAME_SNAP_MAX);
