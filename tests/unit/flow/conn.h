// Test helpers for the flow suite: a scripted TCP connection that builds real
// frames with the shared packet builder (sequence numbers follow the bytes and
// SYN/FIN sent), and a harness feeding them through the Replayer into a
// Timeline while collecting what it emits.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bpf/flow_key.h"
#include "flow/timeline.h"
#include "replay.h"
#include "tests/common/packet_builder.h"

namespace rsthop::test {

inline constexpr uint8_t kSynAck = kSyn | kAck;
inline constexpr uint8_t kData = kPsh | kAck;
inline constexpr uint8_t kFinAck = kFin | kAck;
inline constexpr uint8_t kRstAck = kRst | kAck;

inline constexpr Mac kClientMac = {0x02, 0xcc, 0, 0, 0, 0x01};
inline constexpr Mac kServerMac = {0x02, 0x55, 0, 0, 0, 0x02};

struct Conn {
  std::string client = "10.0.0.1";
  std::string server = "10.0.0.2";
  uint16_t cport = 40000;
  uint16_t sport = 443;
  uint32_t c_next = 1000;    // client's next sequence number (its ISN before the SYN)
  uint32_t s_next = 500000;  // server's
  uint8_t c_ttl = 64;
  uint8_t s_ttl = 57;
  uint16_t c_ip_id = 100;
  uint16_t s_ip_id = 7000;
  uint16_t c_window = 64240;
  uint16_t s_window = 65160;

  bool v6() const { return client.find(':') != std::string::npos; }

  // A segment from the client (c) or the server (s).  SYN and FIN consume one
  // sequence number, data its length; ack() is the peer's next when kAck is set.
  Bytes c(uint8_t flags, std::string_view data = {}) { return seg(true, flags, data); }
  Bytes s(uint8_t flags, std::string_view data = {}) { return seg(false, flags, data); }

  // The builder for the next client/server segment, for tests that tweak it.
  PacketBuilder builder(bool from_client, uint8_t flags, std::string_view data = {}) {
    PacketBuilder b;
    b.eth(from_client ? kClientMac : kServerMac, from_client ? kServerMac : kClientMac);
    const std::string& src = from_client ? client : server;
    const std::string& dst = from_client ? server : client;
    if (v6())
      b.ipv6(src, dst);
    else
      b.ipv4(src, dst).ip_id(from_client ? c_ip_id++ : s_ip_id++).df();
    b.ttl(from_client ? c_ttl : s_ttl);
    uint32_t& mine = from_client ? c_next : s_next;
    uint32_t peer = from_client ? s_next : c_next;
    b.tcp(from_client ? cport : sport, from_client ? sport : cport)
        .flags(flags)
        .seq(mine)
        .ack((flags & kAck) ? peer : 0)
        .window(from_client ? c_window : s_window);
    if (flags & kSyn) b.mss(1460).sack_perm().timestamps(1, 0).nop().wscale(7);
    if (!data.empty()) b.payload(data);
    if (!(flags & kRst))
      mine += static_cast<uint32_t>(data.size()) + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
    return b;
  }

  Bytes seg(bool from_client, uint8_t flags, std::string_view data) {
    return builder(from_client, flags, data).build();
  }

  std::array<uint8_t, 16> client16() const { return addr16(client); }
  // The canonical key of this connection.
  rh_flow_key key() const {
    rh_flow_key k;
    auto a = client16(), b = server16();
    rh_flow_key_make(&k, v6() ? 6 : 4, a.data(), cport, b.data(), sport);
    return k;
  }
  std::array<uint8_t, 16> server16() const { return addr16(server); }
};

// Frames through the Replayer into a Timeline; collects summaries and records.
struct Harness {
  explicit Harness(flow::Timeline::Options opt = {}, bool with_lookup = true)
      : timeline(opt,
                 {[this](const flow::FlowSummary& f) { flows.push_back(f); },
                  [this](const flow::ResetRecord& r) { resets.push_back(r); }},
                 with_lookup ? flow::Timeline::StateLookup([this](const rh_flow_key& k) {
                   lookups++;
                   return replayer.lookup(k);
                 })
                             : flow::Timeline::StateLookup{}) {}

  // Feeds one frame; returns the kind of event it produced (0: none).
  int frame(uint64_t ts, Bytes bytes, uint8_t hook = RH_HOOK_TC_INGRESS) {
    auto p = replayer.feed(offline::Frame{ts, std::move(bytes), hook});
    if (!p) return 0;
    timeline.add(*p, seen);
    return p->ev.kind;
  }
  void local(const offline::LocalReset& r) { timeline.add(replayer.feed(r)); }

  offline::Replayer replayer;
  flow::Timeline::Seen seen;  // handed to every add(), when set
  std::vector<flow::FlowSummary> flows;
  std::vector<flow::ResetRecord> resets;
  int lookups = 0;
  flow::Timeline timeline;  // last: its callbacks capture the members above
};

inline constexpr uint64_t kMs = 1'000'000ULL;
inline constexpr uint64_t kSec = 1'000'000'000ULL;

}  // namespace rsthop::test
