// Both roads against each other: every frame of the BPF tables (tracking,
// parsing, filter) runs through the real object with BPF_PROG_TEST_RUN and
// through pcap::Tracker, and the two must agree on every event, field by
// field, on the counters and on the flow table.  A difference fails at once,
// naming the hook, the case, the frame and the field.
//
// Timestamps cannot be equal (the kernel reads CLOCK_MONOTONIC, the Tracker
// is given the frame's number as its clock), so each kernel timestamp is
// mapped to the frame whose test run it falls in, and must name the frame
// the Tracker's names.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "bpf_harness.h"
#include "case_table.h"
#include "pcap/tracker.h"
#include "tests/common/privileged.h"

namespace rsthop::test {
namespace {

constexpr Hook kHooks[] = {Hook::Xdp, Hook::TcIngress, Hook::TcEgress};

// Frame i (0-based) ran in [start[i], end[i]]; the Tracker's clock for it is i + 1.
struct Clock {
  std::vector<uint64_t> start, end;
  // The frame number a kernel timestamp belongs to (0 stays 0, "not seen").
  uint64_t frame_of(uint64_t ts) const {
    if (ts == 0) return 0;
    for (size_t i = 0; i < start.size(); i++)
      if (ts >= start[i] && ts <= end[i]) return i + 1;
    return UINT64_MAX;  // outside every run: never equal to a Tracker time
  }
};

std::string hex(const void* p, size_t n) {
  std::ostringstream o;
  const auto* b = static_cast<const uint8_t*>(p);
  for (size_t i = 0; i < n; i++) o << "0123456789abcdef"[b[i] >> 4] << "0123456789abcdef"[b[i] & 15];
  return o.str();
}

// Collects the first difference only.
class Diff {
 public:
  template <class T>
  void eq(const char* field, const T& kernel, const T& tracker) {
    if (first_.empty() && !(kernel == tracker))
      first_ = std::string(field) + ": kernel " + std::to_string(+kernel) + ", tracker " + std::to_string(+tracker);
  }
  void bytes(const char* field, const void* kernel, const void* tracker, size_t n) {
    if (first_.empty() && std::memcmp(kernel, tracker, n) != 0)
      first_ = std::string(field) + ": kernel " + hex(kernel, n) + ", tracker " + hex(tracker, n);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

#define RH_EQ(d, a, b, f) (d).eq(#f, (a).f, (b).f)
#define RH_BYTES(d, a, b, f) (d).bytes(#f, &(a).f, &(b).f, sizeof((a).f))

// The flow state's timestamps, as frame numbers (kernel) or as they are (Tracker).
rh_flow_state with_frames(rh_flow_state st, const Clock* clock) {
  if (!clock) return st;
  st.ts_syn = clock->frame_of(st.ts_syn);
  st.ts_synack = clock->frame_of(st.ts_synack);
  for (int s = 0; s < 2; s++) {
    st.ts_first_payload[s] = clock->frame_of(st.ts_first_payload[s]);
    st.ts_last_payload[s] = clock->frame_of(st.ts_last_payload[s]);
    st.ts_fin[s] = clock->frame_of(st.ts_fin[s]);
    st.ts_rst[s] = clock->frame_of(st.ts_rst[s]);
  }
  return st;
}

void compare_flow(Diff& d, const rh_flow_state& kernel, const rh_flow_state& tracker, const Clock& clock) {
  const rh_flow_state a = with_frames(kernel, &clock), b = tracker;
  RH_EQ(d, a, b, ts_syn);
  RH_EQ(d, a, b, ts_synack);
  for (int s = 0; s < 2; s++) {
    RH_EQ(d, a, b, ts_first_payload[s]);
    RH_EQ(d, a, b, ts_last_payload[s]);
    RH_EQ(d, a, b, ts_fin[s]);
    RH_EQ(d, a, b, ts_rst[s]);
    RH_EQ(d, a, b, bytes[s]);
    RH_EQ(d, a, b, packets[s]);
    RH_EQ(d, a, b, rst_count[s]);
    RH_EQ(d, a, b, seq_next[s]);
    RH_EQ(d, a, b, ack_last[s]);
    RH_EQ(d, a, b, history[s]);
  }
  RH_EQ(d, a, b, syn_seq);
  RH_EQ(d, a, b, initiator);
  RH_EQ(d, a, b, peer_ttl);
  RH_EQ(d, a, b, peer_ip_id);
  RH_EQ(d, a, b, peer_window);
  RH_BYTES(d, a, b, peer_mac);
  RH_EQ(d, a, b, init_ttl);
  RH_EQ(d, a, b, pure_ack);
  RH_EQ(d, a, b, init_ip_id);
  RH_EQ(d, a, b, init_window);
  RH_BYTES(d, a, b, init_mac);
  // Whatever a field list above misses (a field added later).
  d.bytes("flow (all bytes)", &a, &b, sizeof(a));
}

void compare_event(Diff& d, const RawEvent& raw, const flow::Packet& pk, const Clock& clock) {
  const rh_event& a = raw.ev();
  const rh_event& b = pk.ev;
  d.eq("decode_ok", raw.decode_ok, true);
  d.eq("ts_ns (as frame number)", clock.frame_of(a.ts_ns), static_cast<uint64_t>(b.ts_ns));
  RH_EQ(d, a, b, ifindex);
  RH_EQ(d, a, b, kind);
  RH_EQ(d, a, b, hook);
  RH_EQ(d, a, b, family);
  RH_EQ(d, a, b, side);
  RH_BYTES(d, a, b, saddr);
  RH_BYTES(d, a, b, daddr);
  RH_EQ(d, a, b, sport);
  RH_EQ(d, a, b, dport);
  RH_EQ(d, a, b, seq);
  RH_EQ(d, a, b, ack);
  RH_EQ(d, a, b, window);
  RH_EQ(d, a, b, tcp_flags);
  RH_EQ(d, a, b, ttl);
  RH_EQ(d, a, b, ip_id);
  RH_EQ(d, a, b, ip_len);
  RH_EQ(d, a, b, ip_flags);
  RH_EQ(d, a, b, opts);
  RH_EQ(d, a, b, wscale);
  RH_EQ(d, a, b, vlan_depth);
  RH_EQ(d, a, b, mss);
  RH_EQ(d, a, b, payload_len);
  RH_EQ(d, a, b, tsval);
  RH_EQ(d, a, b, tsecr);
  RH_BYTES(d, a, b, smac);
  RH_BYTES(d, a, b, dmac);
  RH_EQ(d, a, b, snap_len);
  RH_EQ(d, a, b, reason);
  compare_flow(d, a.flow, b.flow, clock);
  if (a.kind == RH_EV_RST && a.snap_len == b.snap_len && a.snap_len <= RH_RST_PAYLOAD_MAX)
    d.bytes("payload", a.payload, b.payload, a.snap_len);
  RH_EQ(d, a, b, icmp_type);
  RH_EQ(d, a, b, icmp_code);
  RH_EQ(d, a, b, inner_ttl);
  RH_BYTES(d, a, b, inner_saddr);
  RH_BYTES(d, a, b, inner_daddr);
  RH_EQ(d, a, b, inner_sport);
  RH_EQ(d, a, b, inner_dport);
  RH_EQ(d, a, b, inner_seq);
  RH_BYTES(d, a, b, key);
  d.eq("data.size()", raw.data.size(), pk.data.size());
  if (raw.data.size() == pk.data.size() && !raw.data.empty())
    d.bytes("data", raw.data.data(), pk.data.data(), raw.data.size());
}

// Every flow either road holds, the other holds alike.
void compare_tables(Diff& d, BpfHarness& h, const pcap::Tracker& t, const Clock& clock) {
  std::vector<rh_flow_key> keys = h.flow_keys();
  d.eq("flow table size", keys.size(), t.flow_count());
  for (const rh_flow_key& k : keys) {
    auto ks = h.flow(k);
    auto ts = t.lookup(k);
    d.eq("flow table: tracker has the kernel's flow", ts.has_value(), true);
    if (ks && ts) compare_flow(d, *ks, *ts, clock);
  }
}

// Runs the row's frames (setup, then the frame under test) through both roads.
void compare_roads(BpfHarness& h, Hook hook, const Case& c, const pcap::Tracker::Options& opt) {
  h.reset();
  pcap::Tracker tracker(opt);
  Counters before = h.counters();
  Clock clock;
  std::vector<Bytes> frames = c.setup;
  frames.push_back(c.frame);
  for (size_t i = 0; i < frames.size(); i++) {
    const bool last = i + 1 == frames.size();
    const uint32_t gso = last ? c.gso_segs : 0;
    const std::string where = std::string(hook_name(hook)) + " " + c.name + ", frame " + std::to_string(i);
    clock.start.push_back(monotonic_ns());
    RunResult r = h.run(hook, frames[i], gso);
    clock.end.push_back(monotonic_ns());
    ASSERT_EQ(r.err, 0) << where;
    std::vector<RawEvent> kernel = h.drain_events();

    pcap::FrameInfo info;
    info.ts_ns = i + 1;
    info.hook = abi_hook(hook);
    info.ifindex = 1;  // test_run frames arrive on loopback
    info.segs = hook != Hook::Xdp && gso ? gso : 1;
    std::optional<flow::Packet> offline = tracker.feed(frames[i], info);

    ASSERT_EQ(kernel.size(), offline ? 1u : 0u) << where << ": events (kernel vs tracker)";
    Diff d;
    if (offline) compare_event(d, kernel[0], *offline, clock);
    ASSERT_EQ(d.first(), "") << where << ": first differing field";
  }
  Counters after = h.counters();
  for (int i = 0; i < RH_C_MAX; i++)
    ASSERT_EQ(after[static_cast<size_t>(i)] - before[static_cast<size_t>(i)], tracker.counters().c[i])
        << hook_name(hook) << " " << c.name << ": counter " << counter_name(i) << " (kernel vs tracker)";
  Diff d;
  compare_tables(d, h, tracker, clock);
  ASSERT_EQ(d.first(), "") << hook_name(hook) << " " << c.name << ": flow table";
}

pcap::Tracker::Options tracker_options(bool filter) {
  pcap::Tracker::Options o;
  if (filter) {
    o.filter.hosts = filter_hosts();
    o.filter.ports = filter_ports();
  }
  return o;
}

void run_table(bool filter, const std::vector<Case>& rows) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string error;
  BpfHarness* h = shared_harness(filter, error);
  ASSERT_NE(h, nullptr) << "cannot load rsthop.bpf.o: " << error;
  ASSERT_FALSE(rows.empty()) << "the table is empty";
  const pcap::Tracker::Options opt = tracker_options(filter);
  for (Hook hook : kHooks) {
    for (const Case& c : rows) {
      compare_roads(*h, hook, c, opt);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// The truncation table: a SYN cut at every length.  Lengths the kernel
// refuses to run (EINVAL below its minimum) have nothing to compare.
TEST(Roads, TruncationTable) {
  RSTHOP_REQUIRE_PRIVILEGED();
  std::string error;
  BpfHarness* h = shared_harness(false, error);
  ASSERT_NE(h, nullptr) << "cannot load rsthop.bpf.o: " << error;
  size_t compared = 0;
  for (Hook hook : kHooks) {
    for (const TruncBase& base : trunc_bases()) {
      for (size_t len = 0; len < base.frame.size(); len++) {
        Case c;
        c.name = std::string(base.name) + "_cut_at_" + std::to_string(len);
        c.frame = truncate(base.frame, len);
        h->reset();
        if (h->run(hook, c.frame).err == -EINVAL) continue;
        compare_roads(*h, hook, c, tracker_options(false));
        if (HasFatalFailure()) return;
        compared++;
      }
    }
  }
  EXPECT_GT(compared, 100u) << "too few cut frames ran";
}

TEST(Roads, TrackingTable) { run_table(false, tracking_cases()); }
TEST(Roads, ParsingTable) { run_table(false, parsing_cases()); }
TEST(Roads, FilterTable) { run_table(true, filter_cases()); }

}  // namespace
}  // namespace rsthop::test
