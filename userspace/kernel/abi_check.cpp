// The ABI is shared, not mirrored: these checks catch a header that the BPF
// compiler and the C++ compiler would lay out differently.
#include <cstddef>

#include "abi.h"

static_assert(sizeof(rh_flow_key) == 40);
static_assert(offsetof(rh_flow_key, port_a) == 32 && offsetof(rh_flow_key, family) == 36);
static_assert(sizeof(rh_flow_state) % 8 == 0);
static_assert(offsetof(rh_flow_state, bytes) == 80);
static_assert(offsetof(rh_event, saddr) == 16 && offsetof(rh_event, sport) == 48);
static_assert(offsetof(rh_event, key) % 8 == 0 && offsetof(rh_event, flow) % 8 == 0);
static_assert(sizeof(rh_event) % 8 == 0);
static_assert(offsetof(rh_data_event, data) == sizeof(rh_event));
static_assert(sizeof(rh_counters) == RH_C_MAX * sizeof(__u64));
static_assert(sizeof(rh_cidr) == 32);
