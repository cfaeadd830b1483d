#include "pcap/tracker.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#include "bpf/events.h"
#include "bpf/flow_key.h"
#include "bpf/record.h"

namespace rsthop::pcap {

// The offline road's context for the bpf/events.h host hooks below: one
// frame's bytes and clock, and room for the one record a frame may yield.
struct TrackerRoad {
  rh_frame f{};  // f.ctx is this road
  Tracker* tracker;
  StepScan* scan = nullptr;  // Tracker::set_scan's
  const uint8_t* data;
  size_t size;
  uint64_t ts;
  union {
    rh_event ev;
    rh_data_event data_ev;
  } rec;
  uint32_t rec_size = 0;
  bool submitted = false;
  const rh_flow_state* st = nullptr;  // the flow the record is about: its whole state, which the record summarizes

  // Every TCP segment the filter lets through comes here: the ladder scan, if any, sees it first.
  [[gnu::always_inline]] rh_flow_state* flow_get(const rh_flow_key& k, const rh_pkt& p) {
    if (StepScan* s = scan) s->add_tcp(p.tcp_flags, p.ttl, p.payload_len, p.family, p.l3, p.tcp, p);
    return keep(tracker->flow_get(k, p.tcp_flags));
  }
  rh_flow_state* flow_find(const rh_flow_key& k) { return keep(tracker->find_state(k)); }
  rh_flow_state* keep(rh_flow_state* s) {
    st = s;
    return s;
  }
};

}  // namespace rsthop::pcap

namespace {
rsthop::pcap::TrackerRoad& road(const rh_frame* f) { return *static_cast<rsthop::pcap::TrackerRoad*>(f->ctx); }
}  // namespace

// The kernel's bpf_{xdp,skb}_load_bytes: fails (nonzero) past the frame's end.
static inline long rh_host_load(const rh_frame* f, __u32 off, void* dst, __u32 n) {
  const auto& r = road(f);
  if (off > r.size || n > r.size - off) return -1;
  std::memcpy(dst, r.data + off, n);
  return 0;
}

static inline __u64 rh_host_now(const rh_frame* f) { return road(f).ts; }

// Zeroed, unlike ring memory: the kernel leaves pad bytes as they were, and
// no reader looks at them.
static inline void* rh_host_reserve(const rh_frame* f, __u32 size) {
  auto& r = road(f);
  if (r.rec_size || size > sizeof(r.rec)) return nullptr;  // one record per frame (the glue's contract)
  std::memset(&r.rec, 0, sizeof(r.rec));
  r.rec_size = size;
  return &r.rec;
}

static inline void rh_host_submit(const rh_frame* f, void* /*rec*/, __u64 /*now*/) { road(f).submitted = true; }

static inline rh_flow_state* rh_host_flow_get(const rh_frame* f, const rh_flow_key* k, const rh_pkt* p) {
  return road(f).flow_get(*k, *p);
}

static inline rh_flow_state* rh_host_flow_find(const rh_frame* f, const rh_flow_key* k) {
  return road(f).flow_find(*k);
}

namespace rsthop::pcap {
namespace {

// The kernel's rodata for --host / --port (filled as kernel/capture.cpp fills it).
std::shared_ptr<const rh_filter_cfg> make_filter(const Filter& in) {
  auto cfg = std::make_shared<rh_filter_cfg>();
  std::memset(cfg.get(), 0, sizeof(*cfg));
  cfg->filter_ports = !in.ports.empty();
  for (uint16_t p : in.ports) rh_port_bitmap_set(cfg->port_bitmap, p);
  cfg->filter_hosts = !in.hosts.empty();
  cfg->n_cidrs = static_cast<uint32_t>(std::min<size_t>(in.hosts.size(), RH_MAX_CIDRS));
  for (uint32_t i = 0; i < cfg->n_cidrs; i++) {
    std::memcpy(cfg->cidrs[i].addr, in.hosts[i].addr.data(), 16);
    std::memcpy(cfg->cidrs[i].mask, in.hosts[i].mask.data(), 16);
  }
  return cfg;
}

}  // namespace

Tracker::Tracker(Options opt)
    : opt_(std::move(opt)), filter_(make_filter(opt_.filter)), road_(std::make_unique<TrackerRoad>()) {
  if (opt_.max_flows == 0) opt_.max_flows = 1;
  road_->f.ctx = road_.get();
  road_->f.filter = filter_.get();
}

Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

void Tracker::set_scan(StepScan* scan) { road_->scan = scan; }

void Tracker::count(int cause) {
  if (cause >= 0 && cause < RH_C_MAX) counters_.c[cause]++;
}

namespace {

uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

// The key's 37 meaningful bytes as five words (the pad bytes masked off).
struct Tracker::KeyWords {
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
  bool operator==(const uint64_t (&o)[5]) const {
    return ((w[0] ^ o[0]) | (w[1] ^ o[1]) | (w[2] ^ o[2]) | (w[3] ^ o[3]) | (w[4] ^ o[4])) == 0;
  }
};

// Inline (with find() and the LRU steps below): once per TCP segment, on analyze's hot path.
[[gnu::always_inline]] inline uint32_t Tracker::hash_key(const KeyWords& kw) {
  // Two independent multiplies, then one avalanche.  The words are folded first, without losing an
  // IPv4 key's bits: w[1] and w[3] hold the two IPv4-mapped addresses in their high halves (one is
  // turned to the low half), w[0] and w[2] are then zero and w[4] holds the ports and family.
  const uint64_t x = kw.w[1] ^ std::rotl(kw.w[3], 32), y = kw.w[0] ^ std::rotl(kw.w[2], 17) ^ kw.w[4];
  uint64_t h = x * 0x9E3779B97F4A7C15ULL ^ y * 0xFF51AFD7ED558CCDULL;
  h ^= h >> 32;
  h *= 0xFF51AFD7ED558CCDULL;
  return static_cast<uint32_t>(h ^ (h >> 29));
}

[[gnu::always_inline]] inline uint32_t Tracker::find(const KeyWords& kw, uint32_t h) const {
  if (slots_.empty()) return kNone;
  for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.node == kNone) return kNone;
    if (s.hash == h && kw == nodes_[s.node].key) return s.node;
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
  if (lru_linked_) {
    for (uint32_t x = head_; x != kNone; x = nodes_[x].next) index_insert(x, nodes_[x].hash);
  } else {  // no eviction yet, so no free node: every node is live
    for (uint32_t x = 0; x < nodes_.size(); x++) index_insert(x, nodes_[x].hash);
  }
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

[[gnu::always_inline]] inline void Tracker::lru_unlink(uint32_t n) {
  Node& x = nodes_[n];
  if (x.prev != kNone)
    nodes_[x.prev].next = x.next;
  else
    head_ = x.next;
  if (x.next != kNone)
    nodes_[x.next].prev = x.prev;
  else
    tail_ = x.prev;
}

[[gnu::always_inline]] inline void Tracker::lru_push_front(uint32_t n) {
  Node& x = nodes_[n];
  x.prev = kNone;
  x.next = head_;
  if (head_ != kNone)
    nodes_[head_].prev = n;
  else
    tail_ = n;
  head_ = n;
}

[[gnu::always_inline]] inline void Tracker::lru_touch(uint32_t n) {
  if (!lru_linked_) {
    nodes_[n].used = ++uses_;
  } else if (head_ != n) {
    lru_unlink(n);
    lru_push_front(n);
  }
}

void Tracker::lru_link() {
  std::vector<uint32_t> order(nodes_.size());  // no eviction yet: every node is live
  for (uint32_t x = 0; x < order.size(); x++) order[x] = x;
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) { return nodes_[a].used < nodes_[b].used; });
  lru_linked_ = true;
  for (uint32_t x : order) lru_push_front(x);  // the least recently used first: it ends at the tail
}

// flow__get(): create on first sight, count mid-stream starts.  The table is
// an LRU like the kernel's: a full table drops its least recently used flow.
// Inline in feed() (through TrackerRoad::flow_get): once per packet, and as a call it saved and restored six
// registers around a hit path of a few dozen instructions.
[[gnu::always_inline]] inline rh_flow_state* Tracker::flow_get(const rh_flow_key& k, uint8_t tcp_flags) {
  const KeyWords kw(k);
  const uint32_t h = hash_key(kw);
  uint32_t n = find(kw, h);
  if (n == kNone) return flow_insert(k, h, tcp_flags);
  lru_touch(n);
  return &nodes_[n].st;
}

// Out of line: once per flow, and it keeps the hit path above short.
[[gnu::noinline]] rh_flow_state* Tracker::flow_insert(const rh_flow_key& k, uint32_t h, uint8_t tcp_flags) {
  uint32_t n = kNone;
  if (live_ >= opt_.max_flows) {
    if (!lru_linked_) lru_link();
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
  const KeyWords kw(k);
  std::memcpy(x.key, kw.w, sizeof(x.key));
  x.hash = h;
  rh_flow_reset(&x.st);
  if (lru_linked_)
    lru_push_front(n);
  else
    x.used = ++uses_;
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

// rh_handle() in bpf/rsthop.bpf.c, through the same bpf/events.h glue; the
// record is then decoded as the capture decodes the kernel's.
std::optional<flow::Packet> Tracker::feed(std::span<const uint8_t> bytes, const FrameInfo& info) {
  // The road and frame are the Tracker's (rh_host_reserve() zeroes the record union for the frames that
  // emit one); only what changes per frame is written.  `tracker` and `cnt` too: a Tracker may have moved.
  TrackerRoad& r = *road_;
  r.tracker = this;
  r.data = bytes.data();
  r.size = bytes.size();
  r.ts = info.ts_ns ? info.ts_ns : 1;
  r.rec_size = 0;
  r.submitted = false;
  r.st = nullptr;
  rh_frame& f = r.f;
  f.cnt = &counters_;
  f.ifindex = info.ifindex;
  f.frame_len = static_cast<uint32_t>(std::min<size_t>(bytes.size(), UINT32_MAX));
  f.segs = info.segs;
  f.hook = info.hook;
  f.has_l2 = info.has_l2 ? 1 : 0;
  rh_glue_frame(&f, bytes.data(), bytes.data() + f.frame_len);
  if (!r.submitted) return std::nullopt;

  flow::Packet pk;
  const uint8_t* snap = nullptr;
  size_t n = 0;
  if (rh_record_decode(&r.rec, r.rec_size, &pk.ev, &snap, &n) != 0) return std::nullopt;  // the glue's own record
  // The Timeline completes a live summary from earlier events (flow::FlowCompletion); this road holds the state.
  if ((pk.ev.flow_flags & RH_FLOW_STATE) && r.st) pk.ev.flow = *r.st;
  if (snap) pk.data.assign(snap, snap + n);
  pk.frame = info.frame;
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

rh_flow_state* Tracker::find_state(const rh_flow_key& k) {
  const KeyWords kw(k);
  uint32_t n = find(kw, hash_key(kw));
  return n == kNone ? nullptr : &nodes_[n].st;
}

std::optional<rh_flow_state> Tracker::lookup(const rh_flow_key& k) const {
  const KeyWords kw(k);
  uint32_t n = find(kw, hash_key(kw));
  if (n == kNone) return std::nullopt;
  return nodes_[n].st;
}

flow::Timeline::StateLookup Tracker::state_lookup() const {
  return [this](const rh_flow_key& k) { return lookup(k); };
}

}  // namespace rsthop::pcap
