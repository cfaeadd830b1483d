#include "diagnose/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <thread>

#include "common/clock.h"

namespace rsthop::diagnose {
namespace {

bool same_addr(const uint8_t* a, const Addr16& b) { return std::memcmp(a, b.data(), 16) == 0; }

// Everything the capture saw about our probes: resets (judged by the
// pipeline's engine), ICMP errors quoting them, and the gateway the target's
// packets came through.
class Passive {
 public:
  Passive(const probe::Target& t, EventSource* src, const oui::Registry* reg, pipeline::Pipeline& pipe)
      : target_(t), src_(src), reg_(reg), pipe_(pipe) {
    pipe_.set_hooks({.on_reset =
                         [this](const flow::ResetRecord& r, const attribution::Verdict& v) {
                           on_reset(r, v);
                           return Result<void>();
                         },
                     .on_packet = [this](const flow::Packet& p) { on_packet(p); }});
  }
  ~Passive() { pipe_.set_hooks({}); }
  Passive(const Passive&) = delete;
  Passive& operator=(const Passive&) = delete;

  void pump() {
    if (!src_) return;
    auto r = src_->drain([this](const flow::Packet& p) { pipe_.add(p); });
    if (!r && !error_) error_ = r.error();
    pipe_.advance(monotonic_now_ns());
  }

  // What the capture has shown so far, without closing the timeline.
  void snapshot(Inputs& in) {
    pump();
    in.captured = src_ != nullptr;
    in.icmp = icmp_;
    in.resets = resets_;
  }

  void finish(Inputs& in) {
    pump();
    pipe_.finish_flows(monotonic_now_ns());
    in.captured = src_ != nullptr;
    in.icmp = icmp_;
    in.resets = resets_;
    in.gateway_mac = gateway_;
    if (gateway_ && reg_) in.gateway_vendor = reg_->vendor(*gateway_);
  }

  const std::optional<Error>& error() const { return error_; }

  // The ICMP source seen for a probe's local port, if any.
  std::optional<Addr16> icmp_from(uint16_t port) const {
    for (const auto& i : icmp_)
      if (i.local_port == port) return i.from;
    return std::nullopt;
  }

 private:
  void on_packet(const flow::Packet& p) {
    const rh_event& e = p.ev;
    if (e.kind == RH_EV_ICMP) {
      if (same_addr(e.inner_daddr, target_.addr)) {
        IcmpSeen i;
        i.local_port = e.inner_sport;
        std::memcpy(i.from.data(), e.saddr, 16);
        i.type = e.icmp_type;
        i.code = e.icmp_code;
        icmp_.push_back(i);
      }
    } else if (e.kind == RH_EV_SYNACK && same_addr(e.saddr, target_.addr) && e.hook != RH_HOOK_TC_EGRESS) {
      static const uint8_t zero[6] = {};
      if (!gateway_ && std::memcmp(e.smac, zero, 6) != 0) {
        std::array<uint8_t, 6> m;
        std::memcpy(m.data(), e.smac, 6);
        gateway_ = m;
      }
    }
  }

  void on_reset(const flow::ResetRecord& r, const attribution::Verdict& v) {
    // Our own probes abort their sockets on purpose (ladder steps, timeouts):
    // a RST this host's TCP stack sent is not evidence about the path.
    if (r.local_reason) return;
    const rh_event& e = r.first.ev;
    ResetSeen rs;
    // Our end of the connection: the destination of a remote RST, the source of ours.
    rs.local_port = same_addr(e.saddr, target_.addr) ? e.dport : e.sport;
    rs.ttl = e.ttl;
    rs.verdict = v;
    resets_.push_back(std::move(rs));
  }

  probe::Target target_;
  EventSource* src_;
  const oui::Registry* reg_;
  pipeline::Pipeline& pipe_;
  std::optional<Error> error_;
  std::vector<IcmpSeen> icmp_;
  std::vector<ResetSeen> resets_;
  std::optional<std::array<uint8_t, 6>> gateway_;
};

bool passed(probe::Outcome o) { return o == probe::Outcome::ok; }

}  // namespace

pipeline::Pipeline::Options pipeline_options(bool local_events, const oui::Registry* registry) {
  pipeline::Pipeline::Options o;
  o.timeline.burst_ns = 300'000'000ULL;
  o.engine.local_events = local_events;
  o.registry = registry;
  o.flow_lines = false;
  o.reset_lines = false;
  o.tick_ns = 0;
  return o;
}

Outcome run(const probe::Target& target, const Options& opt, EventSource* capture, const oui::Registry* registry,
            pipeline::Pipeline& pipe, const Reporter& report) {
  auto say = [&](const std::string& m) {
    if (report.progress) report.progress(m);
  };
  Passive passive(target, capture, registry, pipe);
  Outcome out;
  Inputs& in = out.inputs;
  in.target = target;
  in.trigger_kind = opt.tls ? Trigger::sni : Trigger::host;
  const std::string name = opt.sni.empty() ? target.host : opt.sni;

  say("TCP connect to port " + std::to_string(target.port));
  in.connect = probe::tcp_connect(target, opt.timing);
  if (report.connect) report.connect(*in.connect);
  bool primary_ok = passed(in.connect->outcome);

  if (opt.tls && target.port != 80) {
    probe::Target t80 = target;
    t80.port = 80;
    say("HTTP on port 80");
    auto h = probe::http_get(t80, target.host, opt.timing);
    if (report.http) report.http(h);
  }
  std::vector<uint8_t> payload, control;
  if (primary_ok) {
    if (opt.tls) {
      say("TLS handshake with SNI " + name);
      probe::Timing held = opt.timing;
      held.hold_ms = opt.hold_ms;
      in.tls = probe::tls_probe(target, name, held);
      if (report.tls) report.tls(*in.tls);
      primary_ok = passed(in.tls->outcome);
      auto hello = probe::client_hello(name), ctl = probe::client_hello(opt.control_sni);
      if (hello) payload = hello.value();
      if (ctl) control = ctl.value();
    } else {
      say("HTTP request with Host " + name);
      in.http = probe::http_get(target, name, opt.timing);
      if (report.http) report.http(*in.http);
      primary_ok = passed(in.http->outcome);
      payload = probe::http_request(name);
      control = probe::http_request(opt.control_sni);
    }
  }
  passive.pump();

  // The budget bounds every ladder: each TTL step is one connection to the target.
  int budget = opt.budget - 3;
  auto ladder_opts = [&]() {
    probe::LadderOptions lo = opt.ladder;
    lo.max_hops = std::max(0, std::min(lo.max_hops, budget));
    return lo;
  };
  auto spend = [&](size_t steps) { budget -= static_cast<int>(steps); };
  if (!primary_ok || opt.always_ladder) {
    say("SYN ladder (TTL 1.." + std::to_string(opt.ladder.max_hops) + ")");
    in.syn = probe::syn_ladder(target, ladder_opts());
    spend(in.syn.size());
    for (const auto& s : in.syn)
      if (report.hop) report.hop("syn", s.ttl, probe::syn_kind_name(s.kind), s.from, s.ms);
    if (opt.tls && target.port != 80) {
      probe::Target t80 = target;
      t80.port = 80;
      in.syn80 = probe::syn_ladder(t80, ladder_opts());
      spend(in.syn80.size());
    }
    bool handshake = in.connect && passed(in.connect->outcome);
    if (handshake && !payload.empty()) {
      say("trigger and control ladders with " + std::string(opt.tls ? "SNI " : "Host ") + name + " and " +
          opt.control_sni);
      // Both at once, each at half the rate: the silent steps' waits overlap.
      probe::LadderOptions lo = ladder_opts();
      lo.max_hops = std::max(0, std::min(lo.max_hops, budget / 2));
      lo.min_gap_ms *= 2;
      auto ctl = std::async(std::launch::async, [&] { return probe::trigger_ladder(target, control, lo); });
      in.trigger = probe::trigger_ladder(target, payload, lo);
      in.control = ctl.get();
      spend(in.trigger.size() + in.control.size());
    }
  }
  // A silent drop is placed where the trigger's ICMP answers stop; routers rate-limit ICMP per
  // destination, so an answer missing at the next TTL may just have been suppressed.  Re-test
  // that TTL alone after the limiter refilled (about one answer per second), a few times.
  for (int retest = 0; retest < 3 && !in.trigger.empty(); retest++) {
    passive.snapshot(in);
    Verdict v = fuse(in);
    if (v.outcome != RequestOutcome::drop || !v.hop || (v.endpoint_hop && *v.hop + 1 >= *v.endpoint_hop) || budget <= 0)
      break;
    const int ttl = *v.hop + 1;
    say("re-testing TTL " + std::to_string(ttl) + " after a pause (ICMP rate limits)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    probe::LadderOptions one = opt.ladder;
    one.min_ttl = one.max_hops = ttl;
    auto step = probe::trigger_ladder(target, payload, one);
    spend(step.size());
    passive.pump();
    if (step.empty()) break;
    std::erase_if(in.trigger, [&](const probe::TriggerStep& s) { return s.ttl == ttl; });
    in.trigger.push_back(step.front());
    passive.snapshot(in);
    if (!passive.icmp_from(step.front().local_port)) break;  // still silent: the drop is at hop ttl-1
  }
  passive.finish(in);
  if (report.hop) {
    for (const auto* ladder : {&in.trigger, &in.control})
      for (const auto& s : *ladder)
        report.hop(ladder == &in.trigger ? "trigger" : "control", s.ttl, probe::trigger_kind_name(s.kind),
                   passive.icmp_from(s.local_port), s.ms);
  }
  out.verdict = fuse(in);
  out.capture_error = passive.error();
  return out;
}

}  // namespace rsthop::diagnose
