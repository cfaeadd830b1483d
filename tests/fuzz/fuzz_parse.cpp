// fuzz_parse: a frame (or, with the "RHMF" prefix, a short sequence of
// frames) through the kernel's parsers (bpf/parse.h) exactly as
// rh_handle() chains them, then through pcap::Tracker, which adds track.h
// and the flow table.  Checks that every offset stays inside the frame, that
// the lengths agree with each other, and that the Tracker emits no event for
// a frame the parsers rejected.
//
// Multi-frame input: "RHMF" then records of [u8 flags][u16 be len][len bytes];
// flags bit 0: the frame starts at an Ethernet header.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "bpf/parse.h"
#include "bpf/track.h"
#include "fuzz_check.h"
#include "pcap/tracker.h"

namespace {

using rsthop::pcap::FrameInfo;
using rsthop::pcap::Tracker;

// What the direct parse decided, to compare with the Tracker.
struct Direct {
  bool accepted = false;  // an event is possible (TCP parsed, or an ICMP error quoting TCP)
  bool icmp = false;
  rh_pkt p{};
  rh_icmp_quote q{};
};

Direct parse_direct(const uint8_t* data, size_t size, bool has_l2) {
  Direct d;
  const uint8_t* end = data + size;
  rh_cursor c{data, end};
  rh_pkt& p = d.p;

  int r = rh_parse_l3(&c, &p, data, has_l2 ? 1 : 0);
  FUZZ_CHECK(c.pos >= data && c.pos <= end);
  FUZZ_CHECK(c.end == end);
  if (r < 0) {
    FUZZ_CHECK(-r > 0 && -r < RH_C_MAX);
    return d;
  }
  FUZZ_CHECK(r <= 255);
  FUZZ_CHECK(p.family == 4 || p.family == 6);
  FUZZ_CHECK(p.l4proto == r);
  FUZZ_CHECK(p.l4_off == static_cast<uint32_t>(c.pos - data));
  FUZZ_CHECK(p.l4_off <= size);
  FUZZ_CHECK(p.vlan_depth <= RH_VLAN_MAX_DEPTH);
  FUZZ_CHECK(!has_l2 || p.l2 == data);
  FUZZ_CHECK(has_l2 || p.l2 == nullptr);
  FUZZ_CHECK(((p.ip_flags & RH_IPF_VLAN) != 0) == (p.vlan_depth != 0));
  if (p.family == 4) {
    FUZZ_CHECK(rh_addr_is_v4mapped(p.saddr) && rh_addr_is_v4mapped(p.daddr));
    FUZZ_CHECK(p.l4_off >= 20u + (has_l2 ? 14u : 0u));
  } else {
    FUZZ_CHECK(p.l4_off >= 40u + (has_l2 ? 14u : 0u));
  }
  FUZZ_CHECK(p.l4_len <= p.ip_len);

  if (r == RH_IPPROTO_ICMP || r == RH_IPPROTO_ICMPV6) {
    if ((r == RH_IPPROTO_ICMP) != (p.family == 4)) return d;
    rh_cursor ic = c;
    int qr = rh_parse_icmp_quote(&ic, &p, &d.q);
    FUZZ_CHECK(ic.pos == c.pos && ic.end == end);  // the quote parser does not move the cursor
    FUZZ_CHECK(qr <= 1);
    if (qr < 0) FUZZ_CHECK(-qr < RH_C_MAX);
    if (qr == 1) {
      FUZZ_CHECK(d.q.family == p.family);
      if (d.q.family == 4) FUZZ_CHECK(rh_addr_is_v4mapped(d.q.saddr) && rh_addr_is_v4mapped(d.q.daddr));
      FUZZ_CHECK(c.pos + 8 + (d.q.family == 4 ? 20 : 40) + 8 <= end);
      d.accepted = true;
      d.icmp = true;
    }
    return d;
  }
  if (r != RH_IPPROTO_TCP) return d;

  const uint8_t* l4 = c.pos;
  int tr = rh_parse_tcp(&c, &p);
  FUZZ_CHECK(c.pos >= l4 && c.pos <= end);
  if (tr < 0) {
    FUZZ_CHECK(c.pos == l4);
    FUZZ_CHECK(-tr < RH_C_MAX);
    return d;
  }
  FUZZ_CHECK(p.tcp == l4);
  FUZZ_CHECK(p.tcp_hlen >= 20 && p.tcp_hlen <= 60 && p.tcp_hlen % 4 == 0);
  FUZZ_CHECK(c.pos == l4 + p.tcp_hlen);
  FUZZ_CHECK(static_cast<size_t>(p.l4_off) + p.tcp_hlen <= size);
  FUZZ_CHECK(p.payload_len <= p.l4_len);
  FUZZ_CHECK(p.payload_len == (p.l4_len > p.tcp_hlen ? p.l4_len - p.tcp_hlen : 0));
  FUZZ_CHECK(p.tcp_flags == l4[13]);

  rh_tcp_opts o{};
  rh_parse_tcp_opts(&p, end, &o);
  FUZZ_CHECK((o.opts & 0x80) == 0);
  if (!(o.opts & RH_OPT_MSS)) FUZZ_CHECK(o.mss == 0);
  if (!(o.opts & RH_OPT_WSCALE)) FUZZ_CHECK(o.wscale == 0);
  if (!(o.opts & RH_OPT_TIMESTAMP)) FUZZ_CHECK(o.tsval == 0 && o.tsecr == 0);
  if (p.tcp_hlen > 20 && static_cast<size_t>(end - l4) < p.tcp_hlen) FUZZ_CHECK(o.opts & RH_OPT_TRUNCATED);
  d.accepted = true;
  return d;
}

void feed_one(Tracker& t, const uint8_t* data, size_t size, bool has_l2, uint64_t ts) {
  // An exact-size heap copy, so ASan sees any read past the captured bytes.
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(buf.get(), data, size);
  const uint8_t* b = buf.get();

  Direct d = parse_direct(b, size, has_l2);

  const uint64_t before = t.counters().c[RH_C_EVENTS];
  FrameInfo info{ts, RH_HOOK_PCAP, 7, has_l2, 1, 1};
  auto pk = t.feed(std::span<const uint8_t>(b, size), info);
  FUZZ_CHECK(t.flow_count() <= 4);
  if (!pk) {
    FUZZ_CHECK(t.counters().c[RH_C_EVENTS] == before);
    return;
  }
  FUZZ_CHECK(t.counters().c[RH_C_EVENTS] == before + 1);
  // No event for a frame the parsers rejected.
  FUZZ_CHECK(d.accepted);
  const rh_event& ev = pk->ev;
  FUZZ_CHECK(ev.family == d.p.family);
  FUZZ_CHECK(std::memcmp(ev.saddr, d.p.saddr, 16) == 0 && std::memcmp(ev.daddr, d.p.daddr, 16) == 0);
  FUZZ_CHECK(ev.side == RH_SIDE_A || ev.side == RH_SIDE_B);
  if (d.icmp) {
    FUZZ_CHECK(ev.kind == RH_EV_ICMP);
    FUZZ_CHECK(ev.inner_sport == d.q.sport && ev.inner_dport == d.q.dport && ev.inner_seq == d.q.seq);
    FUZZ_CHECK(ev.snap_len == 0 && pk->data.empty());
    return;
  }
  FUZZ_CHECK(ev.kind != RH_EV_ICMP);
  FUZZ_CHECK(ev.sport == d.p.sport && ev.dport == d.p.dport && ev.seq == d.p.seq);
  FUZZ_CHECK(ev.payload_len == d.p.payload_len);
  size_t off = static_cast<size_t>(d.p.l4_off) + d.p.tcp_hlen;
  size_t avail = size - off;
  if (ev.kind == RH_EV_PAYLOAD) {
    FUZZ_CHECK(pk->data.size() == ev.snap_len);
    FUZZ_CHECK(ev.snap_len <= RH_DATA_SNAP_MAX && ev.snap_len <= avail && ev.snap_len <= ev.payload_len);
    FUZZ_CHECK(pk->data.empty() || std::memcmp(pk->data.data(), b + off, pk->data.size()) == 0);
  } else {
    FUZZ_CHECK(pk->data.empty());
    FUZZ_CHECK(ev.snap_len <= RH_RST_PAYLOAD_MAX && ev.snap_len <= avail);
    if (ev.kind != RH_EV_RST) FUZZ_CHECK(ev.snap_len == 0);
  }
  // The flow table holds what the event says.
  auto st = t.lookup(ev.key);
  FUZZ_CHECK(st.has_value());
  FUZZ_CHECK(std::memcmp(&*st, &ev.flow, sizeof(rh_flow_state)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Tracker::Options opt;
  opt.max_flows = 4;  // small, so the LRU eviction path runs too
  Tracker t(opt);
  if (size >= 4 && std::memcmp(data, "RHMF", 4) == 0) {
    size_t pos = 4;
    uint64_t ts = 1'000'000'000;
    for (int i = 0; i < 64 && pos + 3 <= size; i++) {
      uint8_t flags = data[pos];
      size_t len = static_cast<size_t>(data[pos + 1]) << 8 | data[pos + 2];
      pos += 3;
      if (len > size - pos) len = size - pos;
      feed_one(t, data + pos, len, flags & 1, ts);
      pos += len;
      ts += 1'000'000;
    }
    return 0;
  }
  // One frame, read both as Ethernet and as raw IP.
  feed_one(t, data, size, true, 1);
  feed_one(t, data, size, false, 2);
  return 0;
}
