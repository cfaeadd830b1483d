#include "diagnose/auto_trigger.h"

#include <algorithm>
#include <cstring>

namespace rsthop::diagnose {
namespace {

void trim(std::deque<uint64_t>& times, uint64_t window, uint64_t now) {
  while (!times.empty() && times.front() + window < now) times.pop_front();
}

// A connection that ended without an answer: a SYN nobody answered, or a request after the
// handshake that got no byte back and no reset (a reset is the other triggers' evidence).
bool silent(const flow::FlowSummary& f) {
  if (f.closed_by == "trace_end" || f.closed_by == "evicted") return false;  // not over yet
  if (f.conn_state == "S0") return true;
  const bool reset = f.history.find_first_of("rR") != std::string::npos;
  return f.handshake_seen && f.source.bytes > 0 && f.destination.bytes == 0 && !reset;
}

const std::string& name_of(const flow::AppHint& a) { return a.tls_sni.empty() ? a.http_host : a.tls_sni; }

}  // namespace

const char* name(AutoReason r) {
  switch (r) {
    case AutoReason::middlebox:
      return "middlebox";
    case AutoReason::reset_stream:
      return "reset_stream";
    case AutoReason::silent_drop:
      return "silent_drop";
  }
  return "middlebox";
}

std::optional<AutoDestination> responder_of(const flow::ResetRecord& r) {
  if (r.initiator != RH_SIDE_A && r.initiator != RH_SIDE_B) return std::nullopt;
  const rh_flow_key& k = r.first.ev.key;
  AutoDestination d;
  d.family = k.family;
  std::memcpy(d.addr.data(), r.initiator == RH_SIDE_A ? k.addr_b : k.addr_a, 16);
  d.port = r.initiator == RH_SIDE_A ? k.port_b : k.port_a;
  return d;
}

std::optional<AutoStart> AutoTrigger::on_reset(const flow::ResetRecord& r, const attribution::Verdict& v,
                                               const std::string& community_id, uint64_t now) {
  // This host's own resets (its stack's, our probes' aborts) and its own services are no evidence.
  if (r.local_reason || v.origin == attribution::Origin::local || r.responder_local) return std::nullopt;
  auto d = responder_of(r);
  if (!d) return std::nullopt;
  Seen* s = track(*d, now);
  if (!s) return std::nullopt;
  s->resets.push_back(now);
  trim(s->resets, opt_.stream_window_ns, now);
  remember(*s, community_id, name_of(r.app), now);
  if (v.origin == attribution::Origin::middlebox && v.confidence >= opt_.min_confidence)
    return consider(*d, *s, AutoReason::middlebox, now);
  if (static_cast<int>(s->resets.size()) >= opt_.stream_resets) return consider(*d, *s, AutoReason::reset_stream, now);
  return std::nullopt;
}

std::optional<AutoStart> AutoTrigger::on_flow(const flow::FlowSummary& f, const std::string& community_id,
                                              uint64_t now) {
  if (!silent(f)) return std::nullopt;
  AutoDestination d{f.destination.ip, f.family, f.destination.port};
  Seen* s = track(d, now);
  if (!s) return std::nullopt;
  s->drops.push_back(now);
  trim(s->drops, opt_.drop_window_ns, now);
  remember(*s, community_id, name_of(f.app), now);
  if (static_cast<int>(s->drops.size()) >= opt_.drop_flows) return consider(d, *s, AutoReason::silent_drop, now);
  return std::nullopt;
}

void AutoTrigger::remember(Seen& s, const std::string& community_id, const std::string& name, uint64_t now) {
  s.last_seen = now;
  if (!name.empty()) s.name = name;
  if (community_id.empty()) return;
  if (std::find(s.ids.begin(), s.ids.end(), community_id) != s.ids.end()) return;  // a burst's second RST
  s.ids.push_back(community_id);
  while (s.ids.size() > opt_.max_trigger_ids) s.ids.pop_front();
}

AutoTrigger::Seen* AutoTrigger::track(const AutoDestination& d, uint64_t now) {
  auto it = seen_.find(d);
  if (it != seen_.end()) return &it->second;
  if (seen_.size() >= opt_.max_destinations) {
    // Forget the destinations with no evidence in their windows and no cool-down running.
    const uint64_t idle = std::max(opt_.stream_window_ns, opt_.drop_window_ns);
    std::erase_if(seen_, [&](const auto& e) {
      const Seen& s = e.second;
      return s.last_seen + idle < now && (!s.last_start || *s.last_start + opt_.cooldown_ns <= now);
    });
    if (seen_.size() >= opt_.max_destinations) {
      counters_.untracked++;
      return nullptr;
    }
  }
  return &seen_[d];
}

std::optional<AutoStart> AutoTrigger::consider(const AutoDestination& d, Seen& s, AutoReason why, uint64_t now) {
  if (s.last_start && now < *s.last_start + opt_.cooldown_ns) {
    counters_.cooldown++;
    return std::nullopt;
  }
  if (busy_) {  // the evidence stays: the next reset or flow asks again
    counters_.busy++;
    return std::nullopt;
  }
  if (global_left(now) < opt_.budget) {
    counters_.global_budget++;
    return std::nullopt;
  }
  busy_ = true;
  s.last_start = now;
  grants_.push_back({now, opt_.budget});
  counters_.started++;
  AutoStart start{d, s.name, why, {s.ids.begin(), s.ids.end()}, opt_.budget};
  s.resets.clear();
  s.drops.clear();
  s.ids.clear();
  return start;
}

void AutoTrigger::finished(int spent, uint64_t now) {
  busy_ = false;
  if (!grants_.empty()) grants_.back().probes = std::clamp(spent, 0, grants_.back().probes);
  (void)global_left(now);
}

int AutoTrigger::global_left(uint64_t now) {
  while (!grants_.empty() && grants_.front().at + opt_.global_window_ns <= now) grants_.pop_front();
  int used = 0;
  for (const auto& g : grants_) used += g.probes;
  return opt_.global_budget - used;
}

}  // namespace rsthop::diagnose
