// A diagnose session: runs the probes against one target while the kernel
// capture (when it could be started) records what they provoke, and fuses
// both into one verdict.  The capture is reached through EventSource, so
// the session does not depend on libbpf; its packets go through the
// caller's pipeline::Pipeline (built from pipeline_options()), which judges
// the resets and reports the capture's losses as every command does.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/result.h"
#include "diagnose/fusion.h"
#include "flow/model.h"
#include "oui/oui.h"
#include "pipeline/pipeline.h"
#include "probe/probe.h"

namespace rsthop::diagnose {

// What the kernel capture offers the session.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Hands over every event queued so far; an error means the ring could not be read.
  virtual Result<void> drain(const std::function<void(const flow::Packet&)>& h) = 0;
  virtual std::optional<rh_flow_state> lookup(const rh_flow_key& k) = 0;
  virtual bool local_events() const = 0;
  // Whether the route to `addr` leaves through a captured interface (see
  // attribution::Engine::Options::route_traced); false when unknown.
  virtual bool route_traced(const uint8_t* /*addr*/, uint8_t /*family*/) const { return false; }
};

struct Options {
  std::string sni;  // default: the host name
  std::string control_sni = "rsthop-control.invalid";
  bool tls = true;       // TLS target (else HTTP)
  probe::Timing timing;  // per probe
  int hold_ms = 4000;    // keep the TLS connection open this long to catch delayed resets
  probe::LadderOptions ladder;
  bool always_ladder = false;  // run the ladders even when the probes pass
  bool port80 = true;          // a TLS target's port 80 too (HTTP probe, SYN ladder); trace --auto-diagnose: no
  int budget = 200;            // connections opened to the target, all probes and ladders together
  double rate = 200;           // new connections per second at most, all together (probe::Budget)
  std::string budget_option = "--budget";  // what the verdict names to raise the budget
  // Asked between phases and before every connection; true (a SIGINT) ends the run early with a
  // verdict from what is known so far, marked partial.
  std::function<bool()> stop;
};

// What the session reports as it goes; any of them may be empty.
struct Reporter {
  std::function<void(const std::string& message)> progress;
  std::function<void(const probe::ConnectResult&)> connect;
  std::function<void(const probe::HttpResult&)> http;
  std::function<void(const probe::TlsResult&)> tls;
  // One TTL of a ladder ("syn", "syn80", "trigger", "control"); `from` is who answered
  // (the ICMP's source, or the target), when known; `duration_ms` the whole step.
  std::function<void(const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from, double ms,
                     double duration_ms)>
      hop;
};

// The pipeline a session needs: resets in short bursts, judged with the
// capture's local events, a tick at every look at the capture (the session
// reads its resets between probes), and no flow or reset lines (the verdict
// line carries what they showed).
pipeline::Pipeline::Options pipeline_options(bool local_events, const oui::Registry* registry);

// How long a session waits at most, before the verdict, for the capture's RSTs of the ladder
// steps the sockets saw reset (see await_records.h).
inline constexpr int kRstWaitMs = 200;

// Runs everything and returns the fused inputs (for the verdict line) and the verdict.
struct Outcome {
  Inputs inputs;
  Verdict verdict;
  std::optional<Error> capture_error;  // the first failed drain: the verdict may miss evidence
  bool budget_spent = false;           // a probe or ladder step was not sent: the verdict says so
  int connections = 0;                 // connections the run opened (the budget's units taken)
  bool partial = false;                // `stop` ended the run early
  // Ladder steps the sockets saw reset whose RST the capture never showed (after waiting
  // kRstWaitMs for them): the verdict misses what those RSTs would have told.
  size_t rsts_missing = 0;
  // The capture's reset records behind inputs.resets (not this host's own RSTs: the probes abort
  // their sockets), whole as the pipeline judged them: what --pcap-out writes as the evidence.
  std::vector<flow::ResetRecord> reset_records;
};
// `pipe` takes the capture's packets (its hooks are the session's while it runs).
Outcome run(const probe::Target& target, const Options& opt, EventSource* capture, const oui::Registry* registry,
            pipeline::Pipeline& pipe, const Reporter& report);

// The same run in two parts, for a caller that loads the capture meanwhile (cli/diagnose.cpp):
// socket_probes() may run before the capture is attached, run() needs it attached (or absent).
class Session {
 public:
  Session(const probe::Target& target, Options opt, Reporter report);
  // The TCP connect and, for a TLS target, HTTP on port 80: their results come from the sockets,
  // so they need no capture.  A failed connect is reported by run(), which first repeats a refused
  // one with the capture attached (the refusal's RST tells a local firewall from the path).
  void socket_probes();
  // Everything else (and socket_probes(), when not run); `pipe` takes the capture's packets.
  Outcome run(EventSource* capture, const oui::Registry* registry, pipeline::Pipeline& pipe);

 private:
  probe::Target target_;  // with the run's budget
  Options opt_;
  Reporter report_;
  Inputs early_inputs_;
  bool early_ = false;
};

}  // namespace rsthop::diagnose
