#include "diagnose/auto_runner.h"

#include <cstring>
#include <utility>

#include "common/clock.h"
#include "diagnose/lines.h"
#include "output/community_id.h"

namespace rsthop::diagnose {

// The trace's capture as the session sees it: the packets tee() queued.
class AutoRunner::Source : public EventSource {
 public:
  explicit Source(AutoRunner& r) : r_(r) {}
  Result<void> drain(const std::function<void(const flow::Packet&)>& h) override { return r_.drain(h); }
  // The trace's flow map belongs to the trace's timeline; the session's judges without it.
  std::optional<rh_flow_state> lookup(const rh_flow_key&) override { return std::nullopt; }
  bool local_events() const override { return r_.cfg_.local_events; }
  bool route_traced(const uint8_t* addr, uint8_t family) const override {
    return r_.cfg_.route_traced && r_.cfg_.route_traced(addr, family);
  }

 private:
  AutoRunner& r_;
};

AutoRunner::AutoRunner(Config c) : cfg_(std::move(c)), trigger_(cfg_.trigger) {}

AutoRunner::~AutoRunner() { stop(); }

bool AutoRunner::concerns(const rh_event& e) const {
  if (std::memcmp(e.saddr, target_.data(), 16) == 0 || std::memcmp(e.daddr, target_.data(), 16) == 0) return true;
  return e.kind == RH_EV_ICMP && std::memcmp(e.inner_daddr, target_.data(), 16) == 0;
}

void AutoRunner::tee(const flow::Packet& p) {
  if (!active_.load(std::memory_order_acquire) || !concerns(p.ev)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= cfg_.max_queued) {
    dropped_++;
    return;
  }
  queue_.push_back(p);
}

Result<void> AutoRunner::drain(const std::function<void(const flow::Packet&)>& h) {
  std::deque<flow::Packet> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (const auto& p : batch) h(p);
  return {};
}

void AutoRunner::on_reset(const flow::ResetRecord& r, const attribution::Verdict& v, uint64_t now) {
  const rh_event& e = r.first.ev;
  const std::string id =
      output::community_id_v1(e.family, e.saddr, e.daddr, e.sport, e.dport, 6, cfg_.ctx.community_id_seed);
  if (auto s = trigger_.on_reset(r, v, id, now)) start(*s);
}

void AutoRunner::on_flow(const flow::FlowSummary& f, uint64_t now) {
  const std::string id = output::community_id_v1(f.family, f.source.ip.data(), f.destination.ip.data(), f.source.port,
                                                 f.destination.port, 6, cfg_.ctx.community_id_seed);
  if (auto s = trigger_.on_flow(f, id, now)) start(*s);
}

void AutoRunner::start(const AutoStart& s) {
  if (stop_) {  // the trace is ending: nothing new
    trigger_.finished(0, monotonic_now_ns());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    finished_ = false;
  }
  target_ = s.destination.addr;
  active_.store(true, std::memory_order_release);
  worker_ = std::thread([this, s] { work(s); });
}

void AutoRunner::work(const AutoStart& s) {
  probe::Target t;
  t.addr = s.destination.addr;
  t.family = s.destination.family;
  t.port = s.destination.port;
  t.host = s.name.empty() ? addr_to_string(t.addr.data()) : s.name;
  Options o = cfg_.session;
  o.sni = s.name;
  o.tls = t.port != 80;
  o.port80 = false;  // only the destination the resets named
  o.budget = s.budget;
  o.stop = [this] { return stop_.load(); };
  o.budget_option = "--auto-diagnose-budget";
  auto po = pipeline_options(cfg_.local_events, cfg_.registry);
  po.engine.route_traced = cfg_.route_traced;
  po.loss_lines = false;
  pipeline::Pipeline pipe(po, nullptr, cfg_.ctx);
  Source source(*this);
  Outcome out = Session(t, o, {}).run(&source, cfg_.registry, pipe);
  active_.store(false, std::memory_order_release);
  Done d{t, t.host, out.verdict, {s.reason, s.trigger_community_ids, s.budget, out.connections}, monotonic_now_ns()};
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  done_.push_back(std::move(d));
  finished_ = true;
}

std::vector<std::string> AutoRunner::take_lines(uint64_t now) {
  std::vector<Done> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!finished_) return {};
    done.swap(done_);
    finished_ = false;
  }
  if (worker_.joinable()) worker_.join();
  std::vector<std::string> lines;
  for (const auto& d : done) {
    trigger_.finished(d.info.probes, now);
    std::string l;
    append_verdict_line(l, cfg_.ctx, d.at, d.target, d.name, d.verdict, &d.info);
    lines.push_back(std::move(l));
  }
  return lines;
}

void AutoRunner::stop() {
  stop_ = true;
  if (worker_.joinable()) worker_.join();
}

}  // namespace rsthop::diagnose
