// bpfbench: nanoseconds per packet of rsthop's XDP and tc programs, measured
// with BPF_PROG_TEST_RUN, next to empty programs of the same types so the
// added cost can be read off.  Prints one JSON object on stdout (the BENCH
// numbers of scripts/bench.sh); diagnostics go to stderr.
//
// Each number is the median of --runs runs of --repeat iterations; one run's
// value is the time of the syscall divided by the iterations, which keeps
// sub-nanosecond resolution (the kernel's own `duration` is an integer
// average).  The time is the calling thread's CPU time by default (--clock
// cpu): on a shared machine wall time also counts the time other tasks held
// the CPU, which made the empty program read 20 ns idle and 650 ns at load
// average 13; --clock wall gives the old measure.  It also prints the
// verifier's processed instructions per packet program and the object's load
// time (the part of diagnose's time to verdict the verifier takes).  Every scenario checks the counters afterwards, so
// a number is only printed when the intended path ran: filtered packets were filtered, data packets emitted nothing,
// and every control packet produced an event (no ring-buffer loss: a consumer thread drains the ring as rsthop does).
//
// A run is made of test runs of at most --chunk iterations (default: what a quarter of the ring holds), their times
// summed.  Between two chunks of control packets the benchmark waits, untimed, until the consumer has emptied the
// ring, so a slow or descheduled consumer never makes the producer take the ring-full path: the time measured is the
// successful reserve into the ring of rsthop's size (--ring-bytes, default the product's 16 MiB).
//
// Usage: bpfbench [--repeat N] [--runs N] [--chunk N] [--ring-bytes N] [--drain poll|spin|none] [--clock cpu|wall]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_empty.skel.h"
#include "bpf/abi.h"
#include "kernel/ring.h"
#include "rsthop.skel.h"
#include "tests/common/packet_builder.h"
#include "tools/bpfbench/stage.h"

namespace {

using rsthop::test::Bytes;
using rsthop::test::PacketBuilder;

// How the ring buffer is emptied while control packets are measured.
enum class Drain {
  Poll,  // a consumer thread in ring_buffer__poll(): woken by cfg_wakeup_bytes, like rsthop
  Spin,  // a consumer thread busy-polling ring_buffer__consume(): worst cache-line ping-pong
  None,  // no consumer during a chunk: the ring is drained between chunks
};

struct Options {
  int repeat = 1000000;
  int runs = 5;
  int chunk = 0;                    // iterations per test run; 0: ring_bytes / 4 / 512 (a quarter of the ring)
  uint32_t ring_bytes = 16u << 20;  // the events ring, as rsthop sizes it by default (CaptureConfig::ring_bytes)
  Drain drain = Drain::Poll;
  clockid_t clock = CLOCK_THREAD_CPUTIME_ID;
};

struct RsthopDeleter {
  void operator()(rsthop_bpf* s) const { rsthop_bpf__destroy(s); }
};
struct EmptyDeleter {
  void operator()(bench_empty_bpf* s) const { bench_empty_bpf__destroy(s); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};
using RsthopPtr = std::unique_ptr<rsthop_bpf, RsthopDeleter>;
using EmptyPtr = std::unique_ptr<bench_empty_bpf, EmptyDeleter>;
using RingPtr = std::unique_ptr<ring_buffer, RingDeleter>;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bpfbench: %s\n", why.c_str());
  std::exit(1);
}

uint64_t now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Which clock run_once() reads (--clock).
clockid_t g_clock = CLOCK_THREAD_CPUTIME_ID;

// One test run of `repeat` iterations; returns its time in ns (g_clock).
uint64_t test_run(int prog_fd, const Bytes& frame, int repeat, uint32_t want_retval) {
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
              .repeat = repeat);
  uint64_t t0 = now_ns(g_clock);
  int err = bpf_prog_test_run_opts(prog_fd, &opts);
  uint64_t t1 = now_ns(g_clock);
  if (err) die(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
  if (opts.retval != want_retval) die("unexpected verdict " + std::to_string(opts.retval));
  return t1 - t0;
}

// `repeat` iterations in test runs of at most `chunk`, `between` (untimed) after each; returns ns per iteration.
double run_once(int prog_fd, const Bytes& frame, int repeat, int chunk, uint32_t want_retval,
                const std::function<void()>& between = {}) {
  uint64_t ns = 0;
  for (int done = 0; done < repeat;) {
    int n = std::min(chunk, repeat - done);
    ns += test_run(prog_fd, frame, n, want_retval);
    done += n;
    if (between) between();
  }
  return static_cast<double>(ns) / repeat;
}

double median_of_runs(int prog_fd, const Bytes& frame, const Options& o, uint32_t want_retval, const char* name,
                      const std::function<void()>& between = {}) {
  std::vector<double> v;
  run_once(prog_fd, frame, 10000, o.chunk, want_retval, between);  // warm caches and the flow entry
  for (int i = 0; i < o.runs; i++) v.push_back(run_once(prog_fd, frame, o.repeat, o.chunk, want_retval, between));
  std::sort(v.begin(), v.end());
  std::fprintf(stderr, "%-16s runs:", name);
  for (double x : v) std::fprintf(stderr, " %.2f", x);
  std::fprintf(stderr, "  median %.2f ns\n", v[v.size() / 2]);
  return v[v.size() / 2];
}

std::vector<uint64_t> counters(rsthop_bpf* s) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<rh_counters> per_cpu(static_cast<size_t>(std::max(ncpu, 1)));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(s->maps.counters), &zero, per_cpu.data())) die("cannot read counters");
  std::vector<uint64_t> sum(RH_C_MAX, 0);
  for (const rh_counters& c : per_cpu)
    for (int i = 0; i < RH_C_MAX; i++) sum[static_cast<size_t>(i)] += c.c[i];
  return sum;
}

// Seconds the last load_rsthop() spent in rsthop_bpf__load (the verifier, mostly).
double g_load_s = 0;

RsthopPtr load_rsthop(bool filter_port_443, uint32_t ring_bytes) {
  RsthopPtr s(rsthop_bpf__open());
  if (!s) die(std::string("rsthop_bpf__open: ") + std::strerror(errno));
  if (filter_port_443) {
    s->rodata->cfg_filter_ports = 1;
    rh_port_bitmap_set(s->rodata->cfg_port_bitmap, 443);
  }
  if (bpf_map__set_max_entries(s->maps.events, ring_bytes)) die("cannot size the ring buffer");
  s->rodata->cfg_wakeup_bytes = ring_bytes / 8;  // as kernel::Capture sets it
  uint64_t t0 = now_ns();
  if (int err = rsthop_bpf__load(s.get())) die(std::string("rsthop_bpf__load: ") + std::strerror(-err));
  g_load_s = static_cast<double>(now_ns() - t0) / 1e9;
  return s;
}

// The verifier's processed instructions for a loaded program (bpf_prog_info.verified_insns).
uint32_t verified_insns(const bpf_program* prog) {
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) die("cannot read the program's info");
  return info.verified_insns;
}

// Drains the ring buffer on another CPU while the benchmark produces, like
// rsthop's consumer, so control packets take the successful reserve path.
class Drainer {
 public:
  // The consumer rsthop itself uses (userspace/kernel/ring.h), which
  // publishes its position once per batch.
  Drainer(rsthop_bpf* s, Drain mode) {
    auto rb = rsthop::kernel::RingConsumer::open(bpf_map__fd(s->maps.events));
    if (!rb) die(rb.error().message);
    rb_ = std::move(rb.value());
    if (mode == Drain::None) return;
    thread_ = std::thread([this, mode] {
      pin_to_cpu(1);
      while (!stop_.load(std::memory_order_relaxed)) {
        if (mode == Drain::Spin)
          rb_->consume(count_);
        else
          (void)rb_->poll(10, count_);
      }
      rb_->consume(count_);
    });
  }
  ~Drainer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Returns once `events` records (every event the object emitted so far) were consumed: drains the ring here
  // (Drain::None) or waits for the consumer thread, untimed, for at most 10 s.
  void catch_up(uint64_t events) {
    if (!thread_.joinable()) {
      rb_->consume(count_);
    } else {
      for (int i = 0; i < 100000 && seen_.load() < events; i++)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (seen_.load() != events)
      die("the ring consumer saw " + std::to_string(seen_.load()) + " records of " + std::to_string(events) +
          " events");
  }

  static void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % std::max(1, static_cast<int>(std::thread::hardware_concurrency())), &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  }

 private:
  std::unique_ptr<rsthop::kernel::RingConsumer> rb_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> seen_{0};
  rsthop::kernel::RingConsumer::Handler count_ = [this](const void*, size_t) {
    seen_.fetch_add(1, std::memory_order_relaxed);
  };
  std::thread thread_;
};

struct Frames {
  Bytes empty;     // any 74-byte frame
  Bytes filtered;  // 74 bytes, to port 80
  Bytes syn;       // creates the tracked flow
  Bytes data;      // 74 bytes: 20 payload bytes of the tracked flow, ACK only (a bulk segment)
  Bytes data_psh;  // the same with PSH (the end of a write: the clock is read)
  Bytes rst;       // 74 bytes: RST + 20 payload bytes of the tracked flow
};

Frames make_frames() {
  const std::string twenty(20, 'x');
  auto base = [](uint16_t dport) {
    return PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").ttl(64).df().tcp(40000, dport);
  };
  Frames f;
  f.syn = base(443).flags(rsthop::test::kSyn).seq(1000).mss(1460).sack_perm().timestamps(1, 0).nop().wscale(7).build();
  f.data = base(443).flags(rsthop::test::kAck).seq(1001).ack(1).payload(twenty).build();
  f.data_psh = base(443).flags(rsthop::test::kAck | rsthop::test::kPsh).seq(1001).ack(1).payload(twenty).build();
  f.rst = base(443).flags(rsthop::test::kRst | rsthop::test::kAck).seq(1021).ack(1).payload(twenty).build();
  f.filtered = base(80).flags(rsthop::test::kAck | rsthop::test::kPsh).seq(1001).ack(1).payload(twenty).build();
  f.empty = f.data;
  for (const Bytes* b : {&f.syn, &f.data, &f.data_psh, &f.rst, &f.filtered})
    if (b->size() != 74) die("frame is not 74 bytes");
  return f;
}

uint64_t delta(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b, int idx) {
  return b[static_cast<size_t>(idx)] - a[static_cast<size_t>(idx)];
}

struct HookResult {
  double empty = 0, filtered = 0, data = 0, data_psh = 0, control = 0;
};

HookResult bench_hook(bool xdp, const Options& o, const Frames& f, bench_empty_bpf* empty, rsthop_bpf* filt,
                      rsthop_bpf* main_skel, Drainer& drainer) {
  const char* h = xdp ? "xdp" : "tc";
  const uint32_t pass = xdp ? XDP_PASS : 0;
  auto fd_of = [&](rsthop_bpf* s) { return bpf_program__fd(xdp ? s->progs.rh_xdp : s->progs.rh_tc_ingress); };
  HookResult r;
  const uint64_t total = static_cast<uint64_t>(o.runs) * static_cast<uint64_t>(o.repeat) + 10000;
  r.empty = median_of_runs(bpf_program__fd(xdp ? empty->progs.bench_xdp_empty : empty->progs.bench_tc_empty), f.empty,
                           o, pass, (std::string(h) + "_empty").c_str());

  auto c0 = counters(filt);
  r.filtered = median_of_runs(fd_of(filt), f.filtered, o, pass, (std::string(h) + "_filtered").c_str());
  auto c1 = counters(filt);
  if (delta(c0, c1, RH_C_FILTERED) != total) die(std::string(h) + "_filtered: the filter did not reject every packet");

  // The tracked flow: its SYN, then its first data packet (which emits the
  // payload event); every later data packet is the fast path measured.
  test_run(fd_of(main_skel), f.syn, 1, pass);
  test_run(fd_of(main_skel), f.data, 1, pass);
  auto c2 = counters(main_skel);
  r.data = median_of_runs(fd_of(main_skel), f.data, o, pass, (std::string(h) + "_data").c_str());
  auto c3 = counters(main_skel);
  if (delta(c2, c3, RH_C_EVENTS) != 0 || delta(c2, c3, RH_C_FLOW_NEW) != 0 || delta(c2, c3, RH_C_TCP) != total)
    die(std::string(h) + "_data: not the tracked-flow fast path (events or new flows appeared)");
  r.data_psh = median_of_runs(fd_of(main_skel), f.data_psh, o, pass, (std::string(h) + "_data_psh").c_str());
  c3 = counters(main_skel);

  r.control = median_of_runs(fd_of(main_skel), f.rst, o, pass, (std::string(h) + "_control").c_str(),
                             [&] { drainer.catch_up(counters(main_skel)[RH_C_EVENTS]); });
  auto c4 = counters(main_skel);
  uint64_t lost = delta(c3, c4, RH_C_LOST_RINGBUF);
  std::fprintf(stderr, "%s_control: events %llu, lost_ringbuf %llu\n", h,
               static_cast<unsigned long long>(delta(c3, c4, RH_C_EVENTS)), static_cast<unsigned long long>(lost));
  if (lost != 0)
    die(std::string(h) + "_control: " + std::to_string(lost) +
        " events lost to a full ring buffer; the number would measure the loss path, refusing to report it");
  if (delta(c3, c4, RH_C_EVENTS) != total) die(std::string(h) + "_control: not every RST emitted an event");
  return r;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if ((a == "--repeat" || a == "--runs" || a == "--chunk") && i + 1 < argc) {
      int v = std::atoi(argv[++i]);
      if (v <= 0) die("bad value for " + a);
      (a == "--repeat" ? o.repeat : a == "--runs" ? o.runs : o.chunk) = v;
    } else if (a == "--ring-bytes" && i + 1 < argc) {
      long long v = std::atoll(argv[++i]);
      if (v < 65536 || v > (1ll << 30) || (v & (v - 1))) die("--ring-bytes takes a power of two from 65536 to 2^30");
      o.ring_bytes = static_cast<uint32_t>(v);
    } else if (a == "--clock" && i + 1 < argc) {
      std::string m = argv[++i];
      if (m != "cpu" && m != "wall") die("--clock takes cpu or wall");
      o.clock = m == "cpu" ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
    } else if (a == "--drain" && i + 1 < argc) {
      std::string m = argv[++i];
      if (m != "poll" && m != "spin" && m != "none") die("--drain takes poll, spin or none");
      o.drain = m == "poll" ? Drain::Poll : m == "spin" ? Drain::Spin : Drain::None;
    } else {
      die("usage: bpfbench [--repeat N (default 1000000)] [--runs N (default 5)] [--chunk N] [--ring-bytes N] "
          "[--drain poll|spin|none] [--clock cpu|wall]");
    }
  }
  if (o.chunk == 0) o.chunk = static_cast<int>(o.ring_bytes / 4 / 512);  // a record is at most 336 bytes
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  libbpf_set_print([](enum libbpf_print_level level, const char* fmt, va_list ap) {
    return level <= LIBBPF_WARN ? std::vfprintf(stderr, fmt, ap) : 0;
  });
  // bpfbench --stage [--repeat N] [--runs N] [--batch N] [--timer-ns N] [--fill 0|1] [--output 0|1]: the staging
  // prototype (stage.cpp).
  if (argc > 1 && std::string(argv[1]) == "--stage") {
    int repeat = 300000, runs = 5;
    uint32_t batch = 16;
    uint64_t timer_ns = 0;
    bool fill = true, output = true;
    for (int i = 2; i + 1 < argc; i += 2) {
      std::string a = argv[i];
      long long v = std::atoll(argv[i + 1]);
      if (a == "--repeat" && v > 0)
        repeat = static_cast<int>(v);
      else if (a == "--runs" && v > 0)
        runs = static_cast<int>(v);
      else if (a == "--batch" && v > 0)
        batch = static_cast<uint32_t>(v);
      else if (a == "--timer-ns" && v >= 0)
        timer_ns = static_cast<uint64_t>(v);
      else if (a == "--fill" && (v == 0 || v == 1))
        fill = v == 1;
      else if (a == "--output" && (v == 0 || v == 1))
        output = v == 1;
      else
        die("usage: bpfbench --stage [--repeat N] [--runs N] [--batch N] [--timer-ns N] [--fill 0|1] [--output 0|1]");
    }
    Drainer::pin_to_cpu(0);
    return rsthop::bpfbench::run_stage(repeat, runs, batch, timer_ns, fill, output);
  }
  Options o = parse_args(argc, argv);
  g_clock = o.clock;
  // The producer runs on CPU 0, the ring consumer on CPU 1.
  Drainer::pin_to_cpu(0);

  EmptyPtr empty(bench_empty_bpf__open_and_load());
  if (!empty) die(std::string("bench_empty_bpf__open_and_load: ") + std::strerror(errno));
  RsthopPtr filt = load_rsthop(true, o.ring_bytes);
  RsthopPtr main_skel = load_rsthop(false, o.ring_bytes);
  const double load_s = g_load_s;
  const uint32_t xdp_insns = verified_insns(main_skel->progs.rh_xdp);
  const uint32_t tc_insns = verified_insns(main_skel->progs.rh_tc_ingress);
  Frames f = make_frames();

  HookResult x, t;
  {
    Drainer drain(main_skel.get(), o.drain);
    x = bench_hook(true, o, f, empty.get(), filt.get(), main_skel.get(), drain);
  }
  {
    // A fresh instance, so tc starts from the same empty flow table.
    RsthopPtr tc_skel = load_rsthop(false, o.ring_bytes);
    Drainer drain(tc_skel.get(), o.drain);
    t = bench_hook(false, o, f, empty.get(), filt.get(), tc_skel.get(), drain);
  }
  std::printf(
      "{\"xdp_empty_ns\": %.2f, \"xdp_filtered_ns\": %.2f, \"xdp_data_ns\": %.2f, \"xdp_control_ns\": %.2f, "
      "\"tc_empty_ns\": %.2f, \"tc_filtered_ns\": %.2f, \"tc_data_ns\": %.2f, \"tc_control_ns\": %.2f, "
      "\"xdp_data_psh_ns\": %.2f, \"tc_data_psh_ns\": %.2f, \"xdp_verified_insns\": %u, \"tc_verified_insns\": %u, "
      "\"bpf_load_s\": %.3f}\n",
      x.empty, x.filtered, x.data, x.control, t.empty, t.filtered, t.data, t.control, x.data_psh, t.data_psh, xdp_insns,
      tc_insns, load_s);
  std::fprintf(stderr,
               "added over empty: xdp filtered %+.2f data %+.2f control %+.2f | "
               "tc filtered %+.2f data %+.2f control %+.2f ns\n",
               x.filtered - x.empty, x.data - x.empty, x.control - x.empty, t.filtered - t.empty, t.data - t.empty,
               t.control - t.empty);
  return 0;
}
