// The attribution engine: classifies every reset record from the flow
// timeline as sent by the endpoint, a middlebox at hop N, this host, or
// unknown, with its evidence and a confidence.  Pure logic (no libbpf, no
// sockets), identical for live capture and capture files.
//
// Its one rule above the others: blaming a middlebox for a reset the
// endpoint sent is the worst error, so conflicting evidence yields
// `unknown` with a low confidence rather than an accusation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

#include "attribution/remote.h"
#include "attribution/verdict.h"
#include "flow/model.h"
#include "oui/oui.h"

namespace rsthop::attribution {

class Engine {
 public:
  struct Options {
    // The tcp_send_reset / tcp_receive_reset tracepoints are running, so the
    // absence of a local event means something.
    bool local_events = true;
    // True when the route to `addr` (16 bytes, IPv4-mapped; family 4 or 6)
    // leaves through a traced interface, so a SYN to it would have crossed
    // one.  Empty: unknown (capture files, tests that do not say).
    std::function<bool(const uint8_t* addr, uint8_t family)> route_traced;
  };

  explicit Engine(Options opt, const oui::Registry* registry = nullptr) : opt_(std::move(opt)), oui_(registry) {}

  // Learns the hop distance at which each (address, port) answers, from
  // SYN-ACKs: the same address answering from different distances on
  // different ports betrays an intercepting proxy.
  void observe(const flow::Packet& p);

  Verdict classify(const flow::ResetRecord& r) const;

 private:
  struct Key {
    std::array<uint8_t, 16> addr;
    bool operator<(const Key& o) const { return addr < o.addr; }
  };
  // Everything the remote signals read about this reset (the engine's hop memory included);
  // moves v's fingerprint, vendor, diagnostic and payload text into the facts.
  RemoteFacts remote_facts(const flow::ResetRecord& r, const rh_flow_state& st, Verdict& v) const;

  Options opt_;
  const oui::Registry* oui_;
  std::map<Key, std::map<uint16_t, int>> hops_by_port_;  // bounded in observe()
  // TTLs each address's RSTs and SYN-ACKs came with, across connections (a few per address).
  struct Ttls {
    TtlSet rst, synack;
  };
  std::map<Key, Ttls> ttls_;  // bounded in observe()
};

}  // namespace rsthop::attribution
