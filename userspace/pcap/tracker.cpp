#include "pcap/tracker.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "bpf/parse.h"
#include "bpf/track.h"

namespace rsthop::pcap {
namespace {

// event__fill_tuple() in bpf/rsthop.bpf.c.
void fill_tuple(rh_event& ev, const rh_pkt& p) {
  std::memcpy(ev.saddr, p.saddr, 16);
  std::memcpy(ev.daddr, p.daddr, 16);
  ev.family = p.family;
  ev.ttl = p.ttl;
  ev.ip_id = p.ip_id;
  ev.ip_len = p.ip_len;
  ev.ip_flags = p.ip_flags;
  ev.vlan_depth = p.vlan_depth;
  if (p.l2) {
    std::memcpy(ev.dmac, p.l2, 6);
    std::memcpy(ev.smac, p.l2 + 6, 6);
  }
}

}  // namespace

// filter__match() in bpf/rsthop.bpf.c.
bool Filter::match(const uint8_t* saddr, const uint8_t* daddr, uint16_t sport, uint16_t dport) const {
  if (!ports.empty()) {
    bool hit = std::find(ports.begin(), ports.end(), sport) != ports.end() ||
               std::find(ports.begin(), ports.end(), dport) != ports.end();
    if (!hit) return false;
  }
  if (!hosts.empty()) {
    size_t n = std::min<size_t>(hosts.size(), RH_MAX_CIDRS);
    bool hit = false;
    for (size_t i = 0; i < n && !hit; i++) hit = hosts[i].contains(saddr) || hosts[i].contains(daddr);
    if (!hit) return false;
  }
  return true;
}

Tracker::Tracker(Options opt) : opt_(std::move(opt)) {
  if (opt_.max_flows == 0) opt_.max_flows = 1;
}

void Tracker::count(int cause) {
  if (cause >= 0 && cause < RH_C_MAX) counters_.c[cause]++;
}

namespace {

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The key's 37 meaningful bytes as five words (the pad bytes masked off).
struct KeyWords {
  uint64_t w[5];
  explicit KeyWords(const rh_flow_key& k) {
    static_assert(sizeof(rh_flow_key) == 40 && offsetof(rh_flow_key, port_a) == 32 &&
                  offsetof(rh_flow_key, family) == 36);
    const auto* b = reinterpret_cast<const uint8_t*>(&k);
    for (int i = 0; i < 4; i++) w[i] = load64(b + 8 * i);
    uint64_t tail = 0;
    std::memcpy(&tail, b + 32, 5);
    w[4] = tail;
  }
  bool operator==(const KeyWords& o) const {
    return ((w[0] ^ o.w[0]) | (w[1] ^ o.w[1]) | (w[2] ^ o.w[2]) | (w[3] ^ o.w[3]) | (w[4] ^ o.w[4])) == 0;
  }
};

}  // namespace

uint32_t Tracker::hash_key(const rh_flow_key& k) {
  KeyWords kw(k);
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (uint64_t w : kw.w) {
    h ^= w;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 32;
  }
  return static_cast<uint32_t>(h ^ (h >> 29));
}

uint32_t Tracker::find(const rh_flow_key& k, uint32_t h) const {
  if (slots_.empty()) return kNone;
  KeyWords kw(k);
  for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.node == kNone) return kNone;
    if (s.hash == h && KeyWords(nodes_[s.node].key) == kw) return s.node;
  }
}

void Tracker::index_insert(uint32_t node, uint32_t h) {
  uint32_t i = h & mask_;
  while (slots_[i].node != kNone) i = (i + 1) & mask_;
  slots_[i] = {node, h};
}

void Tracker::index_grow() {
  size_t n = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(n, Slot{});
  mask_ = static_cast<uint32_t>(n - 1);
  for (uint32_t x = head_; x != kNone; x = nodes_[x].next) index_insert(x, nodes_[x].hash);
}

// Backward-shift deletion: later entries of the probe run move into the hole
// when their home slot allows it, so lookups never need tombstones.
void Tracker::index_erase(uint32_t node) {
  uint32_t i = nodes_[node].hash & mask_;
  while (slots_[i].node != node) i = (i + 1) & mask_;
  for (uint32_t j = i;;) {
    j = (j + 1) & mask_;
    if (slots_[j].node == kNone) break;
    uint32_t home = slots_[j].hash & mask_;
    // Move j into the hole at i unless its home lies cyclically in (i, j].
    bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!stays) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
}

void Tracker::lru_unlink(uint32_t n) {
  Node& x = nodes_[n];
  if (x.prev != kNone) nodes_[x.prev].next = x.next; else head_ = x.next;
  if (x.next != kNone) nodes_[x.next].prev = x.prev; else tail_ = x.prev;
}

void Tracker::lru_push_front(uint32_t n) {
  Node& x = nodes_[n];
  x.prev = kNone;
  x.next = head_;
  if (head_ != kNone) nodes_[head_].prev = n; else tail_ = n;
  head_ = n;
}

// flow__get(): create on first sight, count mid-stream starts.  The table is
// an LRU like the kernel's: a full table drops its least recently used flow.
rh_flow_state* Tracker::flow_get(const rh_flow_key& k, uint8_t tcp_flags) {
  const uint32_t h = hash_key(k);
  uint32_t n = find(k, h);
  if (n != kNone) {
    if (head_ != n) {
      lru_unlink(n);
      lru_push_front(n);
    }
    return &nodes_[n].st;
  }
  if (live_ >= opt_.max_flows) {
    uint32_t victim = tail_;
    index_erase(victim);
    lru_unlink(victim);
    free_.push_back(victim);
    live_--;
    counters_.c[RH_C_LOST_FLOW_TABLE]++;
  }
  if ((live_ + 1) * 2 > slots_.size()) index_grow();
  if (free_.empty()) {
    n = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  } else {
    n = free_.back();
    free_.pop_back();
  }
  Node& x = nodes_[n];
  x.key = k;
  x.hash = h;
  rh_flow_reset(&x.st);
  lru_push_front(n);
  index_insert(n, h);
  live_++;
  counters_.c[RH_C_FLOW_NEW]++;
  if (!(tcp_flags & RH_TCP_SYN)) counters_.c[RH_C_FLOW_MIDSTREAM]++;
  return &x.st;
}

void Tracker::count_unparsed(int cause) {
  counters_.c[RH_C_PACKETS]++;
  count(cause);
}

std::optional<flow::Packet> Tracker::feed(const Frame& f) {
  return feed(f.bytes, FrameInfo{f.ts_ns, f.hook, f.ifindex, f.has_l2, f.segs, 0});
}

std::optional<flow::Packet> Tracker::feed(std::span<const uint8_t> bytes, const FrameInfo& f) {
  const uint8_t* data = bytes.data();
  const uint8_t* end = data + bytes.size();
  const uint64_t ts = f.ts_ns ? f.ts_ns : 1;
  rh_cursor c{data, end};
  rh_pkt p{};

  counters_.c[RH_C_PACKETS]++;
  int r = rh_parse_l3(&c, &p, data, f.has_l2 ? 1 : 0);
  if (r < 0) {
    count(-r);
    return std::nullopt;
  }
  if (r == RH_IPPROTO_ICMP || r == RH_IPPROTO_ICMPV6) {
    rh_icmp_quote q{};
    if ((r == RH_IPPROTO_ICMP) != (p.family == 4)) {
      counters_.c[RH_C_NON_TCP]++;
      return std::nullopt;
    }
    r = rh_parse_icmp_quote(&c, &p, &q);
    if (r <= 0) {
      count(r < 0 ? -r : RH_C_NON_TCP);
      return std::nullopt;
    }
    if (!opt_.filter.match(q.saddr, q.daddr, q.sport, q.dport)) {
      counters_.c[RH_C_FILTERED]++;
      return std::nullopt;
    }
    // icmp__event(): the quoted segment names the flow; state only when known.
    flow::Packet pk;
    rh_event& ev = pk.ev;
    ev.side = rh_flow_key_make(&ev.key, q.family, q.saddr, q.sport, q.daddr, q.dport);
    ev.ts_ns = ts;
    ev.ifindex = f.ifindex;
    ev.kind = RH_EV_ICMP;
    ev.hook = f.hook;
    fill_tuple(ev, p);
    ev.icmp_type = q.type;
    ev.icmp_code = q.code;
    ev.inner_ttl = q.ttl;
    std::memcpy(ev.inner_saddr, q.saddr, 16);
    std::memcpy(ev.inner_daddr, q.daddr, 16);
    ev.inner_sport = q.sport;
    ev.inner_dport = q.dport;
    ev.inner_seq = q.seq;
    if (auto st = lookup(ev.key)) ev.flow = *st;
    pk.frame = f.frame;
    counters_.c[RH_C_ICMP_ERRORS]++;
    counters_.c[RH_C_EVENTS]++;
    return pk;
  }
  if (r != RH_IPPROTO_TCP) {
    counters_.c[RH_C_NON_TCP]++;
    return std::nullopt;
  }
  if (p.ip_flags & RH_IPF_FRAG_FIRST) counters_.c[RH_C_FRAGMENTS]++;
  r = rh_parse_tcp(&c, &p);
  if (r < 0) {
    count(-r);
    return std::nullopt;
  }
  counters_.c[RH_C_TCP]++;
  if (!opt_.filter.match(p.saddr, p.daddr, p.sport, p.dport)) {
    counters_.c[RH_C_FILTERED]++;
    return std::nullopt;
  }

  rh_flow_key k;
  uint8_t side = rh_flow_key_make(&k, p.family, p.saddr, p.sport, p.daddr, p.dport);
  rh_flow_state* st = flow_get(k, p.tcp_flags);
  uint64_t now = rh_track_needs_clock(st, &p, side) ? ts : 0;
  int kind = rh_track(st, &p, side, now, f.segs);
  if (!kind) return std::nullopt;

  // tcp__event().
  flow::Packet pk;
  rh_event& ev = pk.ev;
  ev.ts_ns = now;
  ev.ifindex = f.ifindex;
  ev.kind = static_cast<uint8_t>(kind);
  ev.hook = f.hook;
  ev.side = side;
  fill_tuple(ev, p);
  ev.sport = p.sport;
  ev.dport = p.dport;
  ev.seq = p.seq;
  ev.ack = p.ack;
  ev.window = p.window;
  ev.tcp_flags = p.tcp_flags;
  ev.payload_len = p.payload_len;
  rh_tcp_opts o{};
  rh_parse_tcp_opts(&p, end, &o);
  ev.opts = o.opts;
  ev.mss = o.mss;
  ev.wscale = o.wscale;
  ev.tsval = o.tsval;
  ev.tsecr = o.tsecr;
  ev.key = k;
  ev.flow = *st;
  pk.frame = f.frame;

  // payload__copy(): what the frame holds of the payload, capped per kind.
  size_t off = p.l4_off + p.tcp_hlen;
  size_t avail = bytes.size() > off ? bytes.size() - off : 0;
  size_t want = std::min<size_t>(p.payload_len, avail);
  if (kind == RH_EV_RST && p.payload_len) {
    size_t n = std::min<size_t>(want, RH_RST_PAYLOAD_MAX);
    std::memcpy(ev.payload, data + off, n);
    ev.snap_len = static_cast<uint16_t>(n);
  } else if (kind == RH_EV_PAYLOAD) {
    size_t n = std::min<size_t>(want, RH_DATA_SNAP_MAX);
    pk.data.assign(data + off, data + off + n);
    ev.snap_len = static_cast<uint16_t>(n);
    if (n < p.payload_len && n < RH_DATA_SNAP_MAX) counters_.c[RH_C_SNAP_TRUNCATED]++;
  }
  counters_.c[RH_C_EVENTS]++;
  return pk;
}

// local__event(): the tuple is oriented as the RST travels.
flow::Packet Tracker::feed(const LocalReset& r) {
  flow::Packet pk;
  rh_event& ev = pk.ev;
  rh_flow_key& k = ev.key;
  rh_flow_key_make(&k, r.family, r.local_addr.data(), r.local_port, r.remote_addr.data(), r.remote_port);
  bool a_is_src = rh_addr_cmp(r.local_addr.data(), k.addr_a) == 0 && r.local_port == k.port_a;

  counters_.c[RH_C_LOCAL_RESETS]++;
  ev.ts_ns = r.ts_ns;
  ev.kind = r.kind;
  ev.hook = r.kind == RH_EV_LOCAL_RST_SEND ? RH_HOOK_TP_SEND_RESET : RH_HOOK_TP_RECV_RESET;
  ev.family = r.family;
  ev.reason = r.reason;
  if (r.kind == RH_EV_LOCAL_RST_SEND) {
    std::memcpy(ev.saddr, r.local_addr.data(), 16);
    std::memcpy(ev.daddr, r.remote_addr.data(), 16);
    ev.sport = r.local_port;
    ev.dport = r.remote_port;
    ev.side = a_is_src ? RH_SIDE_A : RH_SIDE_B;
  } else {
    std::memcpy(ev.saddr, r.remote_addr.data(), 16);
    std::memcpy(ev.daddr, r.local_addr.data(), 16);
    ev.sport = r.remote_port;
    ev.dport = r.local_port;
    ev.side = a_is_src ? RH_SIDE_B : RH_SIDE_A;
  }
  if (auto st = lookup(k)) ev.flow = *st;
  counters_.c[RH_C_EVENTS]++;
  return pk;
}

std::optional<rh_flow_state> Tracker::lookup(const rh_flow_key& k) const {
  uint32_t n = find(k, hash_key(k));
  if (n == kNone) return std::nullopt;
  return nodes_[n].st;
}

flow::Timeline::StateLookup Tracker::state_lookup() const {
  return [this](const rh_flow_key& k) { return lookup(k); };
}

}  // namespace rsthop::pcap
