#include "bpf_harness.h"

#include "bpf/flow_key.h"
#include "bpf/record.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include "kernel/flow_tables.h"
#include "kernel/ring.h"
#include "rsthop.skel.h"

namespace rsthop::test {

namespace {
constexpr uint32_t kHarnessFlows = 4096;        // per table: flow_keys() walks every slot
constexpr uint64_t kHarnessSeed = 0x5eed5eedu;  // fixed, so a case's slots are the same each run
}  // namespace

const char* hook_name(Hook hook) {
  switch (hook) {
    case Hook::Xdp:
      return "xdp";
    case Hook::TcIngress:
      return "tc_ingress";
    case Hook::TcEgress:
      return "tc_egress";
  }
  return "?";
}

uint8_t abi_hook(Hook hook) {
  switch (hook) {
    case Hook::Xdp:
      return RH_HOOK_XDP;
    case Hook::TcIngress:
      return RH_HOOK_TC_INGRESS;
    case Hook::TcEgress:
      return RH_HOOK_TC_EGRESS;
  }
  return 0xff;
}

uint32_t pass_verdict(Hook hook) { return hook == Hook::Xdp ? XDP_PASS : 0 /* TC_ACT_OK */; }

const char* counter_name(int idx) {
  static const char* const names[RH_C_MAX] = {
      "packets",         "tcp",          "filtered",          "non_tcp",   "events",      "lost_ringbuf",
      "lost_flow_table", "flow_new",     "flow_midstream",    "trunc_l2",  "trunc_l3",    "trunc_l4",
      "malformed_l3",    "malformed_l4", "unsupported_encap", "fragments", "icmp_errors", "local_resets",
      "snap_truncated",
  };
  return idx >= 0 && idx < RH_C_MAX ? names[idx] : "?";
}

std::unique_ptr<BpfHarness> BpfHarness::load(const Configure& configure, std::string* error) {
  std::unique_ptr<BpfHarness> h(new BpfHarness());
  h->skel_ = rsthop_bpf__open();
  if (!h->skel_) {
    *error = std::string("rsthop_bpf__open: ") + std::strerror(errno);
    return nullptr;
  }
  kernel::size_flow_tables(h->skel_, kHarnessFlows, kHarnessSeed);  // small and fixed: cases repeat
  if (configure) configure(h->skel_);
  if (int err = rsthop_bpf__load(h->skel_)) {
    *error = std::string("rsthop_bpf__load: ") + std::strerror(-err);
    return nullptr;
  }
  auto ring = kernel::RingConsumer::open(bpf_map__fd(h->skel_->maps.events));
  if (!ring) {
    *error = "RingConsumer::open: " + ring.error().message;
    return nullptr;
  }
  h->ring_ = std::move(ring).value();
  return h;
}

BpfHarness::~BpfHarness() {
  ring_.reset();  // unmaps the ring before its map goes
  rsthop_bpf__destroy(skel_);
}

RunResult BpfHarness::run(Hook hook, const Bytes& frame, uint32_t gso_segs) {
  const bpf_program* prog = hook == Hook::Xdp         ? skel_->progs.rh_xdp
                            : hook == Hook::TcIngress ? skel_->progs.rh_tc_ingress
                                                      : skel_->progs.rh_tc_egress;
  __sk_buff skb_ctx;
  std::memset(&skb_ctx, 0, sizeof(skb_ctx));
  skb_ctx.gso_segs = gso_segs;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<__u32>(frame.size()),
              .repeat = 1);
  if (hook != Hook::Xdp && gso_segs) {
    opts.ctx_in = &skb_ctx;
    opts.ctx_size_in = sizeof(skb_ctx);
  }
  RunResult r;
  r.err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
  if (r.err) r.err = -errno;
  r.retval = opts.retval;
  return r;
}

std::vector<RawEvent> BpfHarness::drain_events() {
  std::vector<RawEvent> out;
  ring_->consume([this, &out](const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    RawEvent r;
    r.bytes.assign(p, p + size);
    const uint8_t* snap = nullptr;
    size_t n = 0;
    r.decode_ok = rh_record_decode(p, size, &r.decoded, &snap, &n) == 0;
    if (r.decode_ok) completer_[r.decoded.key].complete(r.decoded);  // as the Timeline reads them
    if (snap) r.data.assign(snap, snap + n);
    out.push_back(std::move(r));
  });
  return out;
}

Counters BpfHarness::counters() {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<rh_counters> per_cpu(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
  uint32_t zero = 0;
  Counters sum{};
  if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.counters), &zero, per_cpu.data())) return sum;
  for (const rh_counters& c : per_cpu)
    for (int i = 0; i < RH_C_MAX; i++) sum[static_cast<size_t>(i)] += c.c[i];
  return sum;
}

std::optional<rh_flow_state> BpfHarness::flow(const rh_flow_key& key) { return kernel::flow_lookup(*skel_, key); }

std::vector<rh_flow_key> BpfHarness::flow_keys() { return kernel::flow_keys(*skel_); }

void BpfHarness::clear_flows() {
  kernel::flow_clear(*skel_);
  completer_.clear();
}

void BpfHarness::reset() {
  clear_flows();
  drain_events();
  completer_.clear();
}

rh_flow_key canonical_key(std::string_view saddr, uint16_t sport, std::string_view daddr, uint16_t dport,
                          uint8_t* side) {
  // An oracle written apart from parse.h on purpose: memcmp order on the
  // 16-byte addresses, then ports.
  auto s = addr16(saddr), d = addr16(daddr);
  int cmp = std::memcmp(s.data(), d.data(), 16);
  bool src_is_a = cmp < 0 || (cmp == 0 && sport <= dport);
  rh_flow_key k;
  std::memset(&k, 0, sizeof(k));
  std::memcpy(k.addr_a, src_is_a ? s.data() : d.data(), 16);
  std::memcpy(k.addr_b, src_is_a ? d.data() : s.data(), 16);
  k.port_a = src_is_a ? sport : dport;
  k.port_b = src_is_a ? dport : sport;
  k.family = parse_addr(saddr).size() == 4 ? 4 : 6;
  if (side) *side = src_is_a ? RH_SIDE_A : RH_SIDE_B;
  return k;
}

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace rsthop::test
