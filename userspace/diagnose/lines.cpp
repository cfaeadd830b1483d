#include "diagnose/lines.h"

#include <cmath>
#include <functional>
#include <string_view>

#include "common/addr.h"
#include "output/event_parts.h"
#include "output/json_writer.h"
#include "output/verdict_fields.h"
#include "output/where_fields.h"

namespace rsthop::diagnose {
namespace {

using namespace output::parts;
using output::JsonWriter;

// event.action is the probe's name prefixed: probe-tcp_connect, probe-http, probe-tls.
const EventClass kConnectClass{"probe", "event", "network", "connection", "start", "probe-tcp_connect"};
const EventClass kHttpClass{"probe", "event", "network", "connection", "start", "probe-http"};
const EventClass kTlsClass{"probe", "event", "network", "connection", "start", "probe-tls"};
const EventClass kHopClass{"hop", "event", "network", "info", {}, "ttl-probe"};
const EventClass kVerdictClass{"verdict", "event", "network", "info", {}, "diagnose-verdict"};

uint64_t ms_to_ns(double ms) { return ms > 0 ? static_cast<uint64_t>(std::llround(ms * 1e6)) : 0; }

// A probe succeeded when it got its answer; a certificate that does not
// verify is still an answer (probes do not verify).
const char* probe_outcome(probe::Outcome o) {
  return o == probe::Outcome::ok || o == probe::Outcome::cert_error ? "success" : "failure";
}

// Opens the line up to the common members of rsthop.*; the caller adds its
// own object and closes rsthop, then the line.
void begin(JsonWriter& w, const output::Context& ctx, uint64_t now_mono_ns, const EventClass& c, const EventFields& f,
           const probe::Target& t, uint16_t port, const std::function<void()>& ecs_extra = {},
           std::string_view community_id = {}) {
  begin_event(w, ctx, c, now_mono_ns, f);
  endpoint(w, "destination", t.addr.data(), port, nullptr);
  w.begin_object("network");
  w.plain("transport", "tcp");
  w.plain("type", t.family == 4 ? "ipv4" : "ipv6");
  if (!community_id.empty()) w.string("community_id", community_id);
  w.end_object();
  if (ecs_extra) ecs_extra();
  begin_rsthop(w, c);
  output::where_fields(w, ctx);  // the namespace the probes left from
}

void begin_probe(JsonWriter& w, const char* name, probe::Outcome o, double ms, uint16_t local_port,
                 const std::string& error) {
  w.begin_object("probe");
  w.plain("name", name);
  w.plain("outcome", probe::outcome_name(o));
  w.real("ms", ms, 3);
  if (local_port) w.uint("local_port", local_port);
  if (!error.empty()) w.string("error", error);
}

// tls.version and tls.version_protocol from OpenSSL's text: "TLSv1.3" is
// ("tls", "1.3"), "TLSv1" ("tls", "1.0"), "SSLv3" ("ssl", "3.0").
struct TlsVersion {
  std::string protocol, version;
};

TlsVersion ecs_tls_version(std::string_view openssl) {
  TlsVersion v;
  size_t mark = openssl.find('v');
  if (mark == std::string_view::npos) return {"", std::string(openssl)};
  for (char c : openssl.substr(0, mark)) v.protocol += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  v.version = std::string(openssl.substr(mark + 1));
  if (v.version.find('.') == std::string::npos) v.version += ".0";
  return v;
}

// tls.*: ECS's version / version_protocol pair, the IANA cipher, ALPN and the certificate.
void tls_object(JsonWriter& w, const std::string& sni, const probe::TlsResult& r) {
  w.begin_object("tls");
  if (!r.version.empty()) {
    TlsVersion v = ecs_tls_version(r.version);
    w.string("version", v.version);
    if (!v.protocol.empty()) w.string("version_protocol", v.protocol);
  }
  if (!r.cipher.empty()) w.string("cipher", r.cipher);
  if (!r.alpn.empty()) w.string("next_protocol", r.alpn);
  w.begin_object("client");
  w.string("server_name", sni);
  w.end_object();
  if (!r.subject.empty()) {
    w.begin_object("server");
    w.string("subject", r.subject);
    w.string("issuer", r.issuer);
    if (!r.not_before.empty()) w.string("not_before", r.not_before);
    if (!r.not_after.empty()) w.string("not_after", r.not_after);
    if (!r.sans.empty()) {
      w.begin_object("x509");
      w.begin_array("alternative_names");
      for (const auto& n : r.sans) w.string(n);
      w.end_array();
      w.end_object();
    }
    w.end_object();
  }
  w.end_object();
}

void auto_diagnose_object(JsonWriter& w, const AutoDiagnoseInfo& a) {
  w.begin_object("auto_diagnose");
  w.plain("trigger", name(a.reason));
  w.begin_array("trigger_community_ids");
  for (const auto& id : a.trigger_community_ids) w.string(id);
  w.end_array();
  w.uint("budget", static_cast<uint64_t>(a.budget));
  w.uint("probes", static_cast<uint64_t>(a.probes));
  w.end_object();
}

}  // namespace

void append_connect_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns,
                               const probe::Target& t, const probe::ConnectResult& r) {
  JsonWriter w(out);
  begin(w, ctx, now_mono_ns, kConnectClass, EventFields{probe_outcome(r.outcome), ms_to_ns(r.ms), {}, {}}, t, t.port);
  begin_probe(w, "tcp_connect", r.outcome, r.ms, r.local_port, r.error);
  w.end_object();
  w.end_object();
  w.end_object();
}

void append_http_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                            uint16_t port, const std::string& host, const probe::HttpResult& r) {
  JsonWriter w(out);
  begin(w, ctx, now_mono_ns, kHttpClass, EventFields{probe_outcome(r.outcome), ms_to_ns(r.ms), {}, {}}, t, port, [&] {
    w.begin_object("url");
    w.string("domain", host);
    w.end_object();
  });
  begin_probe(w, "http", r.outcome, r.ms, r.local_port, r.error);
  if (!r.status_line.empty()) w.string("status_line", r.status_line);
  if (!r.location.empty()) w.string("location", r.location);
  w.end_object();
  w.end_object();
  w.end_object();
}

void append_tls_probe_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                           const std::string& sni, const probe::TlsResult& r) {
  JsonWriter w(out);
  begin(w, ctx, now_mono_ns, kTlsClass, EventFields{probe_outcome(r.outcome), ms_to_ns(r.ms), {}, {}}, t, t.port,
        [&] { tls_object(w, sni, r); });
  begin_probe(w, "tls", r.outcome, r.ms, r.local_port, r.error);
  if (r.reset_after_hello_ms) w.real("reset_after_hello_ms", *r.reset_after_hello_ms, 3);
  if (r.reset_before_hello) w.boolean("reset_before_hello", true);
  if (!r.alert.empty()) w.string("alert", r.alert);
  w.end_object();
  w.end_object();
  w.end_object();
}

void append_hop_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                     const char* ladder, int ttl, const char* result, const std::optional<Addr16>& from, double ms,
                     std::optional<double> duration_ms) {
  JsonWriter w(out);
  begin(w, ctx, now_mono_ns, kHopClass, EventFields{{}, ms_to_ns(ms), {}, {}}, t, t.port);
  w.begin_object("hop");
  w.plain("ladder", ladder);
  w.uint("ttl", static_cast<uint64_t>(ttl));
  w.plain("result", result);
  if (from) w.string("ip", addr_to_string(from->data()));
  w.real("ms", ms, 3);
  if (duration_ms) w.real("duration_ms", *duration_ms, 3);
  w.end_object();
  w.end_object();
  w.end_object();
}

void append_verdict_line(std::string& out, const output::Context& ctx, uint64_t now_mono_ns, const probe::Target& t,
                         const std::string& name, const Verdict& v, const AutoDiagnoseInfo* auto_info) {
  JsonWriter w(out);
  const char* outcome = v.outcome == RequestOutcome::ok ? "success" : "failure";
  std::string_view joined;
  if (auto_info && !auto_info->trigger_community_ids.empty()) joined = auto_info->trigger_community_ids.front();
  begin(
      w, ctx, now_mono_ns, kVerdictClass, EventFields{outcome, {}, {}, {}}, t, t.port,
      [&] {
        if (t.port == 80) {  // an HTTP target is tested by its Host header, a TLS one by its SNI
          w.begin_object("url");
          w.string("domain", name);
        } else {
          w.begin_object("tls");
          w.begin_object("client");
          w.string("server_name", name);
          w.end_object();
        }
        w.end_object();
      },
      joined);
  w.begin_object("verdict");
  w.plain("outcome", diagnose::name(v.outcome));
  w.plain("origin", attribution::name(v.origin));
  if (v.hop) w.uint("hop", static_cast<uint64_t>(*v.hop));
  if (v.hop_ip) w.string("hop_ip", addr_to_string(v.hop_ip->data()));
  if (!v.candidates.empty()) {  // the hops the ladder cannot separate, nearest first
    w.begin_array("candidates");
    for (const auto& c : v.candidates) {
      w.begin_object();
      w.uint("hop", static_cast<uint64_t>(c.hop));
      if (c.ip) w.string("ip", addr_to_string(c.ip->data()));
      w.end_object();
    }
    w.end_array();
  }
  if (v.endpoint_hop) w.uint("endpoint_hop", static_cast<uint64_t>(*v.endpoint_hop));
  w.plain("trigger", diagnose::name(v.trigger));
  if (v.l2_mac) {
    w.begin_object("l2_neighbor");
    w.string("mac", mac_to_ecs_string(v.l2_mac->data()));
    if (!v.l2_vendor.empty()) w.string("vendor", v.l2_vendor);
    w.end_object();
  }
  w.real("confidence", v.confidence, 2);
  w.string("summary", v.summary);
  if (!v.next_step.empty()) w.string("next_step", v.next_step);
  output::write_evidence(w, v.evidence);
  w.end_object();
  if (auto_info) auto_diagnose_object(w, *auto_info);
  w.end_object();
  w.end_object();
}

}  // namespace rsthop::diagnose
