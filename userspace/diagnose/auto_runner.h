// `trace --auto-diagnose`: the trace's resets and flows go to an AutoTrigger;
// when it fires, one diagnose::Session probes that destination on a worker
// thread, and its verdict line comes back to the trace's stream.
//
// Threads: every public call but the worker's own is made by the ring consumer
// (trace's loop), and none of them waits for the worker: tee() and
// take_lines() hold one short lock.  The worker reads the trace's capture
// through tee(): the consumer copies the packets to or from the destination
// under diagnosis into a bounded queue (the rest of the run sees them as
// always), which the session drains as its EventSource; nothing is attached twice.
// The session judges them in a pipeline of its own (pipeline_options(), no
// lines), as `diagnose` does.  stop() ends a running diagnose early (its
// verdict, marked partial, still comes) and waits for it.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "diagnose/auto_trigger.h"
#include "diagnose/lines.h"
#include "diagnose/session.h"
#include "output/event.h"

namespace rsthop::diagnose {

class AutoRunner {
 public:
  struct Config {
    AutoTrigger::Options trigger;
    Options session;  // timing and ladders; budget, rate and stop are set per run
    const oui::Registry* registry = nullptr;
    bool local_events = false;
    std::function<bool(const uint8_t*, uint8_t)> route_traced;  // may be empty
    output::Context ctx;                                        // the verdict lines' (set_clock follows trace's)
    size_t max_queued = 65536;  // packets waiting for the worker; more are dropped and counted
  };
  explicit AutoRunner(Config c);
  ~AutoRunner();
  AutoRunner(const AutoRunner&) = delete;
  AutoRunner& operator=(const AutoRunner&) = delete;

  void tee(const flow::Packet& p);
  void on_reset(const flow::ResetRecord& r, const attribution::Verdict& v, uint64_t now);
  void on_flow(const flow::FlowSummary& f, uint64_t now);
  // The verdict lines finished since the last call (joins a finished worker).
  std::vector<std::string> take_lines(uint64_t now);
  void set_clock(const WallClock& c) { cfg_.ctx.clock = c; }
  void stop();

  const AutoTrigger::Counters& counters() const { return trigger_.counters(); }
  uint64_t queue_dropped() const { return dropped_.load(); }

 private:
  struct Done {
    probe::Target target;
    std::string name;
    Verdict verdict;
    AutoDiagnoseInfo info;
    uint64_t at = 0;
  };
  void start(const AutoStart& s);
  void work(const AutoStart& s);
  Result<void> drain(const std::function<void(const flow::Packet&)>& h);
  bool concerns(const rh_event& e) const;

  Config cfg_;
  AutoTrigger trigger_;
  std::thread worker_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> active_{false};  // tee() copies packets only while a diagnose runs
  Addr16 target_{};                  // written before active_ is set
  std::mutex mu_;                    // guards queue_ and done_
  std::deque<flow::Packet> queue_;
  std::vector<Done> done_;
  bool finished_ = false;  // the worker's run ended (under mu_)
  std::atomic<uint64_t> dropped_{0};
  class Source;
};

}  // namespace rsthop::diagnose
