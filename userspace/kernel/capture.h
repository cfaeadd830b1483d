// The kernel room: loads the rsthop BPF object, attaches it (XDP link, tcx
// links, clsact as a fallback), drains the ring buffer and reads counters and
// flow state.  It knows nothing of attribution: it hands decoded events to a
// consumer.  Everything it attaches it owns; destroying a Capture detaches it
// (and the kernel removes XDP/tcx links if the process dies).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/abi.h"
#include "common/addr.h"
#include "common/result.h"
#include "flow/model.h"

namespace rsthop::kernel {

// automatic: native XDP, except on veth, where tc ingress stands in from the
// start (a veth with an XDP program copies nearly every packet it receives
// into a buffer with XDP's headroom; tc ingress sees the same packets
// without it: ~4 % of bulk TCP throughput on the lab's veth, docs/BENCHMARKS.md
// session 17).  native falls back to generic when the driver lacks it.
enum class XdpMode { automatic, native, generic, off };

struct CaptureConfig {
  std::vector<std::string> interfaces;
  XdpMode xdp = XdpMode::automatic;
  std::vector<Cidr> hosts;      // empty: every host
  std::vector<uint16_t> ports;  // empty: every port
  uint32_t ring_bytes = 16u << 20;
  uint32_t max_flows = 65536;
  bool local_resets = true;  // tp_btf programs on tcp_send_reset / tcp_receive_reset
  bool clsact = false;       // tc through clsact filters even where tcx links exist
  bool frames = false;       // --pcap-out: the kernel also hands over the first bytes of each event's frame
  // Verify rh_tc_egress on a second thread while the other programs are verified (kernel/loader.h).
  bool parallel_load = false;
};

// The first bytes of the frame behind the event just handed over (CaptureConfig.frames).
struct FrameRecord {
  uint64_t ts_ns = 0;  // the event's (CLOCK_MONOTONIC)
  uint32_t ifindex = 0;
  uint8_t hook = 0;  // enum rh_hook
  uint32_t wire_len = 0;
  std::span<const uint8_t> bytes;  // from the frame's first byte (Ethernet); valid during the call
};

// How one program ended up attached, for the user and for tests.
struct Attachment {
  std::string interface;
  uint32_t ifindex = 0;
  std::string hook;  // "xdp", "tc-ingress", "tc-egress"
  std::string mode;  // "native", "generic", "tcx", "clsact"
  // Set when this hook stands in for XDP: why XDP could not be attached
  // ("another XDP program is attached there").  The hook is then "tc-ingress".
  std::string fallback;
};

class Capture {
 public:
  // The packet is the capture's own, reused for the next record: the handler may
  // complete its flow state in place (pipeline::Pipeline::add).
  using Handler = std::function<void(flow::Packet&)>;
  using FrameHandler = std::function<void(const FrameRecord&)>;

  // Opens, configures and loads the object; nothing is attached yet.
  static Result<std::unique_ptr<Capture>> open(const CaptureConfig& cfg);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // XDP that cannot be attached (another program holds the interface, or
  // the driver refuses) falls back to tc ingress, with a notice.
  Result<void> attach();
  // Detaches every program this Capture attached (idempotent).
  void detach();

  // Waits up to timeout_ms for events and hands each to `h`; returns the count.
  Result<int> poll(int timeout_ms, const Handler& h);
  // Hands over whatever is queued without waiting.
  Result<int> drain(const Handler& h);

  // Receives the frame records (CaptureConfig.frames); events still go to the poll/drain handler.
  void set_frame_handler(FrameHandler h);

  std::array<uint64_t, RH_C_MAX> counters() const;
  std::optional<rh_flow_state> lookup_flow(const rh_flow_key& k) const;

  // A loaded program's fd by name ("rh_tc_egress"), for BPF_PROG_TEST_RUN in
  // benchmarks; -1 when it is not loaded.
  int program_fd(const std::string& name) const;

  const std::vector<Attachment>& attachments() const { return attached_; }
  // The tcp_send_reset / tcp_receive_reset tracepoints are attached.
  bool local_events() const;
  const std::vector<std::string>& notices() const { return notices_; }
  uint64_t malformed_records() const { return malformed_; }

 private:
  struct Impl;
  explicit Capture(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::vector<Attachment> attached_;
  std::vector<std::string> notices_;
  uint64_t malformed_ = 0;
};

// Routes libbpf's log to stderr when verbose, else keeps only what explains a failure.
void set_libbpf_verbose(bool verbose);

// What cleanup_leftovers removed.
struct Cleaned {
  int filters = 0;
  int qdiscs = 0;
};
// Removes clsact filters that carry rsthop's tag (left by a killed process on
// kernels without tcx), and the clsact qdiscs rsthop created for them (their
// filters' priority says so); a qdisc that was there before stays.
Result<Cleaned> cleanup_leftovers();

}  // namespace rsthop::kernel
