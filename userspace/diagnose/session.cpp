#include "diagnose/session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "diagnose/await_records.h"

namespace rsthop::diagnose {
namespace {

bool same_addr(const uint8_t* a, const Addr16& b) { return std::memcmp(a, b.data(), 16) == 0; }

// Everything the capture saw about our probes: resets (judged by the
// pipeline's engine), ICMP errors quoting them, and the gateway the target's
// packets came through.  The trigger and control ladders run on two threads
// and both ask it (saw_time_exceeded): one lock around the capture and the lists.
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
    std::lock_guard<std::mutex> lock(mu_);
    pump_locked();
  }

  // What the capture has shown so far, without closing the timeline.
  void snapshot(Inputs& in) {
    std::lock_guard<std::mutex> lock(mu_);
    pump_locked();
    in.captured = src_ != nullptr;
    in.icmp = icmp_;
    in.resets = resets_;
  }

  // Closes the timeline once every ladder step the sockets saw reset has its RST from the capture
  // (see await_records.h), or after a bounded wait; returns how many of those steps it never showed.
  // The lock is taken for each read, not for the wait: a sleep holds nobody up.
  size_t finish(Inputs& in) {
    std::set<uint16_t> want;
    if (src_)
      for (const auto* ladder : {&in.trigger, &in.control})
        for (const auto& s : *ladder)
          if (s.kind == probe::TriggerStep::reset && s.local_port) want.insert(s.local_port);
    auto seen = [this](uint16_t port) {
      std::lock_guard<std::mutex> lock(mu_);
      return rst_ports_.count(port) > 0;
    };
    await_records(
        want, [this] { pump(); }, seen, std::chrono::milliseconds(kRstWaitMs));
    std::lock_guard<std::mutex> lock(mu_);
    pipe_.finish_flows(monotonic_now_ns());
    in.captured = src_ != nullptr;
    in.icmp = icmp_;
    in.resets = resets_;
    in.gateway_mac = gateway_;
    if (gateway_ && reg_) in.gateway_vendor = reg_->vendor(*gateway_);
    return static_cast<size_t>(
        std::count_if(want.begin(), want.end(), [this](uint16_t port) { return rst_ports_.count(port) == 0; }));
  }

  const std::optional<Error>& error() const { return error_; }
  // After finish(): the records of the resets the verdict weighed.
  std::vector<flow::ResetRecord> take_records() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(records_);
  }

  // The ladders' watch (probe::LadderOptions::time_exceeded): reads the capture first.
  bool saw_time_exceeded(uint16_t port) {
    std::lock_guard<std::mutex> lock(mu_);
    pump_locked();
    return time_exceeded_locked(port);
  }
  bool capturing() const { return src_ != nullptr; }

  // The ICMP source seen for a probe's local port, if any.
  std::optional<Addr16> icmp_from(uint16_t port) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& i : icmp_)
      if (i.local_port == port) return i.from;
    return std::nullopt;
  }
  // Whether a probe's local port drew ICMP time-exceeded (type 11, ICMPv6 type 3).
  bool time_exceeded(uint16_t port) const {
    std::lock_guard<std::mutex> lock(mu_);
    return time_exceeded_locked(port);
  }

 private:
  void pump_locked() {
    if (!src_) return;
    auto r = src_->drain([this](const flow::Packet& p) { pipe_.add(p); });
    if (!r && !error_) error_ = r.error();
    pipe_.advance(monotonic_now_ns());
  }
  bool time_exceeded_locked(uint16_t port) const {
    const uint8_t type = target_.family == 6 ? 3 : 11;
    return std::any_of(icmp_.begin(), icmp_.end(),
                       [&](const IcmpSeen& i) { return i.local_port == port && i.type == type; });
  }

  void on_packet(const flow::Packet& p) {
    const rh_event& e = p.ev;
    if (e.kind == RH_EV_ICMP) {
      if (auto port = icmp_port(e, target_.addr, target_.port)) {
        IcmpSeen i;
        i.local_port = *port;
        std::memcpy(i.from.data(), e.saddr, 16);
        i.type = e.icmp_type;
        i.code = e.icmp_code;
        icmp_.push_back(i);
      }
    } else if (auto port = reset_port(e, target_.addr, target_.port)) {
      rst_ports_.insert(*port);
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
    // Our end of the connection: the destination of a remote RST, the source of ours.  Only the
    // target port's connections: a port-80 probe may share its local port with a port-443 step.
    const bool from_target = same_addr(e.saddr, target_.addr);
    if ((from_target ? e.sport : e.dport) != target_.port) return;
    ResetSeen rs;
    rs.local_port = from_target ? e.dport : e.sport;
    rs.ttl = e.ttl;
    rs.verdict = v;
    resets_.push_back(std::move(rs));
    records_.push_back(r);
  }

  probe::Target target_;
  EventSource* src_;
  const oui::Registry* reg_;
  pipeline::Pipeline& pipe_;
  mutable std::mutex mu_;
  std::optional<Error> error_;
  std::vector<IcmpSeen> icmp_;
  std::vector<ResetSeen> resets_;
  std::vector<flow::ResetRecord> records_;  // the resets_' records, as the timeline completed them
  std::set<uint16_t> rst_ports_;            // our local ports a RST from the target's address reached (reset_port)
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

namespace {

void say(const Reporter& report, const std::string& m) {
  if (report.progress) report.progress(m);
}

probe::Target port80(const probe::Target& t) {
  probe::Target p = t;
  p.port = 80;
  return p;
}

// The TCP connect and, for a TLS target, HTTP on port 80: what the sockets alone tell.  A connect
// that failed is not reported yet when `capture_later`: Run repeats a refused one with the capture
// attached (a refusal's RST is what tells a local firewall from the path).
void socket_probes(const probe::Target& target, const Options& opt, const Reporter& report, Inputs& in,
                   bool capture_later) {
  say(report, "TCP connect to port " + std::to_string(target.port));
  in.connect = probe::tcp_connect(target, opt.timing);
  if (report.connect && !(capture_later && !passed(in.connect->outcome))) report.connect(*in.connect);
  if (opt.tls && opt.port80 && target.port != 80) {
    say(report, "HTTP on port 80");
    auto h = probe::http_get(port80(target), target.host, opt.timing);
    if (report.http) report.http(h);
  }
}

// One diagnose run, phase by phase: the first probes, the ladders, the
// re-tests of a silent drop, the hop lines.  Every phase reads and extends `in`.
class Run {
 public:
  Run(const probe::Target& target, const Options& opt, Passive& passive, const Reporter& report, Inputs& in)
      : target_(target),
        opt_(opt),
        passive_(passive),
        report_(report),
        in_(in),
        name_(opt.sni.empty() ? target.host : opt.sni) {
    in_.target = target;
    in_.trigger_kind = opt.tls ? Trigger::sni : Trigger::host;
    in_.trigger_name = name_;
  }

  // TCP connect and the port-80 HTTP probe (unless `early` ran them while the capture loaded),
  // then TLS or HTTP with the name; true when the request passed.
  bool first_probes(bool early) {
    if (!early) {
      socket_probes(target_, opt_, report_, in_, false);
    } else if (!passed(in_.connect->outcome)) {  // it failed before the capture was attached
      // A refusal once more where the capture sees its RST, if a connection is left (else, and for
      // a timeout, whose repeat would only wait again, the first answer stands).
      if (in_.connect->outcome == probe::Outcome::refused && passive_.capturing() && left() > 0 &&
          !(opt_.stop && opt_.stop())) {
        say("TCP connect to port " + std::to_string(target_.port) + " again, with the capture attached");
        in_.connect = probe::tcp_connect(target_, opt_.timing);
      }
      if (report_.connect) report_.connect(*in_.connect);
    }
    bool ok = passed(in_.connect->outcome);
    if (ok) ok = opt_.tls ? tls_request() : http_request();
    passive_.pump();
    return ok;
  }

  // The SYN ladders and (after a handshake) the trigger and control ladders.  All at once when
  // the budget holds every ladder's full height, each at its share of the rate: their waits (a
  // silent step's grace, an ICMP's linger) overlap.  Else one after the other, the trigger and
  // control ladders at once (each at half the rate) with half of what is left each.
  void ladders() {
    const bool syn80 = opt_.tls && opt_.port80 && target_.port != 80;
    const bool trigger = in_.connect && passed(in_.connect->outcome) && !payload_.empty();
    const int n = 1 + (syn80 ? 1 : 0) + (trigger ? 2 : 0);
    if (n > 1 && left() >= n * opt_.ladder.max_hops) {
      all_ladders_at_once(syn80, trigger, n);
      return;
    }
    say("SYN ladder (TTL 1.." + std::to_string(opt_.ladder.max_hops) + ")");
    in_.syn = probe::syn_ladder(target_, ladder_opts());
    report_syn_hops("syn", in_.syn);
    if (syn80) {
      say("SYN ladder to port 80");
      in_.syn80 = probe::syn_ladder(port80(target_), ladder_opts());
      report_syn_hops("syn80", in_.syn80);
    }
    if (!trigger) return;
    say_trigger_ladders();
    probe::LadderOptions lo = ladder_opts();
    lo.max_hops = std::max(0, std::min(lo.max_hops, left() / 2));
    lo.min_gap_ms *= 2;
    auto ctl = std::async(std::launch::async, [&] { return probe::trigger_ladder(target_, control_, lo); });
    in_.trigger = probe::trigger_ladder(target_, payload_, lo);
    in_.control = ctl.get();
  }

  // A silent drop is placed where the trigger's ICMP answers stop; routers rate-limit ICMP per
  // destination, so an answer missing at the next TTL may just have been suppressed.  Re-test
  // that TTL alone after the limiter refilled (about one answer per second), a few times.
  void retest_drops() {
    for (int retest = 0; retest < 3 && !in_.trigger.empty(); retest++) {
      passive_.snapshot(in_);
      Verdict v = fuse(in_);
      if (v.outcome != RequestOutcome::drop || !v.hop || (v.endpoint_hop && *v.hop + 1 >= *v.endpoint_hop) ||
          left() <= 0)
        return;
      if (!retest_ttl(*v.hop + 1)) return;
    }
  }

  // A silent step whose probe drew ICMP time-exceeded is that hop's answer, not silence.
  const char* trigger_hop_result(const probe::TriggerStep& s) const {
    if (s.kind == probe::TriggerStep::silent && passive_.time_exceeded(s.local_port)) return "time_exceeded";
    return probe::trigger_kind_name(s.kind);
  }

  void report_trigger_hops() {
    if (!report_.hop) return;
    for (const auto* ladder : {&in_.trigger, &in_.control})
      for (const auto& s : *ladder)
        report_.hop(ladder == &in_.trigger ? "trigger" : "control", s.ttl, trigger_hop_result(s),
                    passive_.icmp_from(s.local_port), s.ms, s.duration_ms);
  }

 private:
  void say(const std::string& m) const { diagnose::say(report_, m); }
  std::string trigger_ladders_text() const {
    return "trigger and control ladders with " + std::string(opt_.tls ? "SNI " : "Host ") + name_ + " and " +
           opt_.control_sni;
  }
  void say_trigger_ladders() const { say(trigger_ladders_text()); }
  // Every ladder on a thread of its own (the budget has room for all of them, checked by the caller).
  void all_ladders_at_once(bool syn80, bool trigger, int n) {
    std::string what = "SYN ladder (TTL 1.." + std::to_string(opt_.ladder.max_hops) + ")";
    if (syn80) what += ", SYN ladder to port 80";
    if (trigger) what += ", " + trigger_ladders_text();
    say(what + ", all at once");
    probe::LadderOptions lo = ladder_opts();
    lo.min_gap_ms *= n;
    std::future<std::vector<probe::SynStep>> s80;
    std::future<std::vector<probe::TriggerStep>> ctl, trig;
    if (syn80) s80 = std::async(std::launch::async, [&] { return probe::syn_ladder(port80(target_), lo); });
    if (trigger) {
      ctl = std::async(std::launch::async, [&] { return probe::trigger_ladder(target_, control_, lo); });
      trig = std::async(std::launch::async, [&] { return probe::trigger_ladder(target_, payload_, lo); });
    }
    in_.syn = probe::syn_ladder(target_, lo);
    if (syn80) in_.syn80 = s80.get();
    if (trigger) {
      in_.trigger = trig.get();
      in_.control = ctl.get();
    }
    report_syn_hops("syn", in_.syn);
    if (syn80) report_syn_hops("syn80", in_.syn80);
  }
  void report_syn_hops(const char* ladder, const std::vector<probe::SynStep>& steps) const {
    if (!report_.hop) return;
    for (const auto& s : steps) report_.hop(ladder, s.ttl, probe::syn_kind_name(s.kind), s.from, s.ms, s.duration_ms);
  }
  bool tls_request() {
    say("TLS handshake with SNI " + name_);
    probe::Timing held = opt_.timing;
    held.hold_ms = opt_.hold_ms;
    in_.tls = probe::tls_probe(target_, name_, held);
    if (report_.tls) report_.tls(*in_.tls);
    if (auto hello = probe::client_hello(name_)) payload_ = hello.value();
    if (auto ctl = probe::client_hello(opt_.control_sni)) control_ = ctl.value();
    return passed(in_.tls->outcome);
  }
  bool http_request() {
    say("HTTP request with Host " + name_);
    in_.http = probe::http_get(target_, name_, opt_.timing);
    if (report_.http) report_.http(*in_.http);
    payload_ = probe::http_request(name_);
    control_ = probe::http_request(opt_.control_sni);
    return passed(in_.http->outcome);
  }
  // Each TTL step is one connection: a ladder tries no more TTLs than the budget has left.  The
  // budget itself (target_.budget, shared by every probe and ladder) is what enforces the limit.
  probe::LadderOptions ladder_opts() const {
    probe::LadderOptions lo = watched(opt_.ladder);
    lo.max_hops = std::max(0, std::min(lo.max_hops, left()));
    return lo;
  }
  // A trigger step ends soon after the capture shows its ICMP time-exceeded, not at its timeout.
  probe::LadderOptions watched(probe::LadderOptions lo) const {
    if (passive_.capturing()) lo.time_exceeded = [&p = passive_](uint16_t port) { return p.saw_time_exceeded(port); };
    return lo;
  }
  int left() const { return target_.budget ? target_.budget->left() : opt_.ladder.max_hops; }
  // One trigger step at `ttl` after a pause; false when there is nothing more to learn.
  bool retest_ttl(int ttl) {
    say("re-testing TTL " + std::to_string(ttl) + " after a pause (ICMP rate limits)");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    probe::LadderOptions one = watched(opt_.ladder);
    one.min_ttl = one.max_hops = ttl;
    auto step = probe::trigger_ladder(target_, payload_, one);
    passive_.pump();
    if (step.empty()) return false;
    std::erase_if(in_.trigger, [&](const probe::TriggerStep& s) { return s.ttl == ttl; });
    in_.trigger.push_back(step.front());
    passive_.snapshot(in_);
    return passive_.icmp_from(step.front().local_port).has_value();  // still silent: the drop is at hop ttl-1
  }

  const probe::Target& target_;
  const Options& opt_;
  Passive& passive_;
  const Reporter& report_;
  Inputs& in_;
  const std::string name_;
  std::vector<uint8_t> payload_, control_;
};

}  // namespace

Session::Session(const probe::Target& target, Options opt, Reporter report)
    : target_(target), opt_(std::move(opt)), report_(std::move(report)) {
  target_.budget = std::make_shared<probe::Budget>(opt_.budget, opt_.rate, opt_.stop);
}

void Session::socket_probes() {
  if (early_) return;
  early_ = true;
  diagnose::socket_probes(target_, opt_, report_, early_inputs_, true);
  if (opt_.tls) probe::warm_up_tls();
}

Outcome Session::run(EventSource* capture, const oui::Registry* registry, pipeline::Pipeline& pipe) {
  const probe::Target& target = target_;
  const Options& opt = opt_;
  auto stopped = [&opt] { return opt.stop && opt.stop(); };
  Passive passive(target, capture, registry, pipe);
  Outcome out;
  out.inputs = early_inputs_;
  Run r(target, opt, passive, report_, out.inputs);
  bool primary_ok = r.first_probes(early_);
  if (!stopped() && (!primary_ok || opt.always_ladder)) r.ladders();
  if (!stopped()) r.retest_drops();
  out.rsts_missing = passive.finish(out.inputs);
  r.report_trigger_hops();
  out.verdict = fuse(out.inputs);
  out.connections = target.budget->total() - target.budget->left();
  if (target.budget->refused()) {
    out.budget_spent = true;
    out.verdict.summary += " (stopped early: the budget of " + std::to_string(opt.budget) + " connections was spent; " +
                           opt.budget_option + " raises it)";
  }
  if (stopped()) {
    out.partial = true;
    out.verdict.summary = "partial (interrupted before the probes finished): " + out.verdict.summary;
  }
  out.capture_error = passive.error();
  out.reset_records = passive.take_records();
  return out;
}

Outcome run(const probe::Target& target, const Options& opt, EventSource* capture, const oui::Registry* registry,
            pipeline::Pipeline& pipe, const Reporter& report) {
  return Session(target, opt, report).run(capture, registry, pipe);
}

}  // namespace rsthop::diagnose
