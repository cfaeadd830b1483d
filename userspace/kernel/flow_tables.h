// The kernel's flow tables as userspace reads them: flow_slots (IPv4 flows'
// direct-mapped first table), flows4 (IPv4 flows whose slot another took, an
// LRU hash by the 12-byte key) and flows (IPv6, an LRU hash).  abi.h's
// rh_flow_slot states the kernel side; these functions are its one reader,
// shared by Capture and the BPF test harness.
//
// Contract: size_flow_tables() before load; the rest on a loaded skeleton.
// Reads race with the programs as any map read does: a slot being rewritten
// reads as empty, and its flow is then looked for in flows4.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "bpf/abi.h"

struct rsthop_bpf;

namespace rsthop::kernel {

// Sizes the three tables for `max_flows` flows per family (IPv4: max_flows
// slots and max_flows in flows4) and sets the slot hash's seed.
void size_flow_tables(rsthop_bpf* s, uint32_t max_flows, uint64_t slot_seed);

// A random slot seed (getrandom), so strangers cannot aim flows at one slot.
uint64_t random_slot_seed();

// The flow's state, wherever it lives, or nullopt.
std::optional<rh_flow_state> flow_lookup(const rsthop_bpf& s, const rh_flow_key& k);

// Every flow the tables hold (slots first, then flows4, then flows).
std::vector<rh_flow_key> flow_keys(const rsthop_bpf& s);

// Forgets every flow (tests: a fresh table between cases).
void flow_clear(const rsthop_bpf& s);

}  // namespace rsthop::kernel
