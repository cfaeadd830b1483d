// eventbench: events per second from the ring buffer through the real
// consumer and the pipeline `rsthop trace` runs (Capture::drain ->
// pipeline::Pipeline: Engine::observe, the Timeline, each reset classified by
// the Engine with the OUI registry trace loads, flow, reset, lost and stats
// lines) and the NDJSON writer to /dev/null, on one core.  The kernel side
// fills the ring first with BPF_PROG_TEST_RUN on the real tc programs
// (untimed); then the drain is timed.  Three configurations, each its own
// keys (`events` is the count, `_per_s` wall clock, `_per_cpu_s` this
// thread's CPU time):
//   worst  every connection reset, a packet line per event (trace --packets):
//          userspace_events_per_s, userspace_events_per_cpu_s, events
//   trace  every connection reset, trace's default lines (no packet lines):
//          userspace_trace_events_per_s, ..._per_cpu_s, trace_events
//   mix    trace's default lines, 1 connection in 20 reset, the others closed
//          by FIN: userspace_mix_events_per_s, ..._per_cpu_s, mix_events
// Usage: eventbench [CONNECTIONS] [--only worst|trace|mix]
#include <bpf/bpf.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kernel/capture.h"
#include "oui/oui.h"
#include "output/event.h"
#include "output/sink.h"
#include "pipeline/pipeline.h"
#include "tests/common/packet_builder.h"

using namespace rsthop;
using test::PacketBuilder;

namespace {

struct Mode {
  const char* name;
  const char* prefix;  // of the keys: "userspace_" + prefix + "events_per_s"
  const char* count_key;
  bool packet_lines;
  uint32_t reset_every;  // 1: every connection; 20: one in 20
};

// `worst` keeps the keys scripts/bench.sh has always read.
constexpr Mode kModes[] = {
    {"worst", "", "events", true, 1},
    {"trace", "trace_", "trace_events", false, 1},
    {"mix", "mix_", "mix_events", false, 20},
};

bool run(int fd, const test::Bytes& frame) {
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame.data(), .data_size_in = static_cast<uint32_t>(frame.size()),
              .repeat = 1);
  return bpf_prog_test_run_opts(fd, &o) == 0;
}

// One connection's control packets and first payloads: 7 events when it is
// reset after its FINs, 6 when it closes with FIN and the last ACK.
void connection(int egress, int ingress, uint32_t i, bool reset) {
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
  if (reset) {
    run(ingress, in(kRst, 521, 0, "reset by bench"));
  } else {
    run(egress, out(kAck, 135, 521, ""));
  }
}

// This thread's CPU time: on a shared machine the wall clock also counts
// the time other processes held the core.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Rates {
  double wall = 0, cpu = 0;
  uint64_t events = 0;
};

// The timed loop, as rsthop trace's: drain a batch, run the schedule (a
// timeline tick when one is due: under callgrind the drain is slow enough
// that some resets are emitted there, not at finish), flush; then finish.
// One function, so that instructions.sh collects exactly it (callgrind's
// --toggle-collect on nested functions would switch collection off inside).
[[gnu::noinline]] bool timed_run(kernel::Capture& capture, pipeline::Pipeline& pipe, const kernel::Capture::Handler& h,
                                 uint64_t start_ns) {
  while (pipe.ok()) {
    auto n = capture.drain(h);
    if (!n) {
      std::cerr << "eventbench: " << n.error().message << "\n";
      return false;
    }
    pipe.advance(monotonic_now_ns());
    pipe.flush();  // as rsthop trace does after every batch
    if (n.value() == 0) break;
  }
  uint64_t now = monotonic_now_ns();
  pipe.finish(now, (now - start_ns) / 1e9);
  if (!pipe.ok()) {
    std::cerr << "eventbench: " << pipe.status().error().message << "\n";
    return false;
  }
  return true;
}

// Drain the filled ring through the pipeline, as rsthop trace's loop does.
std::optional<Rates> drain(kernel::Capture& capture, const Mode& mode, const oui::Registry* registry) {
  auto sink = output::FileSink::open("/dev/null");
  if (!sink) return std::nullopt;
  output::Writer writer(std::move(sink.value()), output::Format::json);
  output::Context ctx{"bench", WallClock::calibrate(), {}};
  pipeline::Pipeline::Options po;
  po.timeline.max_flows = 1u << 20;
  po.engine.local_events = false;  // cfg.local_resets = false
  po.registry = registry;
  po.packet_lines = mode.packet_lines;
  po.sink_stats = true;
  po.start_ns = monotonic_now_ns();
  pipeline::Pipeline pipe(
      po, &writer, ctx, [&](const rh_flow_key& key) { return capture.lookup_flow(key); },
      [&] {
        return pipeline::Counters{capture.counters(), capture.malformed_records()};
      });
  kernel::Capture::Handler h = [&](flow::Packet& p) { pipe.add(p); };
  auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_s();
  if (!timed_run(capture, pipe, h, po.start_ns)) return std::nullopt;
  Rates r;
  r.events = pipe.userspace().events_received;
  r.wall = r.events / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu = r.events / (thread_cpu_s() - cpu0);
  return r;
}

// A fresh capture (its own flow table) filled with `flows` connections, then drained.
std::optional<Rates> bench(const Mode& mode, uint32_t flows, const oui::Registry* registry) {
  kernel::CaptureConfig cfg;
  cfg.xdp = kernel::XdpMode::off;
  cfg.ring_bytes = 512u << 20;
  cfg.max_flows = 1u << 20;
  cfg.local_resets = false;
  auto cap = kernel::Capture::open(cfg);
  if (!cap) {
    std::cerr << "eventbench: " << cap.error().message << "\n";
    return std::nullopt;
  }
  int egress = cap.value()->program_fd("rh_tc_egress"), ingress = cap.value()->program_fd("rh_tc_ingress");
  for (uint32_t i = 0; i < flows; i++) connection(egress, ingress, i, i % mode.reset_every == 0);
  auto k = cap.value()->counters();
  if (k[RH_C_LOST_RINGBUF]) {
    std::cerr << "eventbench: the ring buffer overflowed while filling; use fewer connections\n";
    return std::nullopt;
  }
  auto r = drain(*cap.value(), mode, registry);
  if (r && r->events != static_cast<uint64_t>(k[RH_C_EVENTS])) {
    std::cerr << "eventbench: " << mode.name << " drained " << r->events << " events of " << k[RH_C_EVENTS] << "\n";
    return std::nullopt;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t flows = 50000;
  std::string only;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (!a.empty() && a.find_first_not_of("0123456789") == std::string::npos && a.size() < 10) {
      flows = static_cast<uint32_t>(std::stoul(a));
    } else {
      std::cerr << "eventbench: usage: eventbench [CONNECTIONS] [--only worst|trace|mix]\n";
      return 2;
    }
  }
  std::vector<const Mode*> modes;
  for (const Mode& m : kModes)
    if (only.empty() || only == m.name) modes.push_back(&m);
  if (modes.empty()) {
    std::cerr << "eventbench: --only takes worst, trace or mix, not '" << only << "'\n";
    return 2;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  sched_setaffinity(0, sizeof(one), &one);
  kernel::set_libbpf_verbose(false);
  auto registry = oui::Registry::load();  // as trace does; without ieee-data, no vendors
  const oui::Registry* reg = registry ? &registry.value() : nullptr;

  std::string line;
  for (const Mode* m : modes) {
    auto r = bench(*m, flows, reg);
    if (!r) return 1;
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "\"userspace_%sevents_per_s\": %.0f, \"userspace_%sevents_per_cpu_s\": %.0f, \"%s\": %llu", m->prefix,
                  r->wall, m->prefix, r->cpu, m->count_key, static_cast<unsigned long long>(r->events));
    line += (line.empty() ? "{" : ", ") + std::string(buf);
  }
  std::printf("%s}\n", line.c_str());
  return 0;
}
