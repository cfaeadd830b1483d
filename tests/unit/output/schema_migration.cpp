#include "schema_migration.h"

#include <cctype>

namespace rsthop::output::reference {

using nlohmann::json;

namespace {

// 02:68:78:01:00:01 -> 02-68-78-01-00-01, wherever a "mac" is.
void ecs_macs(json& j) {
  if (j.is_array()) {
    for (auto& x : j) ecs_macs(x);
    return;
  }
  if (!j.is_object()) return;
  for (auto& [k, v] : j.items()) {
    if (k == "mac" && v.is_string()) {
      std::string m = v.get<std::string>();
      for (char& c : m) c = c == ':' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      v = m;
    } else {
      ecs_macs(v);
    }
  }
}

std::string flow_outcome(const std::string& state) {
  if (state == "SF" || state == "S1" || state == "S2" || state == "S3") return "success";
  if (state == "REJ" || state == "S0" || state.rfind("RST", 0) == 0) return "failure";
  return "unknown";
}

json categorise(const std::string& type, const json& rs) {
  json e;
  e["kind"] = type == "stats" || type == "lost" ? "metric" : "event";
  e["category"] = {"network"};
  if (type == "flow") {
    e["type"] = {"connection", "end"};
    e["action"] = "flow-summary";
    e["outcome"] = flow_outcome(rs["flow"]["conn_state"].get<std::string>());
  } else if (type == "reset") {
    e["type"] = {"connection", "end"};
    e["action"] = "tcp-reset";
    e["outcome"] = "failure";
  } else if (type == "packet") {
    e["type"] = {"info"};
    e["action"] = "packet-" + rs["packet"]["kind"].get<std::string>();
  } else {
    e["type"] = {"info"};
    e["action"] = type == "lost" ? "events-lost" : type;
  }
  return e;
}

// observer.interface.name + rsthop.ifindex -> observer.{ingress,egress}.interface.{id,name}.
json observer(const json& v1, const json& rs) {
  json iface;
  iface["id"] = std::to_string(rs["ifindex"].get<uint32_t>());
  if (v1.contains("observer")) iface["name"] = v1["observer"]["interface"]["name"];
  std::string hook = rs.value("hook", "");
  json o;
  if (hook != "tc-egress" && hook != "tp-send-reset") o["ingress"]["interface"] = iface;
  if (hook.empty() || hook == "tc-egress" || hook == "tp-send-reset") o["egress"]["interface"] = iface;
  return o;
}

}  // namespace

json migrate_v1_to_v2(json v1, const V2Facts& facts) {
  static const char* const kMoved[] = {"flow", "reset", "packet", "icmp", "stats", "lost", "probe", "hop", "verdict"};
  std::string type = v1["event_type"].get<std::string>();
  json rs = v1.contains("rsthop") ? v1["rsthop"] : json::object();
  rs["event_type"] = type;
  rs["schema_version"] = 2;
  for (const char* k : kMoved) {
    if (v1.contains(k)) rs[k] = v1[k];
  }
  json v2;
  v2["@timestamp"] = v1["@timestamp"];
  v2["ecs"]["version"] = "8.11.0";
  v2["event"] = categorise(type, rs);
  if (type == "flow") {
    v2["event"]["start"] = v1["event"]["start"];
    v2["event"]["end"] = v1["event"]["end"];
    if (facts.duration_ns) v2["event"]["duration"] = *facts.duration_ns;
  }
  for (const char* k : {"host", "source", "destination", "network", "tls", "url"}) {
    if (v1.contains(k)) v2[k] = v1[k];
  }
  if (rs.contains("ifindex")) v2["observer"] = observer(v1, rs);
  if (rs.contains("icmp")) {  // network.community_id: the quoted flow's -> the ICMP message's own
    rs["icmp"]["quoted_community_id"] = v2["network"]["community_id"];
    v2["network"]["community_id"] = facts.icmp_community_id;
  }
  v2["rsthop"] = rs;
  ecs_macs(v2);
  return v2;
}

}  // namespace rsthop::output::reference
