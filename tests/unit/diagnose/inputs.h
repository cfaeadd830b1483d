// Synthetic fusion inputs for the diagnose unit tests: a path of three
// routers (198.18.k.2 is hop k) and the server at hop 4, ladders built
// step by step, passive verdicts on a probe's local port.
#pragma once

#include <string>
#include <vector>

#include "diagnose/fusion.h"

namespace rsthop::diagnose::testing {

using attribution::Origin;
using ProbeOutcome = probe::Outcome;
using probe::SynStep;
using probe::TriggerStep;

inline Addr16 ip(const char* s) { return parse_addr(s).value(); }
inline Addr16 hop_ip(int k) { return ip(("198.18." + std::to_string(k) + ".2").c_str()); }
constexpr int kTarget = 4;  // three routers, the server is hop 4

inline Inputs base(ProbeOutcome tls_outcome) {
  Inputs in;
  in.target.addr = ip("198.18.4.2");
  in.target.port = 443;
  in.target.host = "blocked.lab";
  in.trigger_kind = Trigger::sni;
  in.captured = true;
  in.connect = probe::ConnectResult{ProbeOutcome::ok, 1.0, 40000, ""};
  probe::TlsResult tls;
  tls.outcome = tls_outcome;
  tls.local_port = 40001;
  in.tls = tls;
  for (int k = 1; k < kTarget; k++) in.syn.push_back({k, SynStep::time_exceeded, hop_ip(k), 1.0, 0});
  in.syn.push_back({kTarget, SynStep::reached, in.target.addr, 1.0, 0});
  return in;
}

// Trigger and control ladders up to the target: `kind_at(ttl)` says what each step saw.
template <class F>
std::vector<TriggerStep> ladder(uint16_t port0, F kind_at) {
  std::vector<TriggerStep> v;
  for (int k = 1; k <= kTarget + 1; k++) v.push_back({k, kind_at(k), 1.0, static_cast<uint16_t>(port0 + k), ""});
  return v;
}

inline void icmp_for(Inputs& in, const std::vector<TriggerStep>& steps, int upto) {
  for (const auto& s : steps)
    if (s.ttl <= upto) in.icmp.push_back({s.local_port, hop_ip(s.ttl), 11, 0});
}

inline ResetSeen passive(uint16_t port, uint8_t ttl, Origin origin, std::optional<int> hop) {
  ResetSeen r;
  r.local_port = port;
  r.ttl = ttl;
  r.verdict.origin = origin;
  r.verdict.hop = hop;
  r.verdict.confidence = 0.8;
  r.verdict.summary = std::string("passive: ") + name(origin);
  return r;
}

inline auto control_passes() {
  return ladder(2000, [](int k) { return k >= kTarget ? TriggerStep::response : TriggerStep::silent; });
}

}  // namespace rsthop::diagnose::testing
