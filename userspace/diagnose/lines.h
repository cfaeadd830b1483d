// The lines `rsthop diagnose` writes besides the pipeline's: one `probe` line
// per probe, one `hop` line per TTL of a ladder, then the `verdict`.  Built
// on output's event parts, like every other builder; each is handed its
// time (`now_mono_ns`, CLOCK_MONOTONIC) rather than reading a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
void append_verdict_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                         const std::string& name, const Verdict& v);

}  // namespace rsthop::diagnose
