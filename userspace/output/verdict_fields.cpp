#include "output/verdict_fields.h"

#include "common/addr.h"

namespace rsthop::output {

void write_evidence(JsonWriter& w, const std::vector<attribution::Evidence>& evidence) {
  w.begin_array("evidence");
  for (const auto& e : evidence) {
    w.begin_object();
    w.plain("signal", e.signal);  // an identifier of rsthop's (verdict.h): no escaping scan
    w.string("observed", e.observed());
    if (!e.expected().empty()) w.string("expected", e.expected());
    w.real("weight", e.weight, 2);
    w.end_object();
  }
  w.end_array();
}

void write_verdict_fields(JsonWriter& w, const attribution::Verdict& v) {
  w.plain("origin", attribution::name(v.origin));
  if (v.hop) w.uint("hops", static_cast<uint64_t>(*v.hop));
  if (v.endpoint_hop) w.uint("endpoint_hops", static_cast<uint64_t>(*v.endpoint_hop));
  w.real("confidence", v.confidence, 2);
  w.boolean("conflicting", v.conflicting);
  w.string("summary", v.summary);
  w.plain("stage", attribution::name(v.stage));
  if (v.l2_mac) {
    w.begin_object("l2_src");
    w.verbatim("mac", kMacTextLen, [&](char* d) { return format_mac_ecs(d, v.l2_mac->data()); });
    if (!v.l2_vendor.empty()) w.string("vendor", v.l2_vendor);
    w.end_object();
  }
  if (!v.payload_text.empty()) w.string("payload_text", v.payload_text);
  if (v.diagnostic) {
    w.begin_object("diagnostic");
    w.uint("reason_code", v.diagnostic->reason_code);
    if (v.diagnostic->enterprise) w.uint("enterprise", *v.diagnostic->enterprise);
    if (!v.diagnostic->text.empty()) w.string("text", v.diagnostic->text);
    w.end_object();
  }
  write_evidence(w, v.evidence);

  const auto& fp = v.fingerprint;
  w.begin_object("fingerprint");
  w.plain("id", fp.id);  // built by the engine from flag letters, digits and patterns
  w.uint("count", fp.count);
  w.begin_array("flags");
  // Flag letters, comma-separated: one entry per comma and one more.
  for (std::string_view flags = fp.flags;;) {
    const size_t comma = flags.find(',');
    w.plain(flags.substr(0, comma));
    if (comma == std::string_view::npos) break;
    flags.remove_prefix(comma + 1);
  }
  w.end_array();
  w.begin_array("windows");
  for (auto x : fp.windows) w.uint(x);
  w.end_array();
  w.begin_array("ip_ids");
  for (auto x : fp.ip_ids) w.uint(x);
  w.end_array();
  w.plain("ip_id_pattern", fp.ip_id_pattern);
  w.begin_array("ttls");
  for (auto x : fp.ttls) w.uint(x);
  w.end_array();
  w.plain("ttl_pattern", fp.ttl_pattern);
  if (!fp.seq_offsets.empty()) {
    w.begin_array("seq_offsets");
    for (auto x : fp.seq_offsets) w.sint(x);
    w.end_array();
  }
  w.end_object();
}

}  // namespace rsthop::output
