// The lines `rsthop diagnose` writes besides the pipeline's: one `probe` line
// per probe, one `hop` line per TTL of a ladder, then the `verdict`.  Built
// on output's event parts, like every other builder; each is handed its
// time (`now_mono_ns`, CLOCK_MONOTONIC) rather than reading a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diagnose/auto_trigger.h"
#include "diagnose/fusion.h"
#include "output/event.h"
#include "probe/probe.h"

namespace rsthop::diagnose {

void append_connect_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns,
                               const probe::Target& t, const probe::ConnectResult& r);
void append_http_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                            uint16_t port, const std::string& host, const probe::HttpResult& r);
void append_tls_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                           const std::string& sni, const probe::TlsResult& r);
void append_hop_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                     const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from, double ms,
                     std::optional<double> duration_ms = std::nullopt);
// What a verdict of `trace --auto-diagnose` adds: rsthop.auto_diagnose, and the first
// triggering connection's id as network.community_id (the join with its reset lines).
struct AutoDiagnoseInfo {
  AutoReason reason = AutoReason::middlebox;
  std::vector<std::string> trigger_community_ids;
  int budget = 0;  // connections it could open
  int probes = 0;  // connections it opened
};
void append_verdict_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                         const std::string& name, const Verdict& v, const AutoDiagnoseInfo* auto_info = nullptr);

}  // namespace rsthop::diagnose
