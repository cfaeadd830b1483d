#include "diagnose/fusion.h"

#include <algorithm>
#include <set>

#include "diagnose/fusion_local.h"

namespace rsthop::diagnose {
namespace {

using probe::Outcome;
using probe::SynStep;
using probe::TriggerStep;

std::optional<int> first_ttl(const std::vector<TriggerStep>& steps, TriggerStep::Kind kind) {
  std::optional<int> k;
  for (const auto& s : steps)
    if (s.kind == kind && (!k || s.ttl < *k)) k = s.ttl;
  return k;
}

// The ladder step a local port belongs to.
std::map<uint16_t, int> ttl_by_port(const std::vector<TriggerStep>& steps) {
  std::map<uint16_t, int> m;
  for (const auto& s : steps)
    if (s.local_port) m[s.local_port] = s.ttl;
  return m;
}

// TTLs at which the capture saw an ICMP error quoting a step of this ladder.
std::set<int> icmp_ttls(const Inputs& in, const std::vector<TriggerStep>& steps) {
  auto ports = ttl_by_port(steps);
  std::set<int> out;
  for (const auto& i : in.icmp)
    if (auto it = ports.find(i.local_port); it != ports.end()) out.insert(it->second);
  return out;
}

const ResetSeen* reset_on(const Inputs& in, uint16_t port) {
  if (!port) return nullptr;
  for (const auto& r : in.resets)
    if (r.local_port == port) return &r;
  return nullptr;
}

uint16_t step_port(const std::vector<TriggerStep>& steps, int ttl) {
  for (const auto& s : steps)
    if (s.ttl == ttl) return s.local_port;
  return 0;
}

bool has_signal(const attribution::Verdict& v, const char* signal) {
  return std::any_of(v.evidence.begin(), v.evidence.end(),
                     [&](const attribution::Evidence& e) { return e.signal == signal && e.weight > 0; });
}

std::string target_str(const probe::Target& t) {
  std::string a = addr_to_string(t.addr.data());
  return (t.family == 6 ? "[" + a + "]" : a) + ":" + std::to_string(t.port);
}

}  // namespace

std::map<int, Addr16> path_addresses(const Inputs& in) {
  std::map<int, Addr16> path;
  for (const auto& s : in.syn)
    if (s.from && s.kind != SynStep::silent) path[s.ttl] = *s.from;
  // Where port 80 crosses a router that answers port 443 in the target's name, the router's own address wins.
  for (const auto& s : in.syn80)
    if (s.from && s.kind == SynStep::time_exceeded) path[s.ttl] = *s.from;
  for (const auto* steps : {&in.trigger, &in.control}) {
    auto ports = ttl_by_port(*steps);
    for (const auto& i : in.icmp)
      if (auto it = ports.find(i.local_port); it != ports.end() && !path.count(it->second)) path[it->second] = i.from;
  }
  return path;
}

Verdict fuse(const Inputs& in) {
  Verdict v;
  auto add = [&](std::string signal, std::string observed, std::string expected, double w) {
    v.evidence.push_back({std::move(signal), std::move(observed), std::move(expected), w});
  };
  v.l2_mac = in.gateway_mac;
  v.l2_vendor = in.gateway_vendor;
  const auto path = path_addresses(in);
  const std::string tgt = target_str(in.target);
  const double blind = in.captured ? 0 : 0.25;  // without the capture: no ICMP of established probes, no RST TTL

  for (const auto& s : in.syn)
    if (s.kind == SynStep::reached || s.kind == SynStep::refused)
      if (!v.endpoint_hop || s.ttl < *v.endpoint_hop) v.endpoint_hop = s.ttl;
  if (v.endpoint_hop)
    add("endpoint_hop", "the SYN ladder reached " + tgt + " at TTL " + std::to_string(*v.endpoint_hop), "", 0);
  std::optional<int> e80;
  for (const auto& s : in.syn80)
    if ((s.kind == SynStep::reached || s.kind == SynStep::refused) && (!e80 || s.ttl < *e80)) e80 = s.ttl;
  const bool proxied = v.endpoint_hop && e80 && *v.endpoint_hop < *e80;
  if (proxied)
    add("port_distance", "port " + std::to_string(in.target.port) + " answers at TTL " + std::to_string(*v.endpoint_hop),
        "port 80 answers at TTL " + std::to_string(*e80) + ": a proxy or load balancer terminates port " +
            std::to_string(in.target.port),
        0.6);
  if (!in.captured)
    add("no_capture", "no kernel capture (not root?): no RST TTLs, no hop addresses for the trigger ladder", "", 0);

  auto finish = [&](std::optional<int> hop) {
    v.hop = hop;
    if (hop && *hop > 0) {
      if (auto it = path.find(*hop); it != path.end()) v.hop_ip = it->second;
      else if (v.endpoint_hop && *hop == *v.endpoint_hop) v.hop_ip = in.target.addr;
    }
    std::string where = hop ? (*hop == 0 ? "this host" : "hop " + std::to_string(*hop)) : "an unknown hop";
    if (v.hop_ip && hop && *hop > 0) where += " (" + addr_to_string(v.hop_ip->data()) + ")";
    return where;
  };

  // The port itself.
  if (in.connect && in.connect->outcome != Outcome::ok) {
    const auto& c = *in.connect;
    if (c.outcome == Outcome::refused) {
      v.outcome = "reset";
      const ResetSeen* rs = reset_on(in, c.local_port);
      if (rs && local_firewall_verdict(in, *rs, tgt, v)) return v;
      if (rs && rs->verdict.origin == "local") {
        v.origin = "local";
        std::string where = finish(0);
        v.confidence = 0.9;
        v.summary = "This host refused the connection to " + tgt + " itself (a local firewall rule or no route).";
        v.next_step = "Check this host's firewall (nft list ruleset / iptables -S OUTPUT).";
        return v;
      }
      if (rs && rs->verdict.origin == "middlebox" && rs->verdict.hops) {
        v.origin = "middlebox";
        std::string where = finish(rs->verdict.hops);
        v.confidence = std::max(0.5, rs->verdict.confidence);
        v.summary = "A device at " + where + " rejects connections to " + tgt + " (RST to the SYN) before the server.";
        v.next_step = "Check the firewall or ACLs of that hop for port " + std::to_string(in.target.port) + ".";
      } else {
        v.origin = "endpoint";
        std::string where = finish(v.endpoint_hop);
        v.confidence = rs ? 0.85 : 0.65 - blind / 2;
        v.summary = tgt + " refused the connection: the port is closed on the server (" + where + ").";
        v.next_step = "Is the service running and listening on port " + std::to_string(in.target.port) + "?";
      }
      add("connect", "refused (RST to the SYN) after " + std::to_string(static_cast<int>(c.ms)) + " ms", "", 0);
      return v;
    }
    v.outcome = c.outcome == Outcome::timeout ? "drop" : "error";
    finish(std::nullopt);
    v.confidence = 0.5;
    v.summary = "No TCP handshake with " + tgt + " (" + probe::outcome_name(c.outcome) +
                (c.error.empty() ? "" : ": " + c.error) + ").";
    v.next_step = "Check routing and firewalls towards the target; the SYN ladder shows how far the SYN gets.";
    return v;
  }

  // The application probe (TLS, or HTTP for plain-HTTP targets).
  Outcome primary = in.tls ? in.tls->outcome : in.http ? in.http->outcome : Outcome::ok;
  uint16_t primary_port = in.tls ? in.tls->local_port : in.http ? in.http->local_port : 0;
  if (primary == Outcome::ok || primary == Outcome::tls_alert || primary == Outcome::cert_error) {
    v.outcome = primary == Outcome::ok ? "ok" : "error";
    v.origin = "endpoint";
    finish(v.endpoint_hop);
    v.confidence = 0.9;
    v.summary = primary == Outcome::ok ? tgt + " answers normally: no reset, no drop."
                                       : tgt + " answered with a TLS alert (" + in.tls->alert + "): the server, not the path.";
    v.next_step = primary == Outcome::ok ? "Nothing on the path interferes with this request." : "Check the server's TLS setup.";
    return v;
  }

  const auto trig_reset = first_ttl(in.trigger, TriggerStep::reset);
  const auto trig_resp = first_ttl(in.trigger, TriggerStep::response);
  const auto ctrl_reset = first_ttl(in.control, TriggerStep::reset);
  const auto ctrl_resp = first_ttl(in.control, TriggerStep::response);
  const bool control_ok = ctrl_resp && !ctrl_reset;
  if (!in.control.empty()) {
    v.trigger = control_ok ? in.trigger_name : "any";
    add("control", control_ok ? "the control request passes (answered at TTL " + std::to_string(*ctrl_resp) + ")"
                              : "the control request fails too",
        "", 0);
  }

  // Local: this host sent or forged it.
  const ResetSeen* prim = reset_on(in, primary_port);
  const ResetSeen* at_k = trig_reset ? reset_on(in, step_port(in.trigger, *trig_reset)) : nullptr;
  for (const ResetSeen* rs : {prim, at_k}) {
    if (rs && rs->verdict.origin == "local") {
      v.outcome = "reset";
      v.origin = "local";
      finish(0);
      v.confidence = rs->verdict.confidence;
      v.summary = "This host reset the connection to " + tgt + " itself: " + rs->verdict.summary;
      v.next_step = "Check this host's firewall (nft list ruleset / iptables -S OUTPUT) and its applications.";
      return v;
    }
  }

  if (primary == Outcome::reset) {
    v.outcome = "reset";
    if (trig_reset && (!trig_resp || *trig_reset < *trig_resp)) {
      const int k = *trig_reset;
      add("trigger_ladder", "the first reset comes at TTL " + std::to_string(k), "", 0);
      // The RST's own hop distance, unless the device copies the probe's TTL.
      int h = at_k && at_k->verdict.hops ? *at_k->verdict.hops : -1;  // -1: no trustworthy RST TTL
      std::set<uint8_t> rst_ttls;
      for (const auto& s : in.trigger)
        if (s.kind == TriggerStep::reset)
          if (const ResetSeen* r = reset_on(in, s.local_port)) rst_ttls.insert(r->ttl);
      if (rst_ttls.size() > 1) {
        add("ttl_copy", "the RST's TTL changes with the probe's TTL", "one sender, one TTL", 0);
        h = -1;
      }
      const auto icmp = icmp_ttls(in, in.trigger);
      int hop;
      if (h >= 0 && (h == k || h == k - 1)) {
        hop = h;
        add("ttl_check", h == k ? "it resets packets that arrive with TTL 1: it acts before its TTL check"
                                 : "it answers TTL " + std::to_string(k - 1) + " with ICMP and resets TTL " +
                                       std::to_string(k) + ": it acts after its TTL check",
            "", 0);
      } else {
        // Without the RST's TTL a device acting after its TTL check (hop k-1) looks like one at hop k.
        hop = k > 1 && icmp.count(k - 1) ? k - 1 : k;
        add("ttl_check", "no trustworthy RST TTL: hop " + std::to_string(hop) + " from the ladder alone", "", 0);
      }
      bool at_target = v.endpoint_hop && hop >= *v.endpoint_hop;
      if (at_target && h < 0 && !(at_k && at_k->verdict.origin == "endpoint")) {
        // Without the RST's TTL, the server and a device right in front of it that acts
        // after its TTL check look the same: say so rather than accuse either.
        v.origin = "unknown";
        finish(v.endpoint_hop);
        v.confidence = 0.35;
        v.summary = "The reset starts when the trigger reaches " + tgt + " (TTL " + std::to_string(k) +
                    "): the server itself, or a device just in front of it; run as root to tell them apart.";
        v.next_step = "Run rsthop diagnose as root: the RST's TTL tells the two apart.";
        return v;
      }
      if (at_target || (at_k && at_k->verdict.origin == "endpoint")) {
        v.origin = "endpoint";
        std::string where = finish(v.endpoint_hop ? v.endpoint_hop : std::optional<int>(hop));
        v.confidence = 0.85 - blind;
        v.summary = "The server " + tgt + " itself resets the connection (" + where + "): the reset starts only when the "
                    "trigger reaches it" + (v.trigger == "any" ? ", for any request." : ".");
        v.next_step = "Check the server's or its application's logs for why it aborts these connections.";
      } else {
        v.origin = "middlebox";
        std::string where = finish(hop);
        bool on_path = (at_k && has_signal(at_k->verdict, "race")) || (prim && has_signal(prim->verdict, "race"));
        v.confidence = std::min(0.95, (at_k ? 0.9 : 0.75) - blind);
        v.summary = std::string(on_path ? "An on-path injector" : "An in-path device") + " at " + where +
                    " resets connections to " + tgt +
                    (v.trigger == "sni" ? " when the ClientHello names " : v.trigger == "host" ? " for the Host " : "") +
                    (v.trigger == "sni" || v.trigger == "host" ? "'" + in.target.host + "'" : "") + ".";
        if (on_path) add("race", "the original also reached the server (it answered after the RST)", "", 0);
        bool vendor = !v.l2_vendor.empty() && v.l2_vendor != "locally administered";
        v.next_step = "Ask the owner of " + where + " about its filtering policy" +
                      (vendor ? " (the gateway here is " + v.l2_vendor + ")." : ".");
      }
      return v;
    }
    // No reset in the ladder: the reset is not provoked by the request but comes later
    // (a proxy's or balancer's timer); the passive verdict on the real connection decides.
    v.trigger = "any";
    if (in.tls && in.tls->reset_after_hello_ms)
      add("delayed_reset", "reset " + std::to_string(static_cast<int>(*in.tls->reset_after_hello_ms)) +
                               " ms after the ClientHello, the ladder's requests were answered",
          "", 0);
    if (proxied && !(prim && prim->verdict.origin == "endpoint")) {
      v.origin = "middlebox";
      std::string where = finish(v.endpoint_hop);
      v.confidence = std::min(0.9, (prim ? std::max(0.6, prim->verdict.confidence) : 0.6) + 0.15 - blind);
      v.summary = "A proxy or load balancer at " + where + " answers port " + std::to_string(in.target.port) +
                  " for " + tgt + " and resets the connection" +
                  (in.tls && in.tls->reset_after_hello_ms
                       ? " " + (*in.tls->reset_after_hello_ms < 1000  // a sub-second timer is not "0 s" or "1 s"
                                    ? std::to_string(static_cast<int>(*in.tls->reset_after_hello_ms)) + " ms"
                                    : std::to_string(static_cast<int>(*in.tls->reset_after_hello_ms / 1000 + 0.5)) + " s") +
                             " after the ClientHello"
                       : "") +
                  (v.l2_vendor.empty() || v.l2_vendor == "locally administered" ? "" : "; its MAC belongs to " + v.l2_vendor);
      if (v.summary.back() != '.') v.summary += ".";
      v.next_step = "Check the idle and session timeouts, and the TLS profile, of the device at " + where + ".";
    } else if (prim && prim->verdict.origin == "middlebox") {
      v.origin = "middlebox";
      std::string where = finish(prim->verdict.hops);
      v.confidence = prim->verdict.confidence;
      v.summary = prim->verdict.summary;
      v.next_step = "The TCP peer for this port is a proxy or load balancer at " + where +
                    (v.l2_vendor.empty() ? "" : " (" + v.l2_vendor + ")") + ": check its timeouts and policies.";
    } else if (prim && prim->verdict.origin == "endpoint") {
      v.origin = "endpoint";
      finish(v.endpoint_hop ? v.endpoint_hop : prim->verdict.hops);
      v.confidence = prim->verdict.confidence;
      v.summary = prim->verdict.summary;
      v.next_step = "Check the server's logs for why it aborts these connections.";
    } else {
      v.origin = "unknown";
      finish(prim ? prim->verdict.hops : std::nullopt);
      v.confidence = 0.3;
      v.summary = "The connection to " + tgt + " is reset, but neither the ladder nor the capture pins down who sends it.";
      v.next_step = "Run again as root (for the capture), or with a longer --timeout.";
    }
    for (const auto& e : prim ? prim->verdict.evidence : std::vector<attribution::Evidence>{}) {
      bool dup = std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& x) { return x.signal == e.signal; });
      if (!dup) v.evidence.push_back(e);
    }
    return v;
  }

  // A timeout after the handshake: a silent drop, if the control passes.
  v.outcome = "drop";
  const auto icmp = icmp_ttls(in, in.trigger);
  if (control_ok && !trig_resp) {
    v.origin = "middlebox";
    std::optional<int> hop;
    if (!icmp.empty()) hop = *icmp.rbegin();  // it answers ICMP up to its own hop, then swallows the trigger
    std::string where = finish(hop);
    add("silence", "the trigger gets no answer at any TTL" +
                       (hop ? std::string(", ICMP answers stop after TTL ") + std::to_string(*hop) : std::string()),
        "the control is answered at TTL " + std::to_string(*ctrl_resp), 0);
    v.confidence = hop ? 0.85 : 0.55;
    v.summary = "A device at " + where + " silently drops requests to " + tgt +
                (v.trigger == "sni" ? " whose ClientHello names '" + in.target.host + "'" : "") + ".";
    v.next_step = "Ask the owner of " + where + " about its filtering policy.";
    return v;
  }
  v.origin = "unknown";
  finish(std::nullopt);
  v.confidence = 0.3;
  v.summary = "Requests to " + tgt + " time out" + (control_ok ? "" : ", the control request too") +
              ": the server or the path stops answering.";
  v.next_step = "Check the server's load and logs; compare with another client.";
  return v;
}

}  // namespace rsthop::diagnose
