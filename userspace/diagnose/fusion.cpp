#include "diagnose/fusion.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "attribution/signals.h"
#include "diagnose/fusion_local.h"
#include "diagnose/fusion_signals.h"

namespace rsthop::diagnose {
namespace {

using ProbeOutcome = probe::Outcome;
using attribution::Origin;
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

// Any weight: context signals count too.
bool has_signal_any(const attribution::Verdict& v, const char* signal) {
  return std::any_of(v.evidence.begin(), v.evidence.end(),
                     [&](const attribution::Evidence& e) { return e.signal == signal; });
}

bool has_signal(const attribution::Verdict& v, const char* signal) {
  return std::any_of(v.evidence.begin(), v.evidence.end(),
                     [&](const attribution::Evidence& e) { return e.signal == signal && e.weight > 0; });
}

// What the trigger named (the SNI or Host it sent), for the summaries.
const std::string& trigger_name(const Inputs& in) { return in.trigger_name.empty() ? in.target.host : in.trigger_name; }

std::string target_str(const probe::Target& t) {
  std::string a = addr_to_string(t.addr.data());
  return (t.family == 6 ? "[" + a + "]" : a) + ":" + std::to_string(t.port);
}

// The hops the distinct TTLs of a passive verdict's burst come from (two TTLs: two senders).
std::vector<int> sender_hops(const attribution::Verdict& rv) {
  if (!has_signal(rv, "burst_ttl")) return {};
  std::set<int> hops;
  for (uint8_t t : rv.fingerprint.ttls) hops.insert(attribution::hops_from_ttl(t, false));
  return {hops.begin(), hops.end()};
}

std::string hop_list(const std::vector<int>& hops) {
  std::string s;
  for (size_t i = 0; i < hops.size(); i++)
    s += (i ? (i + 1 == hops.size() ? " and " : ", ") : "") + std::to_string(hops[i]);
  return s;
}

bool named_vendor(const std::string& vendor) { return !vendor.empty() && vendor != "locally administered"; }

// What every verdict branch reads, computed once.
struct Fusion {
  const Inputs& in;
  Verdict& v;
  std::map<int, Addr16> path;
  std::string tgt;
  double blind = 0;                         // without the capture: no ICMP of established probes, no RST TTL
  bool proxied = false;                     // port_distance: a proxy terminates the target port
  ProbeOutcome primary = ProbeOutcome::ok;  // the application probe (TLS, or HTTP for plain-HTTP targets)
  const ResetSeen* prim = nullptr;          // the capture's verdict on the application probe's reset
  std::optional<int> trig_reset, trig_resp, ctrl_resp;
  bool control_ok = false;          // the control request is answered and never reset
  const ResetSeen* at_k = nullptr;  // the capture's verdict on the trigger ladder's first reset

  void add(std::optional<attribution::Evidence> e) {
    if (e) v.evidence.push_back(std::move(*e));
  }
  void add(attribution::SignalName signal, std::string_view observed, std::string_view expected = "", double w = 0) {
    v.evidence.emplace_back(signal, observed, expected, w);
  }
  // The address of hop `hop`, when the ladders (or the target) know it.
  std::optional<Addr16> address_of(int hop) const {
    if (hop <= 0) return std::nullopt;
    if (auto it = path.find(hop); it != path.end()) return it->second;
    if (v.endpoint_hop && hop == *v.endpoint_hop) return in.target.addr;
    return std::nullopt;
  }
  static std::string words(std::optional<int> hop, const std::optional<Addr16>& ip) {
    std::string where = hop ? (*hop == 0 ? "this host" : "hop " + std::to_string(*hop)) : "an unknown hop";
    if (ip && hop && *hop > 0) where += " (" + addr_to_string(ip->data()) + ")";
    return where;
  }
  // Sets the verdict's hop (and its address, when the ladders know it); returns it in words.
  std::string place(std::optional<int> hop) {
    v.hop = hop;
    v.candidates.clear();
    v.hop_ip = hop ? address_of(*hop) : std::nullopt;
    return words(hop, v.hop_ip);
  }
  // The verdict names `hop`, one of the adjacent pair `near`, `near + 1` the
  // ladder cannot separate; returns "between hop a (x) and hop b (y)".
  std::string place_between(int near, int hop) {
    place(hop);
    for (int h : {near, near + 1}) v.candidates.push_back({h, address_of(h)});
    return "between " + words(near, v.candidates[0].ip) + " and " + words(near + 1, v.candidates[1].ip);
  }
};

// The handshake itself failed: refused (by whom?), timed out or errored.
void connect_failed(Fusion& f) {
  const auto& c = *f.in.connect;
  Verdict& v = f.v;
  const std::string port = std::to_string(f.in.target.port);
  if (c.outcome != ProbeOutcome::refused) {
    v.outcome = c.outcome == ProbeOutcome::timeout ? RequestOutcome::drop : RequestOutcome::error;
    f.place(std::nullopt);
    v.confidence = 0.5;
    v.summary = "No TCP handshake with " + f.tgt + " (" + probe::name(c.outcome) +
                (c.error.empty() ? "" : ": " + c.error) + ").";
    v.next_step = "Check routing and firewalls towards the target; the SYN ladder shows how far the SYN gets.";
    return;
  }
  v.outcome = RequestOutcome::reset;
  const ResetSeen* rs = reset_on(f.in, c.local_port);
  if (!v.endpoint_hop && rs) v.endpoint_hop = rs->verdict.endpoint_hop;
  if (rs && local_firewall_verdict(f.in, *rs, f.tgt, v)) return;
  if (rs && rs->verdict.origin == Origin::local) {
    v.origin = Origin::local;
    f.place(0);
    v.confidence = 0.9;
    v.summary = "This host refused the connection to " + f.tgt + " itself (a local firewall rule or no route).";
    v.next_step = "Check this host's firewall (nft list ruleset / iptables -S OUTPUT).";
    return;
  }
  if (rs && rs->verdict.origin == Origin::middlebox && rs->verdict.hop) {
    v.origin = Origin::middlebox;
    std::string where = f.place(rs->verdict.hop);
    v.confidence = std::max(0.5, rs->verdict.confidence);
    const auto senders = sender_hops(rs->verdict);
    v.summary = senders.size() >= 2 ? std::to_string(senders.size()) + " senders reject connections to " + f.tgt +
                                          " (RSTs to the SYN with different TTLs in one burst, from hops " +
                                          hop_list(senders) + "), the nearest at " + where + ", before the server."
                                    : "A device at " + where + " rejects connections to " + f.tgt +
                                          " (RST to the SYN) before the server.";
    v.next_step = "Check the firewall or ACLs of that hop for port " + port + ".";
  } else {
    v.origin = Origin::endpoint;
    std::string where = f.place(v.endpoint_hop);
    v.confidence = rs ? 0.85 : 0.65 - f.blind / 2;
    v.summary = f.tgt + " refused the connection: the port is closed on the server (" + where + ").";
    v.next_step = "Is the service running and listening on port " + port + "?";
  }
  f.add("connect", "refused (RST to the SYN) after " + std::to_string(static_cast<int>(c.ms)) + " ms");
}

// The application probe got an answer (or a TLS alert): the server, not the path.
void application_answered(Fusion& f) {
  Verdict& v = f.v;
  // A handshake whose certificate did not verify still completed: the server answered.
  const bool ok = f.primary == ProbeOutcome::ok || f.primary == ProbeOutcome::cert_error;
  v.outcome = ok ? RequestOutcome::ok : RequestOutcome::error;
  v.origin = Origin::endpoint;
  f.place(v.endpoint_hop);
  v.confidence = 0.9;
  v.summary = ok ? f.tgt + " answers normally: no reset, no drop."
                 : f.tgt + " answered with a TLS alert (" + f.in.tls->alert + "): the server, not the path.";
  v.next_step = ok ? "Nothing on the path interferes with this request." : "Check the server's TLS setup.";
}

// This host sent or forged the reset the probe or the ladder met.
bool local_reset(Fusion& f) {
  Verdict& v = f.v;
  for (const ResetSeen* rs : {f.prim, f.at_k}) {
    if (!rs || rs->verdict.origin != Origin::local) continue;
    v.outcome = RequestOutcome::reset;
    v.origin = Origin::local;
    f.place(0);
    v.confidence = rs->verdict.confidence;
    v.summary = "This host reset the connection to " + f.tgt + " itself: " + rs->verdict.summary;
    v.next_step = "Check this host's firewall (nft list ruleset / iptables -S OUTPUT) and its applications.";
    return true;
  }
  return false;
}

struct LadderHop {
  int hop = 0;
  bool rst_ttl_trusted = false;  // the RST's own TTL gave a distance the ladder agrees with, or any at all
  bool on_path = false;          // the reset probe went on: a device that watches, not one that blocks
  bool ambiguous = false;        // hop k-1 and hop k both fit: the verdict names both
};

// Where the device that first resets at TTL k sits: hop k when the reset probe
// also drew ICMP from hop k (it went on); else its RST's hop distance when
// that agrees with the ladder; else the ladder (and its ICMP) alone, which
// cannot tell hop k-1 from hop k.
LadderHop ladder_hop(Fusion& f, int k) {
  f.add("trigger_ladder", "the first reset comes at TTL " + std::to_string(k));
  const auto icmp = icmp_ttls(f.in, f.in.trigger);
  // A device that copies the TTL a probe reaches it with: its reply dies on
  // the way back until the probe's TTL is high enough, so the first reset
  // step is past it; the copy's constant offset says where it is.
  auto copy = ttl_copy_signal(f.in);
  if (auto h = copy ? copier_hop(f.in) : std::nullopt; h && *h <= k) {
    f.add(std::move(copy));
    f.add("ttl_check", "its RSTs carry the TTL the probe reached it with, less the way back: hop " +
                           std::to_string(*h) +
                           " (a reply from a device at hop h arrives with the probe's TTL - 2h + 2)");
    return {*h, false, icmp.count(k) > 0, false};
  }
  if (icmp.count(k)) {
    f.add(std::move(copy));  // a TTL that varies (or is copied) is said, though ICMP places the device
    f.add("on_path",
          "the probe reset at TTL " + std::to_string(k) + " also drew ICMP time-exceeded from hop " +
              std::to_string(k) + ": it went on, the device only watched it",
          "", 0.3);
    return {k, true, true, false};
  }
  // The RST's own hop distance, unless the device copies the probe's TTL.
  int h = f.at_k && f.at_k->verdict.hop ? *f.at_k->verdict.hop : -1;  // -1: no trustworthy RST TTL
  if (auto e = ttl_copy_signal(f.in)) {
    f.add(std::move(e));
    h = -1;
  }
  if (h >= 0 && (h == k || h == k - 1)) {
    f.add("ttl_check", h == k ? "it resets packets that arrive with TTL 1: it acts before its TTL check"
                              : "it answers TTL " + std::to_string(k - 1) + " with ICMP and resets TTL " +
                                    std::to_string(k) + ": it acts after its TTL check");
    return {h, true, false, false};
  }
  // Without the RST's TTL a device acting after its TTL check (hop k-1) looks like one at hop k.
  int hop = k > 1 && icmp.count(k - 1) ? k - 1 : k;
  f.add("ttl_check", k > 1 ? "no trustworthy RST TTL: hop " + std::to_string(k - 1) +
                                 " acting after its TTL check "
                                 "and hop " +
                                 std::to_string(k) + " acting before it look the same"
                           : "no trustworthy RST TTL: hop 1 from the ladder alone");
  return {hop, h >= 0, false, k > 1};
}

// The reset comes from the server's own address but from a hop in front of
// it (its RST's TTL says so): a NAT firewall answering in the server's name.
bool server_address_firewall(Fusion& f, const LadderHop& lh) {
  Verdict& v = f.v;
  if (!f.at_k || f.at_k->verdict.origin != Origin::endpoint || !lh.rst_ttl_trusted || lh.on_path || !v.endpoint_hop ||
      lh.hop >= *v.endpoint_hop)
    return false;
  v.origin = Origin::middlebox;
  std::string where = f.place(lh.hop);
  f.add("server_address", "the RST carries the server's address but comes from hop " + std::to_string(lh.hop),
        "the server is hop " + std::to_string(*v.endpoint_hop), 0.5);
  v.confidence = std::min(0.9, 0.8 - f.blind);
  v.summary = "A firewall at " + where + ", in front of the server, resets connections to " + f.tgt +
              " in the server's own name (its address, a TTL from nearer): not the server.";
  v.next_step = "Check the firewall or NAT device in front of the server (" + where + ") for its filtering policy.";
  return true;
}

// Without the RST's TTL, the server and a device right in front of it that acts
// after its TTL check look the same: say so and name both rather than accuse either.
void server_or_its_neighbour(Fusion& f, int k) {
  Verdict& v = f.v;
  v.origin = Origin::unknown;
  const int ep = *v.endpoint_hop;
  std::string pair = ep > 1 ? f.place_between(ep - 1, ep) : f.place(ep);
  v.confidence = 0.35;
  v.summary =
      "The reset starts when the trigger reaches " + f.tgt + " (TTL " + std::to_string(k) +
      "): the server itself, or a device just in front of it (" + pair + ")" +
      (f.in.captured ? "; the RST's TTL cannot be trusted to tell them apart." : "; run as root to tell them apart.");
  v.next_step = f.in.captured ? "Compare with a capture at the server: does it send these resets?"
                              : "Run rsthop diagnose as root: the RST's TTL tells the two apart.";
}

// The trigger ladder drew a reset at TTL k before any response.
void triggered_reset(Fusion& f, int k) {
  Verdict& v = f.v;
  const LadderHop lh = ladder_hop(f, k);
  if (server_address_firewall(f, lh)) return;
  const bool passive_endpoint = f.at_k && f.at_k->verdict.origin == Origin::endpoint && !lh.on_path;
  // An ambiguous pair that ends at the server may be the server: judged by k, not by the nearer candidate.
  const bool at_target = v.endpoint_hop && (lh.ambiguous ? k : lh.hop) >= *v.endpoint_hop;
  if (at_target && !lh.rst_ttl_trusted && !passive_endpoint) {
    server_or_its_neighbour(f, k);
    return;
  }
  if (at_target || passive_endpoint) {
    v.origin = Origin::endpoint;
    std::string where = f.place(v.endpoint_hop ? v.endpoint_hop : std::optional<int>(lh.hop));
    v.confidence = 0.85 - f.blind;
    v.summary = "The server " + f.tgt + " itself resets the connection (" + where +
                "): the reset starts only when the "
                "trigger reaches it" +
                (v.trigger == Trigger::any ? ", for any request." : ".");
    v.next_step = "Check the server's or its application's logs for why it aborts these connections.";
    return;
  }
  v.origin = Origin::middlebox;
  std::string where = lh.ambiguous ? f.place_between(k - 1, lh.hop) : "at " + f.place(lh.hop);
  bool raced = (f.at_k && has_signal(f.at_k->verdict, "race")) || (f.prim && has_signal(f.prim->verdict, "race"));
  const bool on_path = lh.on_path || raced;
  v.confidence = std::min(0.95, (f.at_k ? 0.9 : 0.75) - f.blind - (lh.ambiguous ? 0.1 : 0));
  const bool named = v.trigger == Trigger::sni || v.trigger == Trigger::host;
  v.summary = std::string(on_path ? "An on-path injector" : "An in-path device") + " " + where +
              " resets connections to " + f.tgt +
              (v.trigger == Trigger::sni    ? " when the ClientHello names "
               : v.trigger == Trigger::host ? " for the Host "
                                            : "") +
              (named ? "'" + trigger_name(f.in) + "'" : "") + ".";
  if (raced) f.add("race", "the original also reached the server (it answered after the RST)");
  const std::string owner =
      lh.ambiguous ? "hop " + std::to_string(k - 1) + " or hop " + std::to_string(k) : Fusion::words(v.hop, v.hop_ip);
  v.next_step = "Ask the owner of " + owner + " about its filtering policy" +
                (named_vendor(v.l2_vendor) ? " (the gateway here is " + v.l2_vendor + ")." : ".");
}

std::string proxy_summary(const Fusion& f, const std::string& where) {
  const auto& delay = f.in.tls ? f.in.tls->reset_after_hello_ms : std::nullopt;
  std::string s = "A proxy or load balancer at " + where + " answers port " + std::to_string(f.in.target.port) +
                  " for " + f.tgt + " and resets the connection";
  // A sub-second timer is not "0 s" or "1 s".
  if (delay)
    s += " " +
         (*delay < 1000 ? std::to_string(static_cast<int>(*delay)) + " ms"
                        : std::to_string(std::lround(*delay / 1000)) + " s") +
         " after the ClientHello";
  if (named_vendor(f.v.l2_vendor)) s += "; its MAC belongs to " + f.v.l2_vendor;
  if (s.back() != '.') s += ".";
  return s;
}

// No reset in the ladder: the reset is not provoked by the request but comes later
// (a proxy's or balancer's timer); the passive verdict on the real connection decides.
void untriggered_reset(Fusion& f) {
  Verdict& v = f.v;
  const ResetSeen* prim = f.prim;
  const Origin passive = prim ? prim->verdict.origin : Origin::unknown;
  v.trigger = Trigger::any;
  f.add(delayed_reset_signal(f.in));
  if (f.proxied && passive != Origin::endpoint) {
    v.origin = Origin::middlebox;
    std::string where = f.place(v.endpoint_hop);
    v.confidence = std::min(0.9, (prim ? std::max(0.6, prim->verdict.confidence) : 0.6) + 0.15 - f.blind);
    v.summary = proxy_summary(f, where);
    v.next_step = "Check the idle and session timeouts, and the TLS profile, of the device at " + where + ".";
  } else if (prim && passive == Origin::middlebox) {
    v.origin = Origin::middlebox;
    std::string where = f.place(prim->verdict.hop);
    v.confidence = prim->verdict.confidence;
    v.summary = prim->verdict.summary;
    v.next_step = "The TCP peer for this port is a proxy or load balancer at " + where +
                  (v.l2_vendor.empty() ? "" : " (" + v.l2_vendor + ")") + ": check its timeouts and policies.";
  } else if (prim && passive == Origin::endpoint) {
    v.origin = Origin::endpoint;
    f.place(v.endpoint_hop ? v.endpoint_hop : prim->verdict.hop);
    v.confidence = prim->verdict.confidence;
    v.summary = prim->verdict.summary;
    v.next_step = "Check the server's logs for why it aborts these connections.";
  } else {
    v.origin = Origin::unknown;
    f.place(prim ? prim->verdict.hop : std::nullopt);
    v.confidence = 0.3;
    v.summary =
        "The connection to " + f.tgt + " is reset, but neither the ladder nor the capture pins down who sends it.";
    v.next_step = "Run again as root (for the capture), or with a longer --timeout.";
  }
  for (const auto& e : prim ? prim->verdict.evidence : std::vector<attribution::Evidence>{}) {
    bool dup = std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& x) { return x.signal == e.signal; });
    if (!dup) v.evidence.push_back(e);
  }
}

// The first TTL of a silent drop: the one after the trigger's last ICMP, unless
// the control is silent there too (a hop that never answers ICMP), which moves
// it on to the next TTL the control answers (ICMP or a response).
int first_silent(const Inputs& in, int last_icmp) {
  const auto ctrl = icmp_ttls(in, in.control);
  if (ctrl.empty()) return last_icmp + 1;  // nothing to compare with
  auto answered = [&](int ttl) {
    if (ctrl.count(ttl)) return true;
    return std::any_of(in.control.begin(), in.control.end(),
                       [&](const TriggerStep& s) { return s.ttl == ttl && s.kind == TriggerStep::response; });
  };
  int ttl = last_icmp + 1;
  while (!answered(ttl) &&
         std::any_of(in.control.begin(), in.control.end(), [&](const auto& s) { return s.ttl > ttl; }))
    ttl++;
  return ttl;
}

// A timeout after the handshake: a silent drop, if the control passes.  The
// device sits after the last TTL that still drew ICMP and no further than the
// first silent one: both are candidates.
void dropped(Fusion& f) {
  Verdict& v = f.v;
  v.outcome = RequestOutcome::drop;
  const auto icmp = icmp_ttls(f.in, f.in.trigger);
  if (f.control_ok && !f.trig_resp) {
    v.origin = Origin::middlebox;
    std::string where = "at " + f.place(std::nullopt);
    std::optional<int> last;
    if (!icmp.empty()) {
      last = *icmp.rbegin();  // it answers ICMP up to its own hop, then swallows the trigger
      const int silent = first_silent(f.in, *last);
      where = f.place_between(silent - 1, silent - 1);
    }
    f.add("silence",
          "the trigger gets no answer at any TTL" +
              (last ? std::string(", ICMP answers stop after TTL ") + std::to_string(*last) : std::string()),
          "the control is answered at TTL " + std::to_string(*f.ctrl_resp), 0);
    v.confidence = last ? 0.85 : 0.55;
    v.summary = "A device " + where + " silently drops requests to " + f.tgt +
                (v.trigger == Trigger::sni ? " whose ClientHello names '" + trigger_name(f.in) + "'" : "") + ".";
    v.next_step = "Ask the owner of " +
                  (v.candidates.empty() ? std::string("that hop")
                                        : "hop " + std::to_string(v.candidates[0].hop) + " or hop " +
                                              std::to_string(v.candidates[1].hop)) +
                  " about its filtering policy.";
    return;
  }
  v.origin = Origin::unknown;
  f.place(std::nullopt);
  v.confidence = 0.3;
  v.summary = "Requests to " + f.tgt + " time out" + (f.control_ok ? "" : ", the control request too") +
              ": the server or the path stops answering.";
  v.next_step = "Check the server's load and logs; compare with another client.";
}

}  // namespace

std::map<int, Addr16> path_addresses(const Inputs& in) {
  std::map<int, Addr16> path;
  for (const auto& s : in.syn)
    if (s.from && s.kind != SynStep::silent) path[s.ttl] = *s.from;
  // A SYN refused (by an on-path device) that also drew ICMP from the hop: the hop's address.
  for (const auto& s : in.syn)
    if (auto from = syn_icmp_from(in, s)) path[s.ttl] = *from;
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

// The trigger was answered (an HTTP blockpage or redirect) at a TTL that
// cannot reach the server, or the capture saw the answer come with a
// middlebox's RST: the censor answered in the server's name.
bool injected_answer(Fusion& f) {
  Verdict& v = f.v;
  // The TTL of an answer from before the server; 0: none.
  const int early = v.endpoint_hop && f.trig_resp && *f.trig_resp < *v.endpoint_hop ? *f.trig_resp : 0;
  const ResetSeen* rs =
      f.prim && f.prim->verdict.origin == Origin::middlebox && has_signal_any(f.prim->verdict, "injected_answer")
          ? f.prim
          : nullptr;
  if (!early && !rs) return false;
  v.outcome = RequestOutcome::reset;
  v.origin = Origin::middlebox;
  std::string where;
  if (early) {
    const bool on_path = icmp_ttls(f.in, f.in.trigger).count(early) > 0;
    where = "at " + f.place(early);
    f.add("injected_answer",
          "the trigger is answered at TTL " + std::to_string(early) + ", before the server" +
              (on_path ? " (the probe went on: ICMP time-exceeded from hop " + std::to_string(early) + ")" : ""),
          "only the server answers, at TTL " + std::to_string(*v.endpoint_hop) + " or more", 0.6);
  } else {
    where = rs->verdict.hop ? "at " + f.place(rs->verdict.hop) : "on the path";
    if (!rs->verdict.hop) f.place(std::nullopt);
  }
  const std::string status = f.in.http && !f.in.http->status_line.empty() ? f.in.http->status_line : "";
  v.confidence = std::min(0.95, (early ? 0.9 : std::max(0.6, rs->verdict.confidence)) - f.blind);
  v.summary = "An on-path injector " + where + " answers requests to " + f.tgt +
              (v.trigger == Trigger::host ? " for the Host '" + trigger_name(f.in) + "'" : "") +
              " in the server's name: the answer" + (status.empty() ? "" : " ('" + status + "')") +
              " is the censor's injected FIN (a blockpage or redirect), not the server's, and a RST follows.";
  for (const ResetSeen* r : {f.prim, f.at_k})
    for (const auto& e : r ? r->verdict.evidence : std::vector<attribution::Evidence>{}) {
      bool dup = std::any_of(v.evidence.begin(), v.evidence.end(), [&](const auto& x) { return x.signal == e.signal; });
      if (!dup) v.evidence.push_back(e);
    }
  v.next_step = "Ask the owner of " + Fusion::words(v.hop, v.hop_ip) + " about its filtering policy.";
  return true;
}

// The signals common to every verdict first, then the first branch that applies decides.
Verdict fuse(const Inputs& in) {
  Verdict v;
  Fusion f{in, v};
  v.l2_mac = in.gateway_mac;
  v.l2_vendor = in.gateway_vendor;
  f.path = path_addresses(in);
  f.tgt = target_str(in.target);
  f.blind = in.captured ? 0 : 0.25;
  v.endpoint_hop = server_reached_at(in);
  f.add(endpoint_hop_signal(in));
  auto proxy = port_distance_signal(in);
  f.proxied = proxy.has_value();
  f.add(std::move(proxy));
  f.add(no_capture_signal(in));
  if (in.connect && in.connect->outcome != ProbeOutcome::ok) {
    connect_failed(f);
    return v;
  }

  f.primary = in.tls ? in.tls->outcome : in.http ? in.http->outcome : ProbeOutcome::ok;
  const uint16_t primary_port = in.tls ? in.tls->local_port : in.http ? in.http->local_port : 0;
  f.trig_reset = first_ttl(in.trigger, TriggerStep::reset);
  f.trig_resp = first_ttl(in.trigger, TriggerStep::response);
  f.ctrl_resp = first_ttl(in.control, TriggerStep::response);
  f.control_ok = f.ctrl_resp && !first_ttl(in.control, TriggerStep::reset);
  f.prim = reset_on(in, primary_port);
  f.at_k = f.trig_reset ? reset_on(in, step_port(in.trigger, *f.trig_reset)) : nullptr;
  if (f.primary == ProbeOutcome::ok || f.primary == ProbeOutcome::tls_alert || f.primary == ProbeOutcome::cert_error) {
    if (!in.control.empty()) v.trigger = f.control_ok ? in.trigger_kind : Trigger::any;
    if (!in.tls && injected_answer(f)) {
      f.add(control_signal(in));
      return v;
    }
    v.trigger = Trigger::none;
    application_answered(f);
    return v;
  }

  if (!in.control.empty()) v.trigger = f.control_ok ? in.trigger_kind : Trigger::any;
  f.add(control_signal(in));
  if (local_reset(f)) return v;

  if (f.primary == ProbeOutcome::reset) {
    v.outcome = RequestOutcome::reset;
    if (f.trig_reset && (!f.trig_resp || *f.trig_reset < *f.trig_resp))
      triggered_reset(f, *f.trig_reset);
    else
      untriggered_reset(f);
    return v;
  }
  dropped(f);
  return v;
}

}  // namespace rsthop::diagnose
