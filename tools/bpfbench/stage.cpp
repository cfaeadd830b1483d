// bpfbench --stage: the per-CPU staging prototype of issue 14 (bpf/bench_stage.bpf.c).  Measures, interleaved in
// one process, the empty XDP program, a 184-byte record reserved and submitted per packet (rsthop's way), and the
// same record staged per CPU and flushed as one ring record per batch.  Prints one JSON object on stdout.
#include "tools/bpfbench/stage.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_empty.skel.h"
#include "bench_stage.skel.h"
#include "tests/common/packet_builder.h"

namespace rsthop::bpfbench {
namespace {

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "bpfbench --stage: %s\n", why.c_str());
  std::exit(1);
}

uint64_t cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct Ring {
  ring_buffer* rb = nullptr;
  uint64_t records = 0, bytes = 0;
  ~Ring() { ring_buffer__free(rb); }
};

int count_record(void* ctx, void*, size_t size) {
  auto* r = static_cast<Ring*>(ctx);
  r->records++;
  r->bytes += size;
  return 0;
}

// ns per packet of `repeat` iterations, in test runs of `chunk`, the ring drained (untimed) after each.
double run(int fd, const test::Bytes& frame, int repeat, int chunk, Ring& ring) {
  uint64_t ns = 0;
  for (int done = 0; done < repeat; done += chunk) {
    int n = std::min(chunk, repeat - done);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
                .repeat = n);
    uint64_t t0 = cpu_ns();
    if (bpf_prog_test_run_opts(fd, &opts)) fail(std::string("BPF_PROG_TEST_RUN: ") + std::strerror(errno));
    ns += cpu_ns() - t0;
    ring_buffer__consume(ring.rb);
  }
  return static_cast<double>(ns) / repeat;
}

// bench_stage.bpf.c's direct_index(): the slot of a 12-byte key in direct12.
uint32_t direct_index(const uint32_t k[3]) {
  uint64_t h = ((static_cast<uint64_t>(k[0]) << 32) | k[1]) * 0x9E3779B97F4A7C15ULL;
  h = (h ^ k[2]) * 0x9E3779B97F4A7C15ULL;
  return static_cast<uint32_t>(h >> 48) & (65536 - 1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int run_stage(int repeat, int runs, uint32_t batch, uint64_t timer_ns, bool fill, bool output) {
  std::unique_ptr<bench_empty_bpf, void (*)(bench_empty_bpf*)> empty(bench_empty_bpf__open_and_load(),
                                                                     bench_empty_bpf__destroy);
  if (!empty) fail("cannot load bench_empty");
  std::unique_ptr<bench_stage_bpf, void (*)(bench_stage_bpf*)> st(bench_stage_bpf__open(), bench_stage_bpf__destroy);
  if (!st) fail("cannot open bench_stage");
  if (batch < 1 || batch > 32) fail("--batch takes 1 to 32");
  st->rodata->cfg_batch = batch;
  st->rodata->cfg_timer_ns = timer_ns;
  st->rodata->cfg_fill = fill;
  st->rodata->cfg_output = output;
  if (bench_stage_bpf__load(st.get())) fail(std::string("cannot load bench_stage: ") + std::strerror(errno));
  Ring ring;
  ring.rb = ring_buffer__new(bpf_map__fd(st->maps.stage_ring), count_record, &ring, nullptr);
  if (!ring.rb) fail("cannot open the ring");

  test::Bytes frame = test::PacketBuilder().eth().ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 443).payload("x").build();
  const int chunk = 8192;  // 8192 x 184 bytes: under a tenth of the 16 MiB ring
  const int fd_empty = bpf_program__fd(empty->progs.bench_xdp_empty);
  const int fd_direct = bpf_program__fd(st->progs.stage_direct);
  const int fd_batch = bpf_program__fd(st->progs.stage_batch);
  const int fd_percpu = bpf_program__fd(st->progs.stage_percpu);
  const int fd_output = bpf_program__fd(st->progs.stage_output);
  std::vector<double> e, d, b, pc, po;
  run(fd_empty, frame, 10000, chunk, ring);
  run(fd_direct, frame, 10000, chunk, ring);
  run(fd_batch, frame, 10000, chunk, ring);
  for (int i = 0; i < runs; i++) {
    e.push_back(run(fd_empty, frame, repeat, chunk, ring));
    d.push_back(run(fd_direct, frame, repeat, chunk, ring));
    b.push_back(run(fd_batch, frame, repeat, chunk, ring));
    pc.push_back(run(fd_percpu, frame, repeat, chunk, ring));
    po.push_back(run(fd_output, frame, repeat, chunk, ring));
  }
  // The key-size pair: entries the programs' keys find (rx_queue_index is 0 under BPF_PROG_TEST_RUN).
  uint32_t k40[10] = {0, 0, 0xffff0000, 0x0100000a, 0, 0, 0xffff0000, 0x0200000a, (443u << 16) | 40000, 4};
  uint32_t k12[3] = {0x0100000a, 0x0200000a, (443u << 16) | 40000};
  uint64_t val[20] = {};
  if (bpf_map_update_elem(bpf_map__fd(st->maps.lru40), k40, val, BPF_ANY) ||
      bpf_map_update_elem(bpf_map__fd(st->maps.lru12), k12, val, BPF_ANY))
    fail("cannot insert the lookup entries");
  // The direct-mapped slot of the same key, at the index lookup_direct computes.
  {
    struct {
      uint32_t key[3], pad;
      uint64_t v[20];
    } slot{{k12[0], k12[1], k12[2]}, 0, {}};
    uint32_t idx = direct_index(k12);
    if (bpf_map_update_elem(bpf_map__fd(st->maps.direct12), &idx, &slot, BPF_ANY))
      fail("cannot fill the direct-mapped slot");
  }
  // Each run of a piece next to a run of the empty program (e2), so a slow phase of the machine hits both.
  std::vector<double> e2, l40, l12, ld, fc, fn;
  for (int i = 0; i < runs; i++) {
    e2.push_back(run(fd_empty, frame, repeat, chunk, ring));
    l40.push_back(run(bpf_program__fd(st->progs.lookup40), frame, repeat, chunk, ring));
    l12.push_back(run(bpf_program__fd(st->progs.lookup12), frame, repeat, chunk, ring));
    ld.push_back(run(bpf_program__fd(st->progs.lookup_direct), frame, repeat, chunk, ring));
    fc.push_back(run(bpf_program__fd(st->progs.floor_clock), frame, repeat, chunk, ring));
    fn.push_back(run(bpf_program__fd(st->progs.floor_counter), frame, repeat, chunk, ring));
  }
  if (st->bss->floor_last_ns == 0) fail("floor_clock did not run");
  std::fprintf(stderr, "floors: bpf_ktime_get_ns %+.2f, a per-CPU counter %+.2f ns over empty\n",
               median(fc) - median(e2), median(fn) - median(e2));
  uint64_t hits[2] = {};
  if (bpf_map_lookup_elem(bpf_map__fd(st->maps.lru40), k40, val) == 0) hits[0] = val[1];
  if (bpf_map_lookup_elem(bpf_map__fd(st->maps.lru12), k12, val) == 0) hits[1] = val[1];
  const uint64_t want = static_cast<uint64_t>(runs) * static_cast<uint64_t>(repeat);
  if (hits[0] != want || hits[1] != want) fail("a lookup program missed its entry");
  if (st->bss->direct_misses != 0) fail("lookup_direct missed its slot");
  std::fprintf(stderr, "lookup: 40-byte key %+.2f, 12-byte key %+.2f, direct-mapped array %+.2f ns over empty\n",
               median(l40) - median(e2), median(l12) - median(e2), median(ld) - median(e2));
  if (st->bss->stage_lost) fail(std::to_string(st->bss->stage_lost) + " records lost to a full ring");
  double me = median(e), md = median(d), mb = median(b);
  std::fprintf(
      stderr,
      "stage: empty %.2f, direct %+.2f, batch(%u) %+.2f, per-CPU mmapable ring %+.2f, one output call %+.2f ns "
      "over empty; %llu flushes, %llu records\n",
      me, md - me, batch, mb - me, median(pc) - me, median(po) - me,
      static_cast<unsigned long long>(st->bss->stage_flushes), static_cast<unsigned long long>(ring.records));
  std::printf(
      "{\"stage_empty_ns\": %.2f, \"stage_direct_ns\": %.2f, \"stage_batch_ns\": %.2f, \"stage_batch\": %u, "
      "\"empty2_ns\": %.2f, \"lookup40_ns\": %.2f, \"lookup12_ns\": %.2f, \"floor_clock_ns\": %.2f, "
      "\"floor_counter_ns\": %.2f, \"lookup_direct_ns\": %.2f, \"stage_percpu_ns\": %.2f, \"stage_output_ns\": %.2f}\n",
      me, md, mb, batch, median(e2), median(l40), median(l12), median(fc), median(fn), median(ld), median(pc),
      median(po));
  return 0;
}

}  // namespace rsthop::bpfbench
