#include "pipeline/incidents.h"

#include <algorithm>
#include <cstring>

#include "common/addr.h"
#include "output/community_id.h"

namespace rsthop::pipeline {

Destination reset_destination(const flow::ResetRecord& r) {
  const rh_event& ev = r.first.ev;
  uint8_t initiator = r.initiator;
  if (initiator == RH_SIDE_UNKNOWN && r.flow_state) initiator = r.flow_state->initiator;
  // A RST the initiator sent travels towards the responder; one the responder
  // (or someone posing as it) sent comes from it.
  bool to_responder = initiator != RH_SIDE_UNKNOWN && ev.side == initiator;
  Destination d;
  std::memcpy(d.ip.data(), to_responder ? ev.daddr : ev.saddr, 16);
  d.port = to_responder ? ev.dport : ev.sport;
  d.family = ev.family == 4 || ev.family == 6 ? ev.family : (is_v4mapped(d.ip.data()) ? 4 : 6);
  return d;
}

namespace {

template <typename T>
void add_first_few(std::vector<T>& v, const T& x, size_t cap) {
  if (v.size() < cap && std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

}  // namespace

bool IncidentAggregator::add(const flow::ResetRecord& r, const attribution::Verdict& v) {
  Destination d = reset_destination(r);
  DestKey dk{d.ip, d.port};
  auto dit = dests_.find(dk);
  if (dit == dests_.end()) {
    if (dests_.size() >= opt_.max_destinations) {
      overflow_++;
      return false;
    }
    dit = dests_.emplace(dk, Dest{}).first;
  }
  GroupKey gk{static_cast<int>(v.origin), v.hop.value_or(-1), v.fingerprint.id};
  auto& groups = dit->second.groups;
  auto git = groups.find(gk);
  if (git == groups.end()) {
    if (groups.size() >= opt_.max_groups_per_destination) {
      overflow_++;
      return false;
    }
    output::Incident inc;
    inc.family = d.family;
    inc.ip = d.ip;
    inc.port = d.port;
    inc.origin = v.origin;
    inc.hop = v.hop;
    inc.fingerprint = v.fingerprint.id;
    inc.first_ns = r.first.ev.ts_ns;
    git = groups.emplace(gk, std::move(inc)).first;
  }
  output::Incident& inc = git->second;
  const rh_event& ev = r.first.ev;
  inc.count++;
  inc.rsts += r.count;
  inc.confidence_max = std::max(inc.confidence_max, v.confidence);
  inc.first_ns = std::min<uint64_t>(inc.first_ns, ev.ts_ns);
  inc.last_ns = std::max<uint64_t>(inc.last_ns, ev.ts_ns);
  if (inc.community_ids.size() < output::kIncidentCommunityIds) {
    auto id = output::community_id_v1(d.family, ev.saddr, ev.daddr, ev.sport, ev.dport);
    if (!id.empty()) add_first_few(inc.community_ids, id, output::kIncidentCommunityIds);
  }
  if (!r.app.tls_sni.empty()) add_first_few(inc.server_names, r.app.tls_sni, output::kIncidentServerNames);
  return true;
}

std::vector<output::Incident> IncidentAggregator::take() {
  std::vector<output::Incident> out;
  for (auto& [dk, dest] : dests_)
    for (auto& [gk, inc] : dest.groups) out.push_back(std::move(inc));
  dests_.clear();
  return out;
}

}  // namespace rsthop::pipeline
