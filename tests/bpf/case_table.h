// The table format of the BPF_PROG_TEST_RUN tests:
// {description, frames, expected verdict, expected event, expected counter
// deltas, expected flow-table state}, and the one function that runs a row
// through a hook and checks all of it.
#ifndef RSTHOP_TESTS_BPF_CASE_TABLE_H
#define RSTHOP_TESTS_BPF_CASE_TABLE_H

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bpf_harness.h"
#include "common/addr.h"
#include "tests/common/packet_builder.h"

namespace rsthop::test {

// Addresses and ports of the two ends of a test connection, per IP family.
// client < server in the canonical order, so the client is side A;
// client_hi > server, for flows whose initiator is side B.
struct Net {
  const char* name;
  uint8_t family;
  std::string client;
  std::string server;
  std::string client_hi;
  std::string router;
};

const Net& net_v4();
const Net& net_v6();

inline constexpr uint16_t kClientPort = 40000;
inline constexpr uint16_t kServerPort = 443;
inline constexpr Mac kClientMac = {0x02, 0xc1, 0x00, 0x00, 0x00, 0x01};
inline constexpr Mac kServerMac = {0x02, 0x5e, 0x00, 0x00, 0x00, 0x02};

// What the single event of a frame must hold.  The common fields (size,
// kind, hook, ifindex, timestamp, tuple, key, side, MACs) are checked by
// run_case; `more` checks the rest.
struct EventExpect {
  uint8_t kind = 0;
  std::string saddr;
  std::string daddr;
  uint16_t sport = 0;
  uint16_t dport = 0;
  rh_flow_key key{};
  uint8_t side = RH_SIDE_UNKNOWN;
  Mac smac = kClientMac;
  Mac dmac = kServerMac;
  std::function<void(const RawEvent&)> more;
};

struct Case {
  std::string name;                  // [A-Za-z0-9_] only: it names the gtest case
  std::vector<Bytes> setup;          // frames run first through the same hook; effects discarded
  Bytes frame;                       // the frame under test
  std::optional<EventExpect> event;  // nullopt: the frame must emit nothing
  // Expected counter deltas for `frame` (index: enum rh_counter).  Every
  // counter not listed must not move, except RH_C_PACKETS which defaults to 1.
  std::map<int, uint64_t> counters;
  std::function<void(BpfHarness&)> state;  // checks on the flow table afterwards
  uint32_t gso_segs = 0;                   // tc only: __sk_buff.gso_segs for `frame`
};

// Builders of the frames the tables share.  `from_client` picks direction
// and MACs.  The base SYN carries MSS 1460, SACK_PERM, TS 100/0, NOP, WS 7.
PacketBuilder tcp_frame(const Net& n, bool from_client, uint8_t flags);
Bytes base_syn(const Net& n);
Bytes base_synack(const Net& n);

// An EventExpect for a TCP segment of the test connection.
EventExpect tcp_event(const Net& n, bool from_client, uint8_t kind);

// A SYN with options to cut at every length (the truncation table).
struct TruncBase {
  const char* name;
  Bytes frame;
  size_t l2_end;  // bytes up to the end of the last VLAN tag / EtherType
  size_t l3_end;  // ... of the IP header and its extensions / options
  // BPF_PROG_TEST_RUN for tc refuses shorter frames: 14 (Ethernet) plus,
  // for an untagged IPv4/IPv6 EtherType, the fixed IP header (it pulls it).
  size_t tc_min_len;
};

std::vector<TruncBase> trunc_bases();

// Runs one row through `hook` and checks everything it says.
void run_case(BpfHarness& h, Hook hook, const Case& c);

std::vector<Case> tracking_cases();  // tracking_cases.cpp
std::vector<Case> parsing_cases();   // parsing_cases.cpp

// filter_cases.cpp: rows for an instance loaded with configure_filter(),
// the filter as Cidrs and ports (what the offline Tracker is given).
std::vector<Case> filter_cases();
std::vector<Cidr> filter_hosts();
std::vector<uint16_t> filter_ports();
void configure_filter(struct ::rsthop_bpf* s);
// The process's one loaded instance of the object, default (false) or with
// configure_filter() (true); nullptr and `error` set when it cannot load.
BpfHarness* shared_harness(bool filter, std::string& error);

}  // namespace rsthop::test

#endif  // RSTHOP_TESTS_BPF_CASE_TABLE_H
