// The `incident` line (trace/analyze --incidents): many resets of one kind to
// one destination in one interval, as one line.  Kept apart from event.cpp's
// per-packet builders: an incident is an aggregate, built from a plain struct
// the pipeline's IncidentAggregator fills.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attribution/verdict.h"
#include "output/event.h"

namespace rsthop::output {

struct Incident {
  uint8_t family = 4;
  std::array<uint8_t, 16> ip{};  // destination.ip: the responder the connections were opened to (ABI form)
  uint16_t port = 0;             // destination.port
  attribution::Origin origin = attribution::Origin::unknown;
  std::optional<int> hop;   // the RST sender's hop, when the verdicts gave one
  std::string fingerprint;  // attribution::Fingerprint::id shared by every reset counted here
  uint64_t count = 0;       // reset records (connections, or bursts within one) in the interval
  uint64_t rsts = 0;        // RST packets behind them
  double confidence_max = 0;
  uint64_t first_ns = 0, last_ns = 0;      // CLOCK_MONOTONIC of the first and last reset counted
  std::vector<std::string> community_ids;  // of the first few flows (kIncidentCommunityIds), to join their lines
  std::vector<std::string> server_names;   // distinct TLS SNIs seen, first few
};

inline constexpr size_t kIncidentCommunityIds = 4;
inline constexpr size_t kIncidentServerNames = 4;

// "42 connections to 198.18.1.5:443 reset by a middlebox at hop 3, fingerprint n1/R/win0/...".
std::string incident_summary(const Incident& inc);
// rsthop.event_type "incident" (event.kind event, category network, type info,
// action tcp-reset-incident); event.start / event.end: the first and last reset; @timestamp is the end of the interval
// (`now_mono_ns`).
void append_incident_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, const Incident& inc,
                          double interval_s);
nlohmann::json incident_event(const Context& ctx, uint64_t now_mono_ns, const Incident& inc, double interval_s);

}  // namespace rsthop::output
