#include "diagnose/fusion_local.h"

#include <algorithm>

namespace rsthop::diagnose {

bool local_firewall_verdict(const Inputs& in, const ResetSeen& rs, const std::string& target, Verdict& v) {
  const auto& ev = rs.verdict.evidence;
  if (rs.verdict.origin != attribution::Origin::local ||
      std::none_of(ev.begin(), ev.end(), [](const auto& e) { return e.signal == "local_refusal" && e.weight > 0; }))
    return false;
  // The SYN ladder's answers came from this host's firewall, at whatever TTL.
  std::erase_if(v.evidence, [](const attribution::Evidence& e) { return e.signal == "endpoint_hop"; });
  v.endpoint_hop.reset();
  v.hop = 0;
  v.hop_ip.reset();
  v.outcome = RequestOutcome::reset;
  v.origin = attribution::Origin::local;
  v.trigger = Trigger::any;
  v.confidence = std::max(0.9, rs.verdict.confidence);
  v.evidence.insert(v.evidence.end(), ev.begin(), ev.end());
  if (in.connect) {
    std::string ms = std::to_string(static_cast<int>(in.connect->ms));
    v.evidence.push_back(
        {"connect", "refused (RST to the SYN) after " + ms + " ms, without the SYN leaving this host", "", 0});
  }
  v.summary =
      "A firewall rule on this host refused the connection before the SYN left; " + target + " was never asked.";
  v.next_step = "Check this host's OUTPUT rules (nft list ruleset / iptables -S OUTPUT) for port " +
                std::to_string(in.target.port) + ".";
  return true;
}

}  // namespace rsthop::diagnose
