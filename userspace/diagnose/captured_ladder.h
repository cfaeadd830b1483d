// Ladders found in a capture: the same fusion `rsthop diagnose` runs on its
// live probes, fed from packets instead (`rsthop analyze`).  Pure logic over
// flow::Packets (the pipeline's on_packet hook) and judged resets (its
// on_reset hook); no files, no sockets.
//
// What counts as a ladder, per destination (server address and port):
//  * a trigger / control step is a connection whose handshake went out at
//    the full TTL (its SYN's) and whose first request (a ClientHello or an
//    HTTP request) went out with a lower TTL k; the step is TTL k.  The SNI or
//    Host names the ladder; retransmissions stay in their connection (one
//    step), and of two connections with the same k the first request wins.
//    With a control file, its first ladder towards the destination is the
//    control.
//  * a SYN-ladder step is a connection without a request whose SYN went out
//    below the highest SYN TTL seen towards that server.
//  * the application probe is a full-TTL connection whose request names the
//    trigger; the connect probe a full-TTL connection without a request.
// A destination has a ladder when it has trigger steps; only
// those produce hop and verdict lines, so a capture without ladders is
// analysed as before.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "attribution/verdict.h"
#include "diagnose/fusion.h"
#include "flow/model.h"
#include "oui/oui.h"

namespace rsthop::diagnose {

// One `hop` line, as diagnose's Reporter::hop gets it.
struct HopSeen {
  const char* ladder = "";  // "syn" | "trigger" | "control"
  int ttl = 0;
  const char* result = "";  // the SynStep / TriggerStep kind name
  std::optional<Addr16> from;
  double ms = 0;
  uint64_t ts_ns = 0;  // capture time of the step's probe (its SYN, or its request)
};

// One destination's ladders, ready for fuse() and the lines.
struct CapturedLadder {
  Inputs inputs;
  std::string name;    // the trigger's SNI / Host (the verdict line's name)
  uint64_t ts_ns = 0;  // capture time of the ladders' last request (the verdict line's time)
  std::vector<HopSeen> hops;
};

class LadderRecogniser {
 public:
  struct Options {
    std::string control_name = "rsthop-control.invalid";  // diagnose's default control SNI / Host
    const oui::Registry* registry = nullptr;              // gateway vendor; may be null
  };
  explicit LadderRecogniser(Options o) : opt_(std::move(o)) {}

  // Every packet of the capture, in time order; `control` for the --control file's.
  void add(const flow::Packet& p, bool control = false);
  // Each reset with the engine's verdict (only the server side's count: the client's are its probes' aborts).
  void add_reset(const flow::ResetRecord& r, const attribution::Verdict& v, bool control = false);

  // One entry per destination with a trigger ladder, by address then port.
  std::vector<CapturedLadder> ladders() const;

  // A connection as the capture showed it (public for the implementation's helpers).
  struct Conn {
    bool control = false;
    uint8_t family = 4;
    Addr16 client{}, server{};
    uint16_t cport = 0, sport = 0;
    uint64_t order = 0;  // arrival of its SYN
    uint8_t syn_ttl = 0;
    uint64_t syn_ns = 0;
    std::optional<uint8_t> req_ttl;  // the client's first payload
    uint64_t req_ns = 0;
    std::string name;
    bool name_is_host = false;
    enum Answer { none, synack, refused, reset, data, fin } answer = none;  // the server's first after the SYN
    uint64_t answer_ns = 0;
    bool reset_after_req = false, response_after_req = false;
    uint64_t later_rst_ns = 0;  // the server side's first RST after its answer (a proxy's timer)
    uint64_t req_answer_ns = 0;
    std::optional<Addr16> icmp_from;
    uint8_t icmp_type = 0, icmp_code = 0;
    uint64_t icmp_ns = 0;
    std::optional<std::array<uint8_t, 6>> server_mac;
  };

 private:
  using Tuple = std::tuple<bool, Addr16, uint16_t, Addr16, uint16_t>;  // control, client, cport, server, sport
  Conn* find(bool control, const uint8_t* client, uint16_t cport, const uint8_t* server, uint16_t sport);

  Options opt_;
  std::map<Tuple, Conn> conns_;
  struct Reset {
    Addr16 server{};
    uint16_t sport = 0;
    ResetSeen seen;
  };
  std::vector<Reset> resets_;  // the main files' resets the servers' side sent
  uint64_t order_ = 0;
};

}  // namespace rsthop::diagnose
