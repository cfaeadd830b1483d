// The lines as parsed JSON objects (tests, and callers that merge members):
// each is the line append_*_line writes, parsed back, so both can never differ.
#include <string>

#include <nlohmann/json.hpp>

#include "output/event.h"

namespace rsthop::output {

using nlohmann::json;

namespace {

template <typename Append>
json parsed(Append&& append) {
  std::string line;
  append(line);
  return json::parse(line);
}

}  // namespace

json flow_event(const Context& ctx, const flow::FlowSummary& f) {
  return parsed([&](std::string& l) { append_flow_line(l, ctx, f); });
}

json reset_event(const Context& ctx, const flow::ResetRecord& r, const attribution::Verdict* verdict) {
  return parsed([&](std::string& l) { append_reset_line(l, ctx, r, verdict); });
}

json packet_event(const Context& ctx, const flow::Packet& p) {
  return parsed([&](std::string& l) { append_packet_line(l, ctx, p); });
}

json stats_event(const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel, const UserspaceCounters& user,
                 double elapsed_s, bool final, std::span<const SinkStats> sinks,
                 const std::vector<AttachmentInfo>* attachments) {
  return parsed([&](std::string& l) {
    append_stats_line(l, ctx, now_mono_ns, kernel, user, elapsed_s, final, sinks, attachments);
  });
}

json lost_event(const Context& ctx, uint64_t now_mono_ns, std::string_view cause, uint64_t count, uint64_t total,
                std::string_view sink) {
  return parsed([&](std::string& l) { append_lost_line(l, ctx, now_mono_ns, cause, count, total, sink); });
}

}  // namespace rsthop::output
