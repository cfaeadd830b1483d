// Fusion: the probes' results and the capture's passive evidence in, one
// verdict out.  Pure logic (no sockets, no libbpf): unit-testable on
// synthetic ladders.
//
// Hop numbering everywhere: hop k is the device a packet sent with TTL k
// reaches; the target is hop `endpoint_hop`; 0 is this host.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attribution/verdict.h"
#include "common/addr.h"
#include "probe/probe.h"

namespace rsthop::diagnose {

// What happened to the request, as the verdict line's `outcome` names it (JSON values: do not rename).
enum class RequestOutcome { ok, reset, drop, error };
// What provokes the interference: the TLS SNI, the HTTP Host, any request, or nothing found.
enum class Trigger { sni, host, any, none };

// One name table per enum (fusion_names.cpp); parse() is its inverse, nullopt for a name not in it.
const char* name(RequestOutcome o);
const char* name(Trigger t);
std::optional<RequestOutcome> parse_outcome(std::string_view s);
std::optional<Trigger> parse_trigger(std::string_view s);

// An ICMP error the capture saw quoting one of our probes to the target's port (matched by local port).
struct IcmpSeen {
  uint16_t local_port = 0;
  Addr16 from{};
  uint8_t type = 0, code = 0;
};

// A reset the capture saw on one of our probes' connections, with the engine's verdict.
struct ResetSeen {
  uint16_t local_port = 0;
  uint8_t ttl = 0;  // as received
  attribution::Verdict verdict;
};

struct Inputs {
  probe::Target target;
  Trigger trigger_kind = Trigger::sni;  // what the trigger ladder varies: sni (TLS) or host (HTTP)
  std::string trigger_name;             // the SNI or Host the trigger sends (--sni); empty: target.host
  std::optional<probe::ConnectResult> connect;
  std::optional<probe::HttpResult> http;  // HTTP on port 80 (or the target port for HTTP targets)
  std::optional<probe::TlsResult> tls;    // for TLS targets
  std::vector<probe::SynStep> syn;
  std::vector<probe::SynStep> syn80;  // the same to port 80, for TLS targets: a proxy on 443 shows up nearer
  std::vector<probe::TriggerStep> trigger, control;
  // Passive evidence; empty when the capture could not run.
  bool captured = false;
  std::vector<IcmpSeen> icmp;
  std::vector<ResetSeen> resets;
  std::optional<std::array<uint8_t, 6>> gateway_mac;
  std::string gateway_vendor;
};

// A hop the verdict may mean.  A ladder cannot always separate two adjacent
// devices (one acting after hop k-1's TTL check looks like one acting before
// hop k's); the verdict then lists both.
struct Candidate {
  int hop = 0;
  std::optional<Addr16> ip;  // when the ladders know it
};

struct Verdict {
  RequestOutcome outcome = RequestOutcome::error;
  attribution::Origin origin = attribution::Origin::unknown;
  std::optional<int> hop;
  std::optional<Addr16> hop_ip;
  // Empty when the hop is certain; else at most two adjacent hops, nearest first, `hop` one of them.
  std::vector<Candidate> candidates;
  std::optional<int> endpoint_hop;
  Trigger trigger = Trigger::none;
  std::optional<std::array<uint8_t, 6>> l2_mac;
  std::string l2_vendor;
  std::vector<attribution::Evidence> evidence;
  double confidence = 0;
  std::string summary;
  std::string next_step;  // what to check next, for people
};

Verdict fuse(const Inputs& in);

// The path as the ladders saw it: ttl -> the address that answered (ICMP or target).
std::map<int, Addr16> path_addresses(const Inputs& in);

}  // namespace rsthop::diagnose
