// The status lines: `stats` (counters, sinks, attachments) and `lost` (a loss
// counter that moved), ECS metric events (event.kind: metric).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "output/event.h"
#include "output/event_parts.h"
#include "output/json_writer.h"
#include "output/names.h"

namespace rsthop::output {

using namespace parts;

namespace {

// rsthop.stats.sinks[]: one object per output, in -o order.
void append_sink_stats(JsonWriter& w, std::span<const SinkStats> sinks) {
  w.begin_array("sinks");
  for (const auto& s : sinks) {
    w.begin_object();
    w.string("name", s.name);
    w.uint("queued_bytes", s.queued_bytes);
    w.uint("capacity_bytes", s.capacity_bytes);
    w.uint("dropped_full", s.dropped_full);
    w.uint("dropped_oversize", s.dropped_oversize);
    w.boolean("connected", s.connected);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

void append_stats_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, const KernelCounters& kernel,
                       const UserspaceCounters& user, double elapsed_s, bool final, std::span<const SinkStats> sinks,
                       const std::vector<AttachmentInfo>* attachments) {
  JsonWriter w(out);
  begin_event(w, ctx, kStatsClass, now_mono_ns);
  begin_rsthop(w, kStatsClass);
  w.begin_object("stats");
  w.begin_object("kernel");
  for (int i = 0; i < RH_C_MAX; i++) w.uint(counter_name(i), kernel[static_cast<size_t>(i)]);
  w.end_object();
  w.begin_object("userspace");
  w.uint("events_received", user.events_received);
  w.uint("flows_emitted", user.flows_emitted);
  w.uint("resets_emitted", user.resets_emitted);
  w.uint("parse_errors", user.parse_errors);
  w.uint("flows_evicted_userspace", user.flows_evicted_userspace);
  w.end_object();
  if (!sinks.empty()) append_sink_stats(w, sinks);
  w.boolean("final", final);
  // Seconds from nanosecond differences: nine decimals keep every one.
  w.real("elapsed_s", elapsed_s, 9);
  if (attachments) {
    w.begin_array("attachments");
    for (const auto& a : *attachments) {
      w.begin_object();
      w.string("interface", a.interface);
      w.string("hook", a.hook);
      w.string("mode", a.mode);
      if (!a.fallback.empty()) w.string("fallback", a.fallback);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  w.end_object();
  w.end_object();
}

void append_lost_line(std::string& out, const Context& ctx, uint64_t now_mono_ns, std::string_view cause,
                      uint64_t count, uint64_t total, std::string_view sink) {
  JsonWriter w(out);
  begin_event(w, ctx, kLostClass, now_mono_ns);
  begin_rsthop(w, kLostClass);
  w.begin_object("lost");
  w.string("cause", cause);
  if (!sink.empty()) w.string("sink", sink);
  w.uint("count", count);
  w.uint("total", total);
  w.end_object();
  w.end_object();
  w.end_object();
}

}  // namespace rsthop::output
