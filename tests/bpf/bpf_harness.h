// The real rsthop BPF object, loaded through its skeleton, driven with
// BPF_PROG_TEST_RUN: run one frame through one hook, then read what the
// programs left behind (ring-buffer events, per-CPU counters, the flows map).
// Events are drained through the product's own ring consumer
// (kernel/ring.h), so every table row exercises it too.  Shared by the tests
// in this directory; needs root (see privileged.h).
#ifndef RSTHOP_TESTS_BPF_HARNESS_H
#define RSTHOP_TESTS_BPF_HARNESS_H

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bpf/abi.h"
#include "flow/completion.h"
#include "flow/timeline.h"
#include "tests/common/packet_builder.h"

struct rsthop_bpf;

namespace rsthop::kernel {
class RingConsumer;
}

namespace rsthop::test {

enum class Hook { Xdp, TcIngress, TcEgress };

const char* hook_name(Hook hook);
uint8_t abi_hook(Hook hook);       // enum rh_hook
uint32_t pass_verdict(Hook hook);  // XDP_PASS (2) or TC_ACT_OK (0)

using Counters = std::array<uint64_t, RH_C_MAX>;

const char* counter_name(int idx);

struct RunResult {
  int err = 0;          // bpf_prog_test_run_opts() return (negative errno)
  uint32_t retval = 0;  // the program's verdict
};

// One event as the ring buffer delivered it: the record's bytes (a prefix of
// rh_event sized for its kind, see abi.h) and the event rh_record_decode()
// makes of it, as the capture does.
struct RawEvent {
  std::vector<uint8_t> bytes;
  rh_event decoded{};
  std::vector<uint8_t> data;  // RH_EV_PAYLOAD: the captured first bytes
  bool decode_ok = false;
  const rh_event& ev() const { return decoded; }
};

class BpfHarness {
 public:
  // Called between rsthop_bpf__open() and rsthop_bpf__load(), to set rodata.
  using Configure = std::function<void(struct ::rsthop_bpf*)>;

  // nullptr and *error set when the object cannot be opened or loaded.
  static std::unique_ptr<BpfHarness> load(const Configure& configure, std::string* error);
  ~BpfHarness();
  BpfHarness(const BpfHarness&) = delete;
  BpfHarness& operator=(const BpfHarness&) = delete;

  struct ::rsthop_bpf* skel() {
    return skel_;
  }

  // Runs `frame` once through the program of `hook` (optionally with a
  // __sk_buff ctx for the tc hooks, e.g. to set gso_segs).
  RunResult run(Hook hook, const Bytes& frame, uint32_t gso_segs = 0);

  std::vector<RawEvent> drain_events();
  Counters counters();
  std::optional<rh_flow_state> flow(const rh_flow_key& key);
  std::vector<rh_flow_key> flow_keys();
  void clear_flows();
  // Forget flows and pending events, so a test starts from a clean table.
  void reset();

 private:
  BpfHarness() = default;
  struct ::rsthop_bpf* skel_ = nullptr;
  std::unique_ptr<kernel::RingConsumer> ring_;
  // Drained records are completed as the pipeline's Timeline completes them (one FlowCompletion per flow).
  std::unordered_map<rh_flow_key, flow::FlowCompletion, flow::KeyHash, flow::KeyEq> completer_;
};

// The canonical key of (saddr, sport) -> (daddr, dport), computed by the very
// parse.h code the kernel runs, and the sender's side.
rh_flow_key canonical_key(std::string_view saddr, uint16_t sport, std::string_view daddr, uint16_t dport,
                          uint8_t* side = nullptr);

uint64_t monotonic_ns();

}  // namespace rsthop::test

#endif  // RSTHOP_TESTS_BPF_HARNESS_H
