// A diagnose session: runs the probes against one target while the kernel
// capture (when it could be started) records what they provoke, and fuses
// both into one verdict.  The capture is reached through EventSource, so
// the session does not depend on libbpf.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "diagnose/fusion.h"
#include "flow/model.h"
#include "oui/oui.h"
#include "probe/probe.h"

namespace rsthop::diagnose {

// What the kernel capture offers the session.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Hands over every event queued so far.
  virtual void drain(const std::function<void(const flow::Packet&)>& h) = 0;
  virtual std::optional<rh_flow_state> lookup(const rh_flow_key& k) = 0;
  virtual bool local_events() const = 0;
  // Whether the route to `addr` leaves through a captured interface (see
  // attribution::Engine::Options::route_traced); false when unknown.
  virtual bool route_traced(const uint8_t* /*addr*/, uint8_t /*family*/) const { return false; }
};

struct Options {
  std::string sni;                  // default: the host name
  std::string control_sni = "rsthop-control.invalid";
  bool tls = true;                  // TLS target (else HTTP)
  probe::Timing timing;             // per probe
  int hold_ms = 4000;               // keep the TLS connection open this long to catch delayed resets
  probe::LadderOptions ladder;
  bool always_ladder = false;       // run the ladders even when the probes pass
  int budget = 200;                 // connections opened to the target, all probes together
};

// What the session reports as it goes; any of them may be empty.
struct Reporter {
  std::function<void(const std::string& message)> progress;
  std::function<void(const probe::ConnectResult&)> connect;
  std::function<void(const probe::HttpResult&)> http;
  std::function<void(const probe::TlsResult&)> tls;
  // One TTL of a ladder ("syn", "trigger", "control"); `from` is who answered
  // (the ICMP's source, or the target), when known.
  std::function<void(const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from, double ms)>
      hop;
};

// Runs everything and returns the fused inputs (for the verdict line) and the verdict.
struct Outcome {
  Inputs inputs;
  Verdict verdict;
};
Outcome run(const probe::Target& target, const Options& opt, EventSource* capture, const oui::Registry* registry,
            const Reporter& report);

}  // namespace rsthop::diagnose
