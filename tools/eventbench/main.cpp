// eventbench: events per second from the ring buffer through the real
// consumer and the pipeline `rsthop trace --packets` runs (Capture::drain ->
// pipeline::Pipeline: a packet line per event, Engine::observe, the
// Timeline, each reset classified by the Engine, flow, reset, lost and stats
// lines) and the NDJSON writer to /dev/null, on one core.  The kernel side fills the ring first with
// BPF_PROG_TEST_RUN on the real tc program (untimed); then the drain is timed.
// Prints {"userspace_events_per_s": N (wall clock), "userspace_events_per_cpu_s":
// N (this thread's CPU time), "events": M}.
#include <bpf/bpf.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include "common/clock.h"
#include "kernel/capture.h"
#include "output/event.h"
#include "output/sink.h"
#include "pipeline/pipeline.h"
#include "tests/common/packet_builder.h"

using namespace rsthop;
using test::PacketBuilder;

namespace {

bool run(int fd, const test::Bytes& frame) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame.data(), .data_size_in = static_cast<uint32_t>(frame.size()),
              .repeat = 1);
  return bpf_prog_test_run_opts(fd, &o) == 0;
}

// One connection's control packets and first payloads: 7 events.
void connection(int egress, int ingress, uint32_t i) {
  char client[32];
  std::snprintf(client, sizeof(client), "198.18.%u.%u", 100 + (i >> 16), (i >> 8) & 0xff);
  uint16_t port = static_cast<uint16_t>(1024 + (i & 0xff) * 200 + (i >> 8) % 200);
  auto out = [&](uint8_t flags, uint32_t seq, uint32_t ack, std::string_view data) {
    return PacketBuilder()
        .eth()
        .ipv4(client, "198.18.0.2")
        .ttl(64)
        .tcp(port, 443)
        .flags(flags)
        .seq(seq)
        .ack(ack)
        .payload(data)
        .build();
  };
  auto in = [&](uint8_t flags, uint32_t seq, uint32_t ack, std::string_view data) {
    return PacketBuilder()
        .eth()
        .ipv4("198.18.0.2", client)
        .ttl(63)
        .tcp(443, port)
        .flags(flags)
        .seq(seq)
        .ack(ack)
        .payload(data)
        .build();
  };
  using namespace test;
  run(egress, PacketBuilder()
                  .eth()
                  .ipv4(client, "198.18.0.2")
                  .tcp(port, 443)
                  .flags(kSyn)
                  .seq(100)
                  .mss(1460)
                  .sack_perm()
                  .timestamps(1, 0)
                  .wscale(7)
                  .build());
  run(ingress, in(kSyn | kAck, 500, 101, ""));
  run(egress, out(kAck | kPsh, 101, 501, "GET / HTTP/1.1\r\nHost: web.lab\r\n\r\n"));
  run(ingress, in(kAck | kPsh, 501, 134, "HTTP/1.1 200 OK\r\n\r\n"));
  run(egress, out(kFin | kAck, 134, 520, ""));
  run(ingress, in(kFin | kAck, 520, 135, ""));
  run(ingress, in(kRst, 521, 0, "reset by bench"));
}

// This thread's CPU time: on a shared machine the wall clock also counts
// the time other processes held the core.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = argc > 1 ? static_cast<uint32_t>(std::stoul(argv[1])) : 50000;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  sched_setaffinity(0, sizeof(one), &one);

  kernel::set_libbpf_verbose(false);
  kernel::CaptureConfig cfg;
  cfg.xdp = kernel::XdpMode::off;
  cfg.ring_bytes = 512u << 20;
  cfg.max_flows = 1u << 20;
  cfg.local_resets = false;
  auto cap = kernel::Capture::open(cfg);
  if (!cap) {
    std::cerr << "eventbench: " << cap.error().message << "\n";
    return 1;
  }
  int egress = cap.value()->program_fd("rh_tc_egress"), ingress = cap.value()->program_fd("rh_tc_ingress");
  for (uint32_t i = 0; i < flows; i++) connection(egress, ingress, i);
  auto k = cap.value()->counters();
  if (k[RH_C_LOST_RINGBUF]) {
    std::cerr << "eventbench: the ring buffer overflowed while filling; use fewer flows\n";
    return 1;
  }

  auto sink = output::FileSink::open("/dev/null");
  if (!sink) return 1;
  output::Writer writer(std::move(sink.value()), output::Format::json);
  output::Context ctx{"bench", WallClock::calibrate(), {}};
  pipeline::Pipeline::Options po;
  po.timeline.max_flows = 1u << 20;
  po.engine.local_events = false;  // cfg.local_resets = false
  po.packet_lines = true;          // --packets: every event is a line
  po.start_ns = monotonic_now_ns();
  kernel::Capture& capture = *cap.value();
  pipeline::Pipeline pipe(
      po, &writer, ctx, [&](const rh_flow_key& key) { return capture.lookup_flow(key); },
      [&] {
        return pipeline::Counters{capture.counters(), capture.malformed_records()};
      });
  kernel::Capture::Handler h = [&](const flow::Packet& p) { pipe.add(p); };
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_s();
  while (pipe.ok()) {
    auto n = capture.drain(h);
    if (!n) {
      std::cerr << "eventbench: " << n.error().message << "\n";
      return 1;
    }
    pipe.advance(monotonic_now_ns());
    pipe.flush();  // as rsthop trace does after every batch
    if (n.value() == 0) break;
  }
  uint64_t now = monotonic_now_ns();
  pipe.finish(now, (now - po.start_ns) / 1e9);
  if (!pipe.ok()) {
    std::cerr << "eventbench: " << pipe.status().error().message << "\n";
    return 1;
  }
  const uint64_t events = pipe.userspace().events_received;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = thread_cpu_s() - cpu0;
  std::printf("{\"userspace_events_per_s\": %.0f, \"userspace_events_per_cpu_s\": %.0f, \"events\": %llu}\n",
              events / s, events / cpu, static_cast<unsigned long long>(events));
  return events == static_cast<uint64_t>(k[RH_C_EVENTS]) ? 0 : 1;
}
