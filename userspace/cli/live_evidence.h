// --pcap-out on the live paths (trace, diagnose): the kernel's frame records
// (kernel::FrameRecord, the first RH_FRAME_SNAP_MAX bytes of each packet
// that produced an event) feed a pcap::Evidence keeper, one Interface
// Description Block per hook and interface ("xdp on eth0"), and each reset
// record puts its frames into the file as `rsthop analyze --pcap-out` does.
//
// A frame record follows its event in the ring (same ts, ifindex, hook);
// each gets a running frame number and reset records are written after the
// poll that delivered them (flush()), once their frames are in.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "flow/model.h"
#include "kernel/capture.h"
#include "pcap/evidence.h"

namespace rsthop::cli {

class LiveEvidence {
 public:
  // Creates FILE (fails when it cannot be written).
  static Result<std::unique_ptr<LiveEvidence>> create(const std::string& path, WallClock clock);

  void frame(const kernel::FrameRecord& f);
  // Queued until flush(): its frames may still be in the ring.
  void reset(const flow::ResetRecord& r, std::string label);
  // A diagnose probe's connection, written after the resets (also at flush()).
  void probe(const rh_flow_key& key, std::string label);
  Result<void> flush();
  // Flushes and closes; prints a notice when frames did not fit in memory.
  Result<void> close();

 private:
  LiveEvidence(pcap::Evidence e, WallClock clock, std::string path)
      : ev_(std::move(e)), clock_(clock), path_(std::move(path)) {}
  static uint64_t event_key(uint64_t ts, uint32_t ifindex, uint8_t hook) {
    return ts * 1000003ULL ^ (static_cast<uint64_t>(ifindex) << 8) ^ hook;
  }
  uint64_t frame_of(const rh_event& ev) const;

  pcap::Evidence ev_;
  WallClock clock_;
  std::string path_;
  uint64_t frame_no_ = 0;
  std::map<std::pair<uint32_t, uint8_t>, uint32_t> ifaces_;  // (ifindex, hook) -> IDB
  std::unordered_map<uint64_t, uint64_t> numbers_;           // event_key -> frame number
  std::deque<uint64_t> order_;                               // event_keys, oldest first
  std::vector<std::pair<flow::ResetRecord, std::string>> pending_;
  std::vector<std::pair<rh_flow_key, std::string>> probes_;
  Result<void> status_;
};

}  // namespace rsthop::cli
