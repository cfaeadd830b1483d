#include "output/incident_line.h"

#include <nlohmann/json.hpp>

#include "common/addr.h"
#include "output/event_parts.h"
#include "output/json_writer.h"

namespace rsthop::output {

namespace {

std::string destination_text(const Incident& inc) {
  char ip[kAddrTextMax];
  std::string a(ip, format_addr(ip, inc.ip.data()));
  if (inc.family == 6) a = "[" + a + "]";
  return a + ":" + std::to_string(inc.port);
}

std::string sender_text(const Incident& inc) {
  using attribution::Origin;
  switch (inc.origin) {
    case Origin::middlebox:
      return inc.hop ? "a middlebox at hop " + std::to_string(*inc.hop) : "a middlebox";
    case Origin::endpoint:
      return "the endpoint";
    case Origin::local:
      return "this host";
    case Origin::unknown:
      break;
  }
  return "an unknown sender";
}

}  // namespace

std::string incident_summary(const Incident& inc) {
  std::string s = std::to_string(inc.count) + (inc.count == 1 ? " connection" : " connections") + " to " +
                  destination_text(inc) + " reset by " + sender_text(inc);
  if (!inc.fingerprint.empty()) s += ", fingerprint " + inc.fingerprint;
  return s;
}

void append_incident_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, const Incident& inc,
                          double interval_s) {
  JsonWriter w(out);
  parts::EventFields fields;
  fields.start_mono_ns = inc.first_ns;
  fields.end_mono_ns = inc.last_ns;
  // ECS: with event.start and event.end known, event.duration is their difference.
  fields.duration_ns = inc.last_ns >= inc.first_ns ? inc.last_ns - inc.first_ns : 0;
  parts::begin_event(w, ctx, parts::kIncidentClass, now_mono_ns, fields);
  parts::endpoint(w, "destination", inc.ip.data(), inc.port, nullptr);
  w.begin_object("network");
  w.plain("transport", "tcp");
  w.plain("type", inc.family == 4 ? "ipv4" : "ipv6");
  w.end_object();
  parts::begin_rsthop(w, parts::kIncidentClass);
  w.begin_object("incident");
  w.uint("count", inc.count);
  w.uint("rsts", inc.rsts);
  w.plain("origin", attribution::name(inc.origin));
  if (inc.hop) w.sint("hop", *inc.hop);
  w.string("fingerprint", inc.fingerprint);
  w.real("confidence", inc.confidence_max, 2);
  w.real("interval_s", interval_s, 3);
  w.string("summary", incident_summary(inc));
  if (!inc.community_ids.empty()) {
    w.begin_array("community_ids");
    for (const auto& id : inc.community_ids) w.string(id);
    w.end_array();
  }
  if (!inc.server_names.empty()) {
    w.begin_array("server_names");
    for (const auto& n : inc.server_names) w.string(n);
    w.end_array();
  }
  w.end_object();
  w.end_object();  // rsthop
  w.end_object();
}

nlohmann::json incident_event(const Context& ctx, uint64_t now_mono_ns, const Incident& inc, double interval_s) {
  std::string line;
  append_incident_line(line, ctx, now_mono_ns, inc, interval_s);
  return nlohmann::json::parse(line);
}

}  // namespace rsthop::output
