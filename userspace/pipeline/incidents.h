// The aggregate mode (--incidents SEC): resets grouped per destination (the
// responder the connections were opened to) and, within it, per kind of
// reset (origin, hop, injector fingerprint), handed out as one
// output::Incident per group per interval instead of one reset line each.
//
// State is bounded: at most `max_destinations` destinations and
// `max_groups_per_destination` groups each per interval; a reset that fits
// neither is not dropped silently but counted in overflow(), which the
// pipeline reports as a `lost` line (cause "incident_overflow").  So at most
// max_destinations * max_groups_per_destination incident lines per interval:
// that is the per-destination rate limit.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "attribution/verdict.h"
#include "flow/model.h"
#include "output/incident_line.h"

namespace rsthop::pipeline {

class IncidentAggregator {
 public:
  struct Options {
    uint64_t interval_ns = 10'000'000'000ULL;
    size_t max_destinations = 1024;
    size_t max_groups_per_destination = 4;
  };

  explicit IncidentAggregator(Options opt) : opt_(opt) {}

  // Counts one reset record with its verdict; false when the tables were full
  // (the reset is counted in overflow() instead).
  bool add(const flow::ResetRecord& r, const attribution::Verdict& v);
  // The incidents gathered since the previous take(), in destination order;
  // the tables start empty again.
  std::vector<output::Incident> take();
  bool empty() const { return dests_.empty(); }

  uint64_t overflow() const { return overflow_; }  // since start
  const Options& options() const { return opt_; }

 private:
  struct DestKey {
    std::array<uint8_t, 16> ip;
    uint16_t port;
    bool operator<(const DestKey& o) const { return std::tie(ip, port) < std::tie(o.ip, o.port); }
  };
  // origin, hop (-1: none), fingerprint
  using GroupKey = std::tuple<int, int, std::string>;
  struct Dest {
    std::map<GroupKey, output::Incident> groups;
  };

  Options opt_;
  std::map<DestKey, Dest> dests_;
  uint64_t overflow_ = 0;
};

// The responder of the reset flow (the destination its connection was opened
// to): ip, port and family.  When the initiator is unknown, the RST's sender.
struct Destination {
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  uint8_t family = 4;
};
Destination reset_destination(const flow::ResetRecord& r);

}  // namespace rsthop::pipeline
