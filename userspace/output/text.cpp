#include "output/text.h"

#include <cstdio>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace rsthop::output {

using nlohmann::json;

namespace {

const json* at(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

// Printable ASCII passes; everything else becomes \xNN.
std::string safe(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string str(const json& j, std::initializer_list<const char*> path) {
  const json* v = at(j, path);
  if (v == nullptr) return {};
  if (v->is_string()) return safe(v->get_ref<const std::string&>());
  if (v->is_number_unsigned()) return std::to_string(v->get<uint64_t>());
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  return safe(v->dump(-1, ' ', false, json::error_handler_t::replace));
}

bool has(const json& j, std::initializer_list<const char*> path) { return at(j, path) != nullptr; }

std::string ms_text(double ms) {
  char buf[32];
  if (ms >= 1000) {
    std::snprintf(buf, sizeof(buf), "%.1fs", ms / 1000);
  } else if (ms >= 10) {
    std::snprintf(buf, sizeof(buf), "%.0fms", ms);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fms", ms);
  }
  return buf;
}

std::string ms_at(const json& j, std::initializer_list<const char*> path) {
  const json* v = at(j, path);
  return v != nullptr && v->is_number() ? ms_text(v->get<double>()) : std::string();
}

// "198.18.0.1:443", "[2001:db8::1]:443", or the bare address without a port.
std::string endpoint_text(const json& e) {
  std::string ip = str(e, {"ip"});
  std::string port = str(e, {"port"});
  if (port.empty()) return ip;
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + port;
  return ip + ":" + port;
}

std::string tuple_text(const json& ev, const char* src = "source", const char* dst = "destination") {
  const json* s = at(ev, {src});
  const json* d = at(ev, {dst});
  return endpoint_text(s ? *s : json::object()) + " -> " + endpoint_text(d ? *d : json::object());
}

// "x.pcap frame 6", "x.pcap frames 6,9" or "x.pcap frames 1-12" (rsthop analyze); "" live.
std::string file_text(const json& ev) {
  if (!has(ev, {"rsthop", "file"})) return {};
  std::string out = str(ev, {"rsthop", "file"});
  if (const json* fr = at(ev, {"rsthop", "frames"}); fr && fr->is_array() && !fr->empty()) {
    out += fr->size() == 1 ? " frame " : " frames ";
    for (size_t i = 0; i < fr->size(); i++) out += (i ? "," : "") + (*fr)[i].dump();
  } else if (has(ev, {"rsthop", "first_frame"})) {
    out += " frames " + str(ev, {"rsthop", "first_frame"}) + "-" + str(ev, {"rsthop", "last_frame"});
  }
  return out;
}

// " (tc-ingress eth0)", " (pcap x.pcap frame 6)"
std::string where_text(const json& ev) {
  std::string hook = str(ev, {"rsthop", "hook"});
  std::string ifname = str(ev, {"observer", "ingress", "interface", "name"});
  if (ifname.empty()) ifname = str(ev, {"observer", "egress", "interface", "name"});
  if (ifname.empty() && has(ev, {"rsthop", "ifindex"})) ifname = "if" + str(ev, {"rsthop", "ifindex"});
  std::string both = hook + (hook.empty() || ifname.empty() ? "" : " ") + ifname;
  std::string file = file_text(ev);
  if (!file.empty()) both += (both.empty() ? "" : " ") + file;
  return both.empty() ? std::string() : " (" + both + ")";
}

std::string app_text(const json& ev) {
  std::string out;
  if (has(ev, {"tls", "client", "server_name"})) out += " sni=" + str(ev, {"tls", "client", "server_name"});
  if (has(ev, {"url", "domain"})) out += " host=" + str(ev, {"url", "domain"});
  if (has(ev, {"rsthop", "http_request"})) out += " http=\"" + str(ev, {"rsthop", "http_request"}) + "\"";
  return out;
}

// " ttl 63" when present.
std::string field(const json& obj, const char* label, const char* key) {
  const json* v = at(obj, {key});
  return v == nullptr ? std::string() : std::string(" ") + label + " " + str(obj, {key});
}

std::string reset_text(const json& ev) {
  std::string out = "RESET " + tuple_text(ev);
  const json* r = at(ev, {"rsthop", "reset"});
  if (r == nullptr) return out;
  if (has(*r, {"flags"})) out += " [" + str(*r, {"flags"}) + "]";
  out += field(*r, "ttl", "ttl") + field(*r, "seq", "seq") + field(*r, "win", "window");
  out += " x" + str(*r, {"count"});
  if (has(*r, {"local_reason"})) out += " reason " + str(*r, {"local_reason"});
  if (has(*r, {"baseline", "ttl"})) out += " baseline-ttl " + str(*r, {"baseline", "ttl"});
  if (has(*r, {"delay_ms"})) out += " after " + ms_at(*r, {"delay_ms"});
  const json* local = at(*r, {"local"});
  if (local != nullptr && local->is_boolean() && local->get<bool>()) out += " local";
  out += where_text(ev);
  out += app_text(ev);
  // The attribution, when there is one: who, where, how sure, and why in one sentence.
  if (has(*r, {"origin"})) {
    out += " => " + str(*r, {"origin"});
    if (has(*r, {"hops"})) out += " hop " + str(*r, {"hops"});
    out += " (confidence " + str(*r, {"confidence"}) + ")";
    if (has(*r, {"summary"})) out += ": " + str(*r, {"summary"});
  }
  return out;
}

std::string flow_text(const json& ev) {
  std::string out = "FLOW " + tuple_text(ev) + " " + str(ev, {"rsthop", "flow", "conn_state"});
  std::string hist = str(ev, {"rsthop", "flow", "history"});
  if (!hist.empty()) out += " " + hist;
  if (has(ev, {"rsthop", "flow", "rtt_ms"})) out += " rtt " + ms_at(ev, {"rsthop", "flow", "rtt_ms"});
  if (has(ev, {"rsthop", "flow", "duration_ms"})) out += " " + ms_at(ev, {"rsthop", "flow", "duration_ms"});
  out += " " + str(ev, {"source", "bytes"}) + "B/" + str(ev, {"source", "packets"}) + "p -> " +
         str(ev, {"destination", "bytes"}) + "B/" + str(ev, {"destination", "packets"}) + "p";
  if (std::string file = file_text(ev); !file.empty()) out += " (" + file + ")";
  return out + app_text(ev);
}

std::string packet_text(const json& ev) {
  const json* p = at(ev, {"rsthop", "packet"});
  if (p == nullptr) return "PKT " + tuple_text(ev);
  std::string kind = str(*p, {"kind"});
  if (kind == "icmp") {
    std::string out = "ICMP " + tuple_text(ev) + " type " + str(ev, {"rsthop", "icmp", "type"}) + " code " +
                      str(ev, {"rsthop", "icmp", "code"});
    const json* q = at(ev, {"rsthop", "icmp", "quoted"});
    if (q != nullptr) {
      out += " quoting " + tuple_text(*q) + field(*q, "ttl", "ttl") + field(*q, "seq", "seq");
    }
    return out + where_text(ev);
  }
  std::string out = "PKT " + kind + " " + tuple_text(ev);
  if (has(*p, {"flags"})) out += " [" + str(*p, {"flags"}) + "]";
  out += field(*p, "ttl", "ttl") + field(*p, "seq", "seq") + field(*p, "ack", "ack") + field(*p, "win", "window") +
         field(*p, "len", "payload_len") + field(*p, "reason", "local_reason");
  return out + where_text(ev);
}

std::string counters_text(const json* obj) {
  std::string out;
  if (obj == nullptr || !obj->is_object()) return out;
  for (const auto& [name, value] : obj->items()) {
    if (value.is_number() && value.get<double>() != 0) out += " " + name + "=" + str(value, {});
  }
  return out;
}

std::string stats_text(const json& ev) {
  std::string out = "STATS";
  const json* fin = at(ev, {"rsthop", "stats", "final"});
  if (fin != nullptr && fin->is_boolean() && fin->get<bool>()) out += " final";
  const json* el = at(ev, {"rsthop", "stats", "elapsed_s"});
  if (el != nullptr && el->is_number()) out += " elapsed " + ms_text(el->get<double>() * 1000);
  out += counters_text(at(ev, {"rsthop", "stats", "kernel"}));
  out += counters_text(at(ev, {"rsthop", "stats", "userspace"}));
  return out;
}

}  // namespace

std::string probe_text(const json& ev) {
  const json* p = at(ev, {"rsthop", "probe"});
  if (p == nullptr) return "PROBE";
  std::string name = str(*p, {"name"});
  std::string out = "PROBE " + name + " " + endpoint_text(*at(ev, {"destination"})) + " " + str(*p, {"outcome"}) +
                    " in " + ms_at(*p, {"ms"});
  if (has(*p, {"status_line"})) out += ": " + str(*p, {"status_line"});
  if (has(*p, {"location"})) out += " -> " + str(*p, {"location"});
  if (has(*p, {"reset_after_hello_ms"}))
    out += ", reset " + ms_at(*p, {"reset_after_hello_ms"}) + " after the ClientHello";
  if (has(*p, {"alert"})) out += ", alert " + str(*p, {"alert"});
  if (has(*p, {"error"})) out += " (" + str(*p, {"error"}) + ")";
  if (has(ev, {"tls", "version"})) {  // ", TLS 1.3 TLS_AES_128_GCM_SHA256"
    std::string proto = str(ev, {"tls", "version_protocol"});
    for (char& c : proto) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    out += ", " + (proto.empty() ? std::string() : proto + " ") + str(ev, {"tls", "version"}) + " " +
           str(ev, {"tls", "cipher"});
  }
  if (has(ev, {"tls", "server", "subject"})) out += ", cert " + str(ev, {"tls", "server", "subject"});
  return out;
}

std::string hop_text(const json& ev) {
  const json* h = at(ev, {"rsthop", "hop"});
  if (h == nullptr) return "HOP";
  std::string out = "HOP " + str(*h, {"ladder"}) + " ttl " + str(*h, {"ttl"}) + " " + str(*h, {"result"});
  if (has(*h, {"ip"})) out += " from " + str(*h, {"ip"});
  return out + " (" + ms_at(*h, {"ms"}) + ")";
}

// The report a person acts on: several lines, the answer first.
std::string verdict_text(const json& ev) {
  const json* v = at(ev, {"rsthop", "verdict"});
  if (v == nullptr) return "VERDICT";
  std::string out = "VERDICT " + str(*v, {"outcome"}) + ", origin " + str(*v, {"origin"});
  if (has(*v, {"hop"})) out += ", hop " + str(*v, {"hop"});
  if (has(*v, {"hop_ip"})) out += " (" + str(*v, {"hop_ip"}) + ")";
  if (has(*v, {"endpoint_hop"})) out += ", the target is hop " + str(*v, {"endpoint_hop"});
  out += ", trigger " + str(*v, {"trigger"}) + ", confidence " + str(*v, {"confidence"});
  out += "\n  " + str(*v, {"summary"});
  if (has(*v, {"l2_neighbor", "mac"}))
    out += "\n  gateway MAC " + str(*v, {"l2_neighbor", "mac"}) +
           (has(*v, {"l2_neighbor", "vendor"}) ? " (" + str(*v, {"l2_neighbor", "vendor"}) + ")" : "");
  if (const json* e = at(*v, {"evidence"}); e != nullptr && e->is_array()) {
    for (const auto& item : *e) {
      out += "\n  - " + str(item, {"signal"}) + ": " + str(item, {"observed"});
      if (has(item, {"expected"})) out += " (expected: " + str(item, {"expected"}) + ")";
    }
  }
  if (has(*v, {"next_step"})) out += "\n  next: " + str(*v, {"next_step"});
  if (const json* a = at(ev, {"rsthop", "auto_diagnose"}); a != nullptr)  // trace --auto-diagnose
    out += "\n  auto-diagnose: " + str(*a, {"trigger"}) + ", " + str(*a, {"probes"}) + "/" + str(*a, {"budget"}) +
           " probes, for " + str(ev, {"network", "community_id"});
  return out;
}

std::string render_text(const nlohmann::json& event) {
  std::string ts = str(event, {"@timestamp"});
  // "2026-11-26T02:33:38.123456Z" -> "02:33:38.123456": the date is noise
  // on a live terminal.
  std::string time = ts.size() >= 26 ? ts.substr(11, 15) : ts;
  std::string type = str(event, {"rsthop", "event_type"});
  std::string body;
  if (type == "reset") {
    body = reset_text(event);
  } else if (type == "flow") {
    body = flow_text(event);
  } else if (type == "packet") {
    body = packet_text(event);
  } else if (type == "stats") {
    body = stats_text(event);
  } else if (type == "probe") {
    body = probe_text(event);
  } else if (type == "hop") {
    body = hop_text(event);
  } else if (type == "verdict") {
    body = verdict_text(event);
  } else if (type == "incident") {
    body = "INCIDENT " + str(event, {"rsthop", "incident", "summary"}) + " (" +
           str(event, {"rsthop", "incident", "rsts"}) + " RSTs in " + str(event, {"rsthop", "incident", "interval_s"}) +
           "s)";
  } else if (type == "lost") {
    body = "LOST " + str(event, {"rsthop", "lost", "count"}) + " (" + str(event, {"rsthop", "lost", "cause"}) +
           ", total " + str(event, {"rsthop", "lost", "total"}) + ")";
  } else {
    body = safe(event.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return time + " " + body;
}

}  // namespace rsthop::output
