// The decision and the summary for a remote sender's reset.
#include <algorithm>

#include "attribution/remote.h"
#include "common/addr.h"

namespace rsthop::attribution {
namespace {

bool has(const std::vector<Evidence>& evidence, SignalName signal) {
  return std::any_of(evidence.begin(), evidence.end(), [&](const Evidence& e) { return e.signal == signal; });
}

void middlebox_summary(std::string& s, const RemoteFacts& f, const Decision& d, std::string_view peer, Stage stage) {
  // At hop 1 the L2 neighbour is the device itself; farther, it is the gateway it sits behind.
  std::string l2;
  if (f.l2_mac && !f.l2_vendor.empty() && f.l2_vendor != "locally administered") {
    char mac[kMacTextLen];
    append(l2, d.hop && *d.hop == 1 ? "; its MAC " : "; it came through the gateway ",
           std::string_view(mac, format_mac(mac, f.l2_mac->data())), " belongs to ", f.l2_vendor);
  }
  if (d.senders.size() >= 2) {
    std::string hops;
    for (size_t i = 0; i < d.senders.size(); i++)
      append(hops, i ? (i + 1 == d.senders.size() ? " and " : ", ") : "", d.senders[i]);
    append(s, d.senders.size(), " senders reset the connection to ", peer, " ", stage_phrase(stage),
           " in one burst: its RSTs carry different TTLs (from hops ", hops, "), not one device", l2, "; ", d.why, ".");
    return;
  }
  append(s, d.proxy ? "An intercepting proxy" : "A middlebox");
  if (d.hop) append(s, " at hop ", *d.hop);
  append(s,
         d.injected_answer
             ? " answered in the server's name (an injected FIN carrying a blockpage or redirect) and reset"
             : " reset",
         " the connection to ", peer, " ", stage_phrase(stage),
         d.ttl_forged ? " (its TTL is forged: it tells no distance)" : "", l2, "; ", d.why, ".");
}

}  // namespace

Decision decide(const RemoteFacts& f, const std::vector<Evidence>& evidence) {
  Decision d;
  double pos = 0, neg = 0, strongest_neg = 0;
  bool strong = false;
  for (const auto& e : evidence) {
    if (e.weight > 0) pos += e.weight;
    if (e.weight < 0) neg += e.weight;
    if (e.strong && e.weight > 0) strong = true;
    strongest_neg = std::min(strongest_neg, e.weight);
    if (e.weight > 0 && (d.why.empty() || e.weight >= 0.4)) {
      d.why.clear();
      append(d.why, e.signal, ": ", e.observed(), ", expected ", e.expected());
    }
  }
  const double score = pos + neg;
  const auto& ep = f.endpoint_hop;
  const bool race = has(evidence, "race");
  d.proxy = has(evidence, "port_distance");
  // Behind an intercepting proxy the "peer's" SYN-ACK is the proxy's: a RST
  // matching it is the proxy's too, which agrees with port_distance.
  const bool proxy_match = d.proxy && ep && f.rst_hop == *ep;
  // Conflict means one signal clearly says "the peer" (the TTL matches it
  // exactly) while others say "someone else"; a sum of weak agreements does not.
  d.conflicting = !proxy_match && pos >= 0.3 && strongest_neg <= -0.25;
  d.hop = f.rst_hop;
  if (strong && (score >= 0.3 || race || proxy_match)) {
    d.origin = Origin::middlebox;
    d.confidence = std::clamp(0.5 + 0.35 * score, 0.5, 0.95);
    if (d.conflicting) d.confidence = std::max(0.45, d.confidence - 0.2);
    // A port answered from nearer than the address's other ports may also be
    // a router answering for itself while forwarding the rest: stay modest.
    if (proxy_match && !race) d.confidence = std::min(d.confidence, 0.7);
    // A box in front of the peer is closer than the peer: a RST from the
    // peer's distance or beyond carries a forged (or foreign) TTL that tells
    // no distance.
    // A TTL that changes per connection tells no distance either, wherever it points.
    d.ttl_forged = (ep && f.rst_hop >= *ep && !proxy_match) || has(evidence, "ttl_varies");
    if (d.ttl_forged) d.hop.reset();
    d.injected_answer = has(evidence, "injected_answer");
    // Two TTLs in one burst: two senders; the verdict's hop is the nearest one that is not the peer's.
    if (has(evidence, "burst_ttl") && !d.ttl_forged) {
      d.senders = sender_hops(f);
      for (int h : d.senders)
        if (!ep || h < *ep) {
          d.hop = h;
          break;
        }
    }
  } else if (!strong && score <= -0.2) {
    d.origin = Origin::endpoint;
    d.hop = ep;
    d.confidence = std::clamp(0.55 + 0.5 * -score, 0.55, 0.95);
  } else {
    d.origin = Origin::unknown;
    d.confidence = d.conflicting ? 0.3 : 0.25;
  }
  return d;
}

std::string remote_summary(const RemoteFacts& f, const Decision& d, Stage stage) {
  std::string peer;
  append_endpoint(peer, f.rst.saddr, f.rst.sport);
  std::string s;
  s.reserve(256);
  switch (d.origin) {
    case Origin::middlebox:
      middlebox_summary(s, f, d, peer, stage);
      return s;
    case Origin::endpoint:
      append(s, "The peer ", peer, " itself reset the connection ", stage_phrase(stage));
      if (f.base)
        append(s, ": the RST matches its ", f.base_name, " (TTL, hop distance", f.peer_next ? ", sequence number" : "",
               ").");
      else
        append(s, ": it comes from the hop at which the peer answered other connections.");
      return s;
    case Origin::local:
    case Origin::unknown:
      break;
  }
  if (d.conflicting)
    append(s, "Unclear who reset the connection to ", peer, " ", stage_phrase(stage), ": the evidence conflicts (",
           d.why, ").");
  else if (!f.endpoint_hop)
    append(s, "The connection to ", peer, " was refused or reset ", stage_phrase(stage), " from hop ", f.rst_hop,
           "; with no packet of the peer to compare, rsthop cannot tell the server from a device in front of it.");
  else
    append(s, "Unclear who reset the connection to ", peer, " ", stage_phrase(stage),
           ": too little evidence either way.");
  return s;
}

}  // namespace rsthop::attribution
