// The lines `rsthop diagnose` writes: one `probe` line per probe, one `hop`
// line per TTL of a ladder, then the `verdict`.
#pragma once

#include <optional>
#include <string>

#include "output/event.h"
#include "diagnose/fusion.h"
#include "probe/probe.h"

namespace rsthop::output {

void append_connect_probe_line(std::string& out, const Context& ctx, const probe::Target& t,
                               const probe::ConnectResult& r);
void append_http_probe_line(std::string& out, const Context& ctx, const probe::Target& t, uint16_t port,
                            const std::string& host, const probe::HttpResult& r);
void append_tls_probe_line(std::string& out, const Context& ctx, const probe::Target& t, const std::string& sni,
                           const probe::TlsResult& r);
void append_hop_line(std::string& out, const Context& ctx, const probe::Target& t, const char* ladder, int ttl,
                     const char* result, const std::optional<Addr16>& from, double ms);
void append_verdict_line(std::string& out, const Context& ctx, const probe::Target& t, const std::string& name,
                         const diagnose::Verdict& v);

}  // namespace rsthop::output
