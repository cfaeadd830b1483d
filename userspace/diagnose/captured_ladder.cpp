#include "diagnose/captured_ladder.h"

#include <algorithm>
#include <cstring>

#include "flow/app_hint.h"

namespace rsthop::diagnose {
namespace {

using Conn = LadderRecogniser::Conn;
using probe::SynStep;
using probe::TriggerStep;

Addr16 to16(const uint8_t* a) {
  Addr16 r;
  std::memcpy(r.data(), a, 16);
  return r;
}

double ms_between(uint64_t from, uint64_t to) { return to > from ? (to - from) / 1e6 : 0; }

bool time_exceeded(const Conn& c) { return c.icmp_type == (c.family == 4 ? 11 : 3); }

// A handshake at the full TTL carried the request: the connection can be a ladder step or a probe.
bool handshake_done(const Conn& c) { return c.answer == Conn::synack && c.req_ttl; }
bool is_step(const Conn& c) { return handshake_done(c) && *c.req_ttl < c.syn_ttl; }

TriggerStep trigger_step(const Conn& c) {
  TriggerStep s;
  s.ttl = *c.req_ttl;
  s.local_port = c.cport;
  s.kind = c.reset_after_req ? TriggerStep::reset : c.response_after_req ? TriggerStep::response : TriggerStep::silent;
  s.ms = ms_between(c.req_ns, s.kind == TriggerStep::silent ? c.icmp_ns : c.req_answer_ns);
  return s;
}

SynStep syn_step(const Conn& c) {
  SynStep s;
  s.ttl = c.syn_ttl;
  s.local_port = c.cport;
  uint64_t at = 0;
  if (c.answer == Conn::synack || c.answer == Conn::refused) {
    s.kind = c.answer == Conn::synack ? SynStep::reached : SynStep::refused;
    s.from = c.server;
    at = c.answer_ns;
  } else if (c.icmp_from) {
    s.kind = time_exceeded(c) ? SynStep::time_exceeded : SynStep::unreachable;
    s.from = c.icmp_from;
    at = c.icmp_ns;
  }
  s.ms = ms_between(c.syn_ns, at);
  return s;
}

// The connections of one destination, in the order their SYNs came.
struct Destination {
  Addr16 server{};
  uint16_t port = 0;
  std::vector<const Conn*> main, control;  // requests at full TTL and ladder steps, per file
};

// Of the steps `conns` holds with `name` (any name when empty), the first per TTL, by TTL.
// The first is the first request sent: handshakes run concurrently, so their SYNs' order is not the steps'.
std::vector<const Conn*> first_per_ttl(std::vector<const Conn*> conns, const std::string* name) {
  std::stable_sort(conns.begin(), conns.end(), [](const Conn* a, const Conn* b) { return a->req_ns < b->req_ns; });
  std::map<int, const Conn*> by_ttl;
  for (const Conn* c : conns)
    if (is_step(*c) && (!name || c->name == *name)) by_ttl.emplace(*c->req_ttl, c);  // emplace keeps the first
  std::vector<const Conn*> out;
  out.reserve(by_ttl.size());
  for (const auto& [ttl, c] : by_ttl) out.push_back(c);
  return out;
}

// The trigger's name: the application probe's (a full-TTL request) when it also has steps, else the
// first ladder's that is not the control's.
std::string trigger_name(const Destination& d, const std::string& control_name, bool control_file) {
  std::vector<std::string> names;
  for (const Conn* c : d.main)
    if (is_step(*c) && std::find(names.begin(), names.end(), c->name) == names.end()) names.push_back(c->name);
  auto candidate = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end() && (control_file || n != control_name);
  };
  for (const Conn* c : d.main)
    if (handshake_done(*c) && !is_step(*c) && candidate(c->name)) return c->name;
  for (const auto& n : names)
    if (candidate(n)) return n;
  return names.empty() ? std::string() : names.front();
}

// The control ladder's name in the main file (without --control): diagnose's control name when present,
// else the first other name.
std::optional<std::string> control_name_in(const Destination& d, const std::string& trigger,
                                           const std::string& control_name) {
  std::optional<std::string> other;
  for (const Conn* c : d.main) {
    if (!is_step(*c) || c->name == trigger) continue;
    if (c->name == control_name) return c->name;
    if (!other) other = c->name;
  }
  return other;
}

// What the application probe got: its full-TTL request with the trigger's name, or, without one in the
// capture, what the trigger ladder drew (a reset anywhere, else an answer, else nothing).
void application_probe(Inputs& in, const Destination& d, const std::string& name, bool http) {
  probe::Outcome o = probe::Outcome::timeout;
  uint16_t port = 0;
  double ms = 0;
  const Conn* app = nullptr;
  for (const Conn* c : d.main)
    if (handshake_done(*c) && !is_step(*c) && c->name == name) {
      app = c;
      break;
    }
  if (app) {
    o = app->reset_after_req      ? probe::Outcome::reset
        : app->response_after_req ? probe::Outcome::ok
                                  : probe::Outcome::timeout;
    port = app->cport;
    ms = ms_between(app->req_ns, app->req_answer_ns);
  } else {
    auto has = [&](TriggerStep::Kind k) {
      return std::any_of(in.trigger.begin(), in.trigger.end(), [k](const TriggerStep& s) { return s.kind == k; });
    };
    o = has(TriggerStep::reset) ? probe::Outcome::reset : has(TriggerStep::response) ? probe::Outcome::ok : o;
  }
  if (http) {
    in.http = probe::HttpResult{};
    in.http->outcome = o;
    in.http->local_port = port;
    in.http->ms = ms;
    in.http->connect.outcome = probe::Outcome::ok;
  } else {
    in.tls = probe::TlsResult{};
    in.tls->outcome = o;
    in.tls->local_port = port;
    in.tls->ms = ms;
    in.tls->connect.outcome = probe::Outcome::ok;
    // The TLS probe holds its connection: a RST after the server's answer (a balancer's timer) resets it.
    if (app && o == probe::Outcome::ok && app->later_rst_ns) {
      in.tls->outcome = probe::Outcome::reset;
      in.tls->reset_after_hello_ms = ms_between(app->req_ns, app->later_rst_ns);
    }
  }
}

}  // namespace

Conn* LadderRecogniser::find(bool control, const uint8_t* client, uint16_t cport, const uint8_t* server,
                             uint16_t sport) {
  auto it = conns_.find(Tuple{control, to16(client), cport, to16(server), sport});
  return it == conns_.end() ? nullptr : &it->second;
}

void LadderRecogniser::add(const flow::Packet& p, bool control) {
  const rh_event& e = p.ev;
  if (e.kind == RH_EV_SYN) {
    auto [it, fresh] = conns_.try_emplace(Tuple{control, to16(e.saddr), e.sport, to16(e.daddr), e.dport});
    if (!fresh) return;  // a retransmitted SYN (or a reused tuple): the first one stands
    Conn& c = it->second;
    c.control = control;
    c.family = e.family;
    c.client = to16(e.saddr);
    c.server = to16(e.daddr);
    c.cport = e.sport;
    c.sport = e.dport;
    c.order = order_++;
    c.syn_ttl = e.ttl;
    c.syn_ns = e.ts_ns;
    return;
  }
  if (e.kind == RH_EV_ICMP) {
    Conn* c = find(control, e.inner_saddr, e.inner_sport, e.inner_daddr, e.inner_dport);
    if (!c || c->icmp_from) return;  // the first error per probe
    c->icmp_from = to16(e.saddr);
    c->icmp_type = e.icmp_type;
    c->icmp_code = e.icmp_code;
    c->icmp_ns = e.ts_ns;
    return;
  }
  if (Conn* c = find(control, e.saddr, e.sport, e.daddr, e.dport)) {  // from the client
    if (e.kind != RH_EV_PAYLOAD || c->req_ttl) return;
    c->req_ttl = e.ttl;
    c->req_ns = e.ts_ns;
    flow::AppHint hint;
    flow::parse_app_hint(p.data, hint);
    c->name_is_host = hint.tls_sni.empty() && !hint.http_host.empty();
    c->name = c->name_is_host ? hint.http_host : hint.tls_sni;
    return;
  }
  Conn* c = find(control, e.daddr, e.dport, e.saddr, e.sport);  // from the server
  if (!c) return;
  if (c->answer == Conn::none && (e.kind == RH_EV_SYNACK || e.kind == RH_EV_RST)) {
    c->answer = e.kind == RH_EV_SYNACK ? Conn::synack : Conn::refused;
    c->answer_ns = e.ts_ns;
    static const uint8_t zero[6] = {};
    if (e.kind == RH_EV_SYNACK && std::memcmp(e.smac, zero, 6) != 0) {
      c->server_mac.emplace();
      std::memcpy(c->server_mac->data(), e.smac, 6);
    }
    return;
  }
  if (!c->req_ttl) return;
  if (c->reset_after_req || c->response_after_req) {  // the first answer to the request counts; a later RST too
    if (e.kind == RH_EV_RST && !c->later_rst_ns) c->later_rst_ns = e.ts_ns;
    return;
  }
  if (e.kind == RH_EV_RST) c->reset_after_req = true;
  if (e.kind == RH_EV_PAYLOAD || e.kind == RH_EV_FIN) c->response_after_req = true;
  if (c->reset_after_req || c->response_after_req) c->req_answer_ns = e.ts_ns;
}

void LadderRecogniser::add_reset(const flow::ResetRecord& r, const attribution::Verdict& v, bool control) {
  const rh_event& e = r.first.ev;
  // The control file's resets stay out: their local ports may repeat the main file's.
  if (control || r.local_reason || !find(false, e.daddr, e.dport, e.saddr, e.sport)) return;
  Reset rs;
  rs.server = to16(e.saddr);
  rs.sport = e.sport;
  rs.seen.local_port = e.dport;
  rs.seen.ttl = e.ttl;
  rs.seen.verdict = v;
  resets_.push_back(std::move(rs));
}

namespace {

// The SYN ladders towards `d`'s server: connections without a request whose SYN went out below the highest
// SYN TTL seen towards it (the full TTL), on the target port and (for syn80) on port 80; the first per TTL.
void syn_ladders(Inputs& in, const std::vector<const Conn*>& to_server, const Destination& d) {
  uint8_t full = 0;
  for (const Conn* c : to_server) full = std::max(full, c->syn_ttl);
  std::map<int, const Conn*> syn, syn80;
  for (const Conn* c : to_server) {
    if (c->req_ttl || c->syn_ttl >= full) continue;
    if (c->sport == d.port) syn.emplace(c->syn_ttl, c);
    if (c->sport == 80 && d.port != 80) syn80.emplace(c->syn_ttl, c);
  }
  for (const auto& [ttl, c] : syn) in.syn.push_back(syn_step(*c));
  for (const auto& [ttl, c] : syn80) in.syn80.push_back(syn_step(*c));
  for (const Conn* c : to_server)
    if (!c->req_ttl && c->syn_ttl == full && c->sport == d.port) {
      in.connect = probe::ConnectResult{};
      in.connect->outcome = c->answer == Conn::synack    ? probe::Outcome::ok
                            : c->answer == Conn::refused ? probe::Outcome::refused
                                                         : probe::Outcome::timeout;
      in.connect->local_port = c->cport;
      in.connect->ms = ms_between(c->syn_ns, c->answer_ns);
      break;
    }
}

// The SYN time of the step's connection (SynStep does not keep it).
uint64_t syn_ns_of(const std::vector<const Conn*>& conns, uint16_t port) {
  for (const Conn* c : conns)
    if (c->cport == port) return c->syn_ns;
  return 0;
}

void add_steps(Inputs& in, std::vector<TriggerStep>& out, std::vector<HopSeen>& hops, const char* ladder,
               const std::vector<const Conn*>& steps, uint64_t& ts) {
  for (const Conn* c : steps) {
    ts = std::max(ts, c->req_ns);
    out.push_back(trigger_step(*c));
    const TriggerStep& s = out.back();
    hops.push_back({ladder, s.ttl, probe::name(s.kind), c->icmp_from, s.ms, c->req_ns});
    if (c->icmp_from) in.icmp.push_back({c->cport, *c->icmp_from, c->icmp_type, c->icmp_code});
  }
}

}  // namespace

std::vector<CapturedLadder> LadderRecogniser::ladders() const {
  // Every connection, by its SYN's arrival, grouped per server (SYN ladders) and per destination.
  std::vector<const Conn*> all;
  for (const auto& [t, c] : conns_) all.push_back(&c);
  // By SYN time: diagnose --pcap-out writes its connections one after another, not in time order.
  std::sort(all.begin(), all.end(), [](const Conn* a, const Conn* b) {
    return a->syn_ns != b->syn_ns ? a->syn_ns < b->syn_ns : a->order < b->order;
  });
  std::map<std::pair<Addr16, uint16_t>, Destination> dests;
  for (const Conn* c : all) {
    if (!c->req_ttl) continue;
    Destination& d = dests[{c->server, c->sport}];
    d.server = c->server;
    d.port = c->sport;
    (c->control ? d.control : d.main).push_back(c);
  }
  std::vector<CapturedLadder> out;
  for (const auto& [where, d] : dests) {
    // With --control, the control file's first ladder towards this destination (by its first request).
    const auto control_steps = first_per_ttl(d.control, nullptr);
    const bool control_file = !control_steps.empty();
    const std::string name = trigger_name(d, opt_.control_name, control_file);
    std::vector<const Conn*> trig = first_per_ttl(d.main, &name), ctrl;
    if (control_file) {
      auto first = std::min_element(control_steps.begin(), control_steps.end(),
                                    [](const Conn* a, const Conn* b) { return a->req_ns < b->req_ns; });
      ctrl = first_per_ttl(d.control, &(*first)->name);
    } else if (auto cn = control_name_in(d, name, opt_.control_name))
      ctrl = first_per_ttl(d.main, &*cn);
    if (trig.empty()) continue;  // a control alone (of another destination) is no ladder
    CapturedLadder l;
    l.name = name;
    Inputs& in = l.inputs;
    const Conn& first = *trig.front();
    in.target.addr = d.server;
    in.target.family = first.family;
    in.target.port = d.port;
    in.target.host = name;
    in.trigger_kind = first.name_is_host ? Trigger::host : Trigger::sni;
    in.captured = true;
    std::vector<const Conn*> to_server;
    for (const Conn* c : all)
      if (!c->control && c->server == d.server) to_server.push_back(c);
    syn_ladders(in, to_server, d);
    for (const auto& s : in.syn)
      l.hops.push_back({"syn", s.ttl, probe::name(s.kind), s.from, s.ms, syn_ns_of(to_server, s.local_port)});
    add_steps(in, in.trigger, l.hops, "trigger", trig, l.ts_ns);
    add_steps(in, in.control, l.hops, "control", ctrl, l.ts_ns);
    application_probe(in, d, name, first.name_is_host);
    for (const auto& r : resets_)
      if (r.server == d.server && r.sport == d.port) in.resets.push_back(r.seen);
    for (const Conn* c : to_server)
      if (c->server_mac && c->sport == d.port) {
        in.gateway_mac = c->server_mac;
        if (opt_.registry) in.gateway_vendor = opt_.registry->vendor(*c->server_mac);
        break;
      }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace rsthop::diagnose
