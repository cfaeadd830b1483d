#include "diagnose/fusion_signals.h"

#include <map>

namespace rsthop::diagnose {
namespace {

using attribution::Evidence;
using probe::SynStep;
using probe::TriggerStep;

Evidence context(attribution::SignalName signal, std::string_view observed) {
  return Evidence{signal, observed, "", 0};
}

std::string target_str(const probe::Target& t) {
  std::string a = addr_to_string(t.addr.data());
  return (t.family == 6 ? "[" + a + "]" : a) + ":" + std::to_string(t.port);
}

}  // namespace

std::optional<int> reached_at(const std::vector<SynStep>& syn) {
  std::optional<int> k;
  for (const auto& s : syn)
    if ((s.kind == SynStep::reached || s.kind == SynStep::refused) && (!k || s.ttl < *k)) k = s.ttl;
  return k;
}

std::optional<Addr16> syn_icmp_from(const Inputs& in, const SynStep& s) {
  if (!s.local_port) return std::nullopt;
  for (const auto& i : in.icmp)
    if (i.local_port == s.local_port) return i.from;
  return std::nullopt;
}

std::optional<int> server_reached_at(const Inputs& in) {
  std::optional<int> k;
  for (const auto& s : in.syn)
    if ((s.kind == SynStep::reached || s.kind == SynStep::refused) && !syn_icmp_from(in, s) && (!k || s.ttl < *k))
      k = s.ttl;
  return k;
}

std::set<int> icmp_ttls(const Inputs& in, const std::vector<TriggerStep>& steps) {
  std::map<uint16_t, int> ports;
  for (const auto& s : steps)
    if (s.local_port) ports[s.local_port] = s.ttl;
  std::set<int> out;
  for (const auto& i : in.icmp)
    if (auto it = ports.find(i.local_port); it != ports.end()) out.insert(it->second);
  return out;
}

std::optional<Evidence> endpoint_hop_signal(const Inputs& in) {
  auto k = reached_at(in.syn);
  if (!k) return std::nullopt;
  return context("endpoint_hop", "the SYN ladder reached " + target_str(in.target) + " at TTL " + std::to_string(*k));
}

std::optional<Evidence> port_distance_signal(const Inputs& in) {
  auto ep = reached_at(in.syn), e80 = reached_at(in.syn80);
  if (!ep || !e80 || *ep >= *e80) return std::nullopt;
  const std::string port = std::to_string(in.target.port);
  return Evidence{
      "port_distance", "port " + port + " answers at TTL " + std::to_string(*ep),
      "port 80 answers at TTL " + std::to_string(*e80) + ": a proxy or load balancer terminates port " + port, 0.6};
}

std::optional<Evidence> no_capture_signal(const Inputs& in) {
  if (in.captured) return std::nullopt;
  return context("no_capture", "no kernel capture (not root?): no RST TTLs, no hop addresses for the trigger ladder");
}

std::optional<Evidence> control_signal(const Inputs& in) {
  if (in.control.empty()) return std::nullopt;
  std::optional<int> resp;
  bool reset = false;
  for (const auto& s : in.control) {
    if (s.kind == TriggerStep::reset) reset = true;
    if (s.kind == TriggerStep::response && (!resp || s.ttl < *resp)) resp = s.ttl;
  }
  return context("control", resp && !reset
                                ? "the control request passes (answered at TTL " + std::to_string(*resp) + ")"
                                : "the control request fails too");
}

namespace {

// The TTLs of the RSTs the trigger ladder drew, and their offsets from the probes' TTLs.
void reset_ttls(const Inputs& in, std::set<int>& rst_ttls, std::set<int>& offsets) {
  for (const auto& s : in.trigger) {
    if (s.kind != TriggerStep::reset || !s.local_port) continue;
    for (const auto& r : in.resets)
      if (r.local_port == s.local_port) {
        rst_ttls.insert(r.ttl);
        offsets.insert(static_cast<int>(r.ttl) - s.ttl);
        break;
      }
  }
}

// A copier at hop h sends the TTL the probe reached it with, which loses h - 1 more on the way
// back: its RSTs arrive with the probe's TTL - 2h + 2, an even offset of 0 or less.  One offset
// that is positive or odd is not a copy: two TTLs chosen per connection that happen to differ
// by the probes' difference (two random TTLs one apart, about 1 in 200) look like that.
bool copy_offset(const std::set<int>& rst_ttls, const std::set<int>& offsets) {
  if (rst_ttls.size() <= 1 || offsets.size() != 1) return false;
  const int o = *offsets.begin();
  return o <= 0 && o % 2 == 0;
}

}  // namespace

std::optional<int> copier_hop(const Inputs& in) {
  std::set<int> rst_ttls, offsets;
  reset_ttls(in, rst_ttls, offsets);
  if (!copy_offset(rst_ttls, offsets)) return std::nullopt;
  return 1 - *offsets.begin() / 2;
}

std::optional<Evidence> ttl_copy_signal(const Inputs& in) {
  std::set<int> rst_ttls, offsets;  // offsets: RST TTL - probe TTL, one value for a copier
  reset_ttls(in, rst_ttls, offsets);
  if (rst_ttls.size() <= 1) return std::nullopt;
  std::string seen;
  for (int t : rst_ttls) seen += (seen.empty() ? "" : ", ") + std::to_string(t);
  if (copy_offset(rst_ttls, offsets))
    return Evidence{"ttl_copy", "the RST's TTL follows the probe's TTL (" + seen + "): the device copies it",
                    "one sender, one TTL", 0};
  return Evidence{"ttl_varies", "the RST's TTL changes from connection to connection (" + seen + "): forged",
                  "one sender, one TTL", 0};
}

std::optional<Evidence> delayed_reset_signal(const Inputs& in) {
  if (!in.tls || !in.tls->reset_after_hello_ms) return std::nullopt;
  return context("delayed_reset", "reset " + std::to_string(static_cast<int>(*in.tls->reset_after_hello_ms)) +
                                      " ms after the ClientHello, the ladder's requests were answered");
}

}  // namespace rsthop::diagnose
