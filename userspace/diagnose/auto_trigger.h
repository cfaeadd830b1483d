// When `trace --auto-diagnose` starts a diagnose, and with how many probes:
// pure logic over the trace's own resets and flows, with the clock handed in
// (`now`, CLOCK_MONOTONIC ns), so every rule is unit-testable.
//
// A destination (the responder's address and port of a connection this trace
// saw) is a candidate only after a passive anomaly:
//   * middlebox:    one reset whose verdict names a middlebox (confidence >= min_confidence);
//   * reset_stream: `stream_resets` remote resets of its connections within `stream_window_ns`;
//   * silent_drop:  `drop_flows` of its connections within `drop_window_ns` that ended with no
//                   answer (a SYN never answered, or a request that got no byte back and no RST).
// Resets this host's own stack sent (local_reason) or accepted for a socket it serves are no
// evidence.  A candidate starts a diagnose only when no other runs (one at a time), its
// cool-down is over (`cooldown_ns` after the previous diagnose of it started), and the global
// budget (`global_budget` probes in any `global_window_ns`, all destinations together) still
// holds its whole `budget`.  What a finished run did not spend goes back to the global budget.
// Memory is bounded: at most `max_destinations` tracked, idle ones forgotten first.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "attribution/verdict.h"
#include "common/addr.h"
#include "flow/model.h"

namespace rsthop::diagnose {

// Why a diagnose started (rsthop.auto_diagnose.trigger; JSON values: do not rename).
enum class AutoReason { middlebox, reset_stream, silent_drop };
const char* name(AutoReason r);

struct AutoDestination {
  Addr16 addr{};
  uint8_t family = 4;
  uint16_t port = 0;
  bool operator<(const AutoDestination& o) const {
    return std::tie(addr, family, port) < std::tie(o.addr, o.family, o.port);
  }
};

// A diagnose to start now.
struct AutoStart {
  AutoDestination destination;
  std::string name;  // the SNI or HTTP Host its connections carried ("" = none seen)
  AutoReason reason = AutoReason::middlebox;
  std::vector<std::string> trigger_community_ids;  // the connections that made it fire, oldest first
  int budget = 0;                                  // probes (connections) it may open
};

class AutoTrigger {
 public:
  struct Options {
    int budget = 32;          // --auto-diagnose-budget: probes per diagnose of one destination
    int global_budget = 256;  // --auto-diagnose-global-budget: probes in any global window
    uint64_t global_window_ns = 3600'000'000'000ULL;
    uint64_t cooldown_ns = 600'000'000'000ULL;  // --auto-diagnose-cooldown
    double min_confidence = 0.5;                // a middlebox verdict at least this sure fires at once
    int stream_resets = 5;
    uint64_t stream_window_ns = 10'000'000'000ULL;
    int drop_flows = 3;
    uint64_t drop_window_ns = 60'000'000'000ULL;
    size_t max_destinations = 4096;
    size_t max_trigger_ids = 16;
  };
  // Why candidates did not start (for the final notice and the tests).
  struct Counters {
    uint64_t started = 0, busy = 0, cooldown = 0, global_budget = 0, untracked = 0;
  };

  explicit AutoTrigger(Options o) : opt_(o) {}

  // `community_id` is the reset line's network.community_id.
  std::optional<AutoStart> on_reset(const flow::ResetRecord& r, const attribution::Verdict& v,
                                    const std::string& community_id, uint64_t now);
  std::optional<AutoStart> on_flow(const flow::FlowSummary& f, const std::string& community_id, uint64_t now);
  // The running diagnose ended after opening `spent` connections.
  void finished(int spent, uint64_t now);

  bool busy() const { return busy_; }
  const Counters& counters() const { return counters_; }
  // Probes the global budget still holds at `now`.
  int global_left(uint64_t now);

 private:
  struct Seen {
    std::deque<uint64_t> resets, drops;  // times, within their windows
    std::deque<std::string> ids;         // community ids of recent evidence, newest last
    std::string name;
    std::optional<uint64_t> last_start;
    uint64_t last_seen = 0;
  };
  Seen* track(const AutoDestination& d, uint64_t now);
  std::optional<AutoStart> consider(const AutoDestination& d, Seen& s, AutoReason why, uint64_t now);
  void remember(Seen& s, const std::string& community_id, const std::string& name, uint64_t now);

  Options opt_;
  std::map<AutoDestination, Seen> seen_;
  struct Grant {
    uint64_t at;
    int probes;
  };
  std::deque<Grant> grants_;  // within the global window
  bool busy_ = false;
  Counters counters_;
};

// The responder of a reset's connection, when known: what a diagnose would probe.
std::optional<AutoDestination> responder_of(const flow::ResetRecord& r);

}  // namespace rsthop::diagnose
