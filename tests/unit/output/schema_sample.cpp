// Prints one line of every event type (and every packet kind the renderer
// treats differently) through the real JSON writer, for validate_schema.py.
#include <cstdio>

#include "fixtures.h"
#include "names.h"
#include "sink.h"

using namespace rsthop;
using namespace rsthop::output;
namespace fx = rsthop::output::fixtures;

int main() {
  Context ctx = fx::context();
  Writer w(std::make_unique<StdoutSink>(), Format::json);

  flow::ResetRecord local;
  local.first = fx::local_rst_send();
  local.local_reason = 14;

  auto f6 = fx::flow_summary();
  f6.family = 6;
  f6.source.ip = fx::ip("2001:db8::1");
  f6.destination.ip = fx::ip("2001:db8::2");
  f6.rtt_ms.reset();
  f6.app = {};

  flow::Packet rst;
  rst.ev = fx::server_rst();

  KernelCounters k{};
  k[RH_C_PACKETS] = 10;
  UserspaceCounters u;

  const nlohmann::json events[] = {
      flow_event(ctx, fx::flow_summary()),
      flow_event(ctx, f6),
      reset_event(ctx, fx::reset_record()),
      reset_event(ctx, local),
      packet_event(ctx, fx::syn_v6()),
      packet_event(ctx, fx::icmp_time_exceeded()),
      packet_event(ctx, fx::first_payload()),
      packet_event(ctx, fx::local_rst_send()),
      packet_event(ctx, rst),
      stats_event(ctx, 10 * fx::kSec, k, u, 1.0, false),
      lost_event(ctx, 10 * fx::kSec, loss_cause(RH_C_LOST_RINGBUF), 1, 1),
      lost_event(ctx, 10 * fx::kSec, kLossCauseMalformedRecord, 1, 3),
  };
  for (const auto& ev : events) {
    auto r = w.emit(ev);
    if (!r.ok()) {
      std::fprintf(stderr, "schema_sample: %s\n", r.error().message.c_str());
      return 1;
    }
  }
  return 0;
}
