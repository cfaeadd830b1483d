#include "flow/timeline.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "flow/app_hint.h"

namespace rsthop::flow {

size_t KeyHash::operator()(const rh_flow_key& k) const noexcept {
  // Eight bytes at a time (FNV-1a byte by byte was the drain loop's top
  // symbol), with a final avalanche so every key byte reaches the low bits
  // the bucket index uses; the padding is zeroed by rh_flow_key_make.
  static_assert(sizeof(rh_flow_key) % 8 == 0);
  const auto* b = reinterpret_cast<const uint8_t*>(&k);
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < sizeof(k); i += 8) {
    uint64_t w;
    std::memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return static_cast<size_t>(h);
}

bool KeyEq::operator()(const rh_flow_key& a, const rh_flow_key& b) const noexcept {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

namespace {

// After a summary, packets within Zeek's tcp_close_delay / tcp_reset_delay
// (5 s) belong to the summarised connection; later ones start a new flow, as
// Zeek starts a new connection.  The last state copy is kept a while longer so
// that such a flow counts only its own packets.
constexpr uint64_t kRecentDropNs = 5'000'000'000ULL;
constexpr uint64_t kRecentKeepNs = 30'000'000'000ULL;

PacketMark mark(const rh_event& ev) { return PacketMark{ev.ttl, ev.hook, ev.ip_id, ev.window, ev.seq, ev.ts_ns}; }

// The mark, when its packet came before `ts_ns`.
std::optional<PacketMark> before(const std::optional<PacketMark>& m, uint64_t ts_ns) {
  if (m && m->ts_ns <= ts_ns) return m;
  return std::nullopt;
}

bool is_wire_hook(uint8_t hook) {
  return hook == RH_HOOK_XDP || hook == RH_HOOK_TC_INGRESS || hook == RH_HOOK_TC_EGRESS || hook == RH_HOOK_PCAP;
}

uint8_t orig_side(const rh_flow_state& st, uint8_t first_sender) {
  if (st.initiator != RH_SIDE_UNKNOWN) return st.initiator;
  return first_sender == RH_SIDE_UNKNOWN ? RH_SIDE_A : first_sender;
}

uint64_t latest_activity(const rh_flow_state& st) {
  return std::max<uint64_t>({st.ts_syn, st.ts_synack, st.ts_last_payload[0], st.ts_last_payload[1], st.ts_fin[0],
                             st.ts_fin[1], st.ts_rst[0], st.ts_rst[1]});
}

}  // namespace

Timeline::Timeline(Options opt, Callbacks cb, StateLookup lookup)
    : opt_(opt), cb_(std::move(cb)), lookup_(std::move(lookup)) {}

Timeline::Rec& Timeline::rec_for(const Packet& p, FlowMap::iterator it) {
  if (it != flows_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second;
  }
  if (flows_.size() >= opt_.max_flows && !lru_.empty()) {
    // Bounded memory: the stalest flow is summarised early.
    auto stale = flows_.find(lru_.back());
    const Fresh fresh(lookup_, stale->first);
    flush_burst(stale->second, fresh);
    emit_flow(stale->second, "evicted", fresh);
    evicted_++;
    erase(stale, /*remember=*/false);  // it may still be alive: its next packets start a new record
  }
  Rec& r = flows_.try_emplace(p.ev.key).first->second;
  r.key = p.ev.key;
  r.ifindex = p.ev.ifindex;
  r.first_sender = p.ev.side;
  r.first_ns = p.ev.ts_ns;
  r.file = p.file;
  lru_.push_front(p.ev.key);
  r.lru = lru_.begin();
  return r;
}

// What ends before `ev` is added: a closed flow whose linger passed, an expired
// attempt, the connection a new SYN replaces (`it`, the flow's record, is then
// end()).  Returns false when `ev` is a late packet of a summarised flow and is
// dropped (its completion `done` kept for the next one); `late` when it is a RST of one.
bool Timeline::end_before(const rh_event& ev, FlowMap::iterator& it, RecentMap::iterator known,
                          const FlowCompletion& done, std::optional<rh_flow_state>& carried, bool& late) {
  const bool had_record = it != flows_.end();
  bool new_syn = ev.kind == RH_EV_SYN && (ev.tcp_flags & (RH_TCP_SYN | RH_TCP_ACK)) == RH_TCP_SYN;
  bool wire_rst = ev.kind == RH_EV_RST;
  if (it != flows_.end() && it->second.closed_ns &&
      ev.ts_ns > std::max(it->second.closed_ns, it->second.last_ns) + opt_.close_linger_ns) {
    // Its linger passed while no event came (ticks run between events): summarise
    // it first, from what it had then (the table already holds this packet).
    flush_burst(it->second, Fresh::off());
    emit_flow(it->second, nullptr, Fresh::off());
    erase(it);
    it = flows_.end();
  }
  // A tuple has a record and a summary remembered at once only while the record holds late RSTs.
  // Without a record from the start, add() has looked it up already (recent_ is unchanged since).
  auto recent = had_record ? (it == flows_.end() || it->second.late ? recent_.find(ev.key) : recent_.end()) : known;
  if (recent != recent_.end()) {
    if (recent->second.drop && !new_syn && ev.ts_ns - recent->second.last_ns < kRecentDropNs) {
      // A late packet of a summarised flow starts no second flow, but a RST is
      // never dropped: it still gets its reset line (and no flow line).
      if (!wire_rst && ev.kind != RH_EV_LOCAL_RST_SEND && ev.kind != RH_EV_LOCAL_RST_RECV) {
        (it != flows_.end() ? it->second.completion : recent->second.completion) = done;
        return false;
      }
      late = true;
    } else {
      // The kernel starts its entry afresh only on a new ISN.
      if (ev.flow.ts_syn == recent->second.state.ts_syn) carried = recent->second.state;
      forget(recent);
    }
  }
  if (it != flows_.end() && it->second.zeek.attempt_over(ev.ts_ns)) {
    // Zeek gives up on an unanswered attempt after tcp_attempt_delay (5 s):
    // what follows is a connection of its own.
    Rec& old = it->second;
    flush_burst(old, Fresh::off());
    emit_flow(old, "timeout", Fresh::off());
    carried = old.zeek_prev;
    erase(it, /*remember=*/false);
    it = flows_.end();
  }
  if (new_syn && it != flows_.end() && it->second.have_state) {
    Rec& old = it->second;
    // A new SYN on a tuple whose connection ended (RST, FIN both ways) or with
    // a new ISN is a new connection, as Zeek's conn.log has one row per attempt
    // (SYN, RST, SYN, RST with one ISN is two REJ rows "Sr").
    bool new_isn = old.state.ts_syn && old.state.syn_seq != ev.seq;
    if (new_isn || old.zeek.ended()) {
      flush_burst(old, Fresh::off());
      emit_flow(old, old.closed_ns ? nullptr : "timeout", Fresh::off());
      // The kernel starts its entry afresh only on a new ISN: otherwise the
      // state copies go on counting from the old connection's.
      if (ev.flow.ts_syn == old.state.ts_syn && ev.flow.syn_seq == old.state.syn_seq) carried = old.zeek_prev;
      erase(it, /*remember=*/false);  // its own next packets belong to the new flow
      it = flows_.end();
    }
  }
  return true;
}

void Timeline::add(const Packet& p) {
  copy_ = p;
  add(copy_);
}

void Timeline::add(Packet& p, const Seen& seen) {
  const rh_event& ev = p.ev;
  auto it = flows_.find(ev.key);
  // The flow's completion: its record's, else its summary's (a late packet, a continuation), else none yet.
  FlowCompletion done;
  auto recent = recent_.end();  // searched only for a tuple without a record
  if (it != flows_.end()) {
    done = it->second.completion;
  } else if (recent = recent_.find(ev.key); recent != recent_.end()) {
    done = recent->second.completion;
  }
  done.complete(p.ev);
  if (seen) {
    FlowMemo* memo = nullptr;
    if (it != flows_.end()) memo = it->second.memo ? it->second.memo.get() : &it->second.memo_here;
    seen(p, memo);
  }
  std::optional<rh_flow_state> carried;
  bool late = false;
  if (!end_before(ev, it, recent, done, carried, late)) return;
  bool fresh = it == flows_.end();
  Rec& r = rec_for(p, it);
  r.completion = done;
  if (fresh) {
    r.late = late;
    if (carried) {
      r.zeek_prev = *carried;
      r.zeek.continuation();
    }
  }
  record(r, p);
}

// The flow's memo, shared from here on by its reset records and summary, with
// what its packet lines already put in place.
const std::shared_ptr<FlowMemo>& Timeline::shared_memo(Rec& r) {
  if (!r.memo) r.memo = std::make_shared<FlowMemo>(r.memo_here);
  return r.memo;
}

// The packet into its flow's record.
void Timeline::record(Rec& r, const Packet& p) {
  const rh_event& ev = p.ev;
  r.last_ns = std::max<uint64_t>(r.last_ns, ev.ts_ns);
  if (p.frame) {
    if (!r.first_frame) r.first_frame = p.frame;
    r.last_frame = std::max(r.last_frame, p.frame);
  }
  // ICMP events and tracepoint events carry a copy only when the flow existed.
  bool state_valid = ev.kind != RH_EV_ICMP && ev.kind != RH_EV_LOCAL_RST_SEND && ev.kind != RH_EV_LOCAL_RST_RECV;
  if (state_valid || ev.flow.ts_syn || ev.flow.ts_synack || ev.flow.packets[0] || ev.flow.packets[1]) {
    r.state = ev.flow;
    r.have_state = true;
  }
  if (state_valid) {
    r.zeek.on_event(ev, r.zeek_prev);
    r.zeek_prev = ev.flow;
  }
  uint8_t side = ev.side & 1;
  if (is_wire_hook(ev.hook)) r.on_wire = true;
  if (is_wire_hook(ev.hook) && ev.kind != RH_EV_ICMP) {
    static const uint8_t zero[6] = {};
    if (std::memcmp(ev.smac, zero, 6) != 0) {
      std::array<uint8_t, 6> m;
      std::memcpy(m.data(), ev.smac, 6);
      r.mac[side] = m;
    }
  }
  switch (ev.kind) {
    case RH_EV_SYNACK:
      if (!r.synack) r.synack = ev;
      break;
    case RH_EV_SYN:
      if (!r.syn) r.syn = ev;
      break;
    case RH_EV_FIN:
      if (!r.first_fin[side] && is_wire_hook(ev.hook)) r.first_fin[side] = mark(ev);
      break;
    case RH_EV_PAYLOAD:
      if (!r.first_payload[side] && is_wire_hook(ev.hook)) r.first_payload[side] = mark(ev);
      // Bytes from mid-stream (no SYN or SYN-ACK seen) are no request line or ClientHello.
      if (r.have_state && (ev.flow.ts_syn || ev.flow.ts_synack) && side == orig_side(r.state, r.first_sender) &&
          r.app.tls_sni.empty() && r.app.http_request.empty())
        parse_app_hint(p.data, r.app);
      break;
    case RH_EV_LOCAL_RST_SEND:
    case RH_EV_LOCAL_RST_RECV:
      if (uint64_t cg = rh_event_cgroup_id(&ev)) r.cgroup_id = cg;
      on_reset_event(r, p);
      break;
    case RH_EV_RST:
      on_reset_event(r, p);
      break;
    default:
      break;
  }
  // A RST only a tracepoint saw (a local firewall's) closes the flow too.
  bool local_rst = ev.kind == RH_EV_LOCAL_RST_SEND || ev.kind == RH_EV_LOCAL_RST_RECV;
  if ((r.zeek.ended() || local_rst || r.late) && !r.closed_ns) r.closed_ns = ev.ts_ns;
}

void Timeline::on_reset_event(Rec& r, const Packet& p) {
  const rh_event& ev = p.ev;
  uint8_t side = ev.side & 1;
  bool wire = is_wire_hook(ev.hook);
  if (wire && !r.first_rst_ns[side]) r.first_rst_ns[side] = ev.ts_ns;
  // Events from different CPUs arrive slightly out of order: the window counts both ways.
  uint64_t gap = ev.ts_ns > r.burst_last_ns ? ev.ts_ns - r.burst_last_ns : r.burst_last_ns - ev.ts_ns;
  bool same_burst = r.burst && (r.burst->first.ev.side & 1) == side && gap <= opt_.burst_ns;
  bool counted = wire;
  if (!same_burst) {
    flush_burst(r, Fresh(lookup_, r.key));
    r.burst_last_wire.reset();
    // Built in place, not moved there.
    r.burst = PooledBurst(std::pmr::polymorphic_allocator<ResetBurst>(mem_).new_object<ResetBurst>(), PoolDelete{mem_});
    ResetBurst& rec = *r.burst;
    rec.first = p;
    rec.count = 1;  // a RST only a tracepoint saw is still one RST
    rec.wire_seen = wire;
    if (wire && p.frame) rec.frames.push_back(p.frame);
  } else if (wire) {
    ResetBurst& b = *r.burst;
    if (!b.wire_seen) {
      b.first = p;  // the tracepoint saw it first; the wire copy has the features
      b.wire_seen = true;
      b.count = 1;
      if (p.frame) b.frames.push_back(p.frame);
    } else {
      // Compared with the latest copy, not the burst's first: every RST of a
      // burst seen at two hooks arrives as two consecutive copies.
      const auto& l = r.burst_last_wire;
      bool duplicate =
          l && l->counted && l->hook != ev.hook && l->seq == ev.seq && l->ack == ev.ack && l->ip_id == ev.ip_id;
      counted = !duplicate;
      if (!duplicate) {  // the same RST seen at a second hook is not a second RST
        b.count++;
        if (b.rsts.empty()) b.rsts.push_back(b.first.ev);  // the second RST: the first joins the list
        if (b.rsts.size() < kMaxBurstDetail) {
          b.rsts.push_back(ev);
          if (p.frame) b.frames.push_back(p.frame);
        }
      }
    }
  }
  ResetBurst& b = *r.burst;
  if (ev.kind == RH_EV_LOCAL_RST_SEND) b.local_reason = ev.reason;
  if (ev.kind == RH_EV_LOCAL_RST_RECV) b.local_receive = true;
  if (wire || !b.flow_state) b.flow_state = r.state;
  if (wire) r.burst_last_wire = Rec::WireRst{ev.hook, ev.seq, ev.ack, ev.ip_id, counted};
  r.burst_last_ns = same_burst ? std::max<uint64_t>(r.burst_last_ns, ev.ts_ns) : ev.ts_ns;
}

void Timeline::flush_burst(Rec& r, const Fresh& fresh) {
  if (!r.burst) return;
  // The record is the burst and what the flow knows now, built here: the
  // burst's block goes back to the pool, and the record's other ~600 bytes are
  // this frame's (in cache), not a block per reset flow.
  ResetRecord rec;
  static_cast<ResetBurst&>(rec) = std::move(*r.burst);
  r.burst.reset();
  // What the peer did after the RST (the race) is in the kernel's counters,
  // not only in events: refresh them before the engine looks.
  if (fresh.on()) {
    if (const auto& st = fresh.get(); st && st->ts_syn == r.state.ts_syn) {
      r.state = *st;
      r.have_state = true;
    }
  }
  rec.synack = r.synack;
  rec.syn = r.syn;
  rec.app = r.app;
  rec.cgroup_id = r.cgroup_id;
  rec.memo = shared_memo(r);
  const uint8_t sender = rec.first.ev.side & 1;
  rec.answered = before(r.first_payload[sender ^ 1], rec.first.ev.ts_ns);
  rec.fin = before(r.first_fin[sender], rec.first.ev.ts_ns);
  if (r.have_state) rec.state_after = r.state;
  rec.initiator_local = r.syn && made_here(*r.syn);
  rec.responder_local = r.synack && made_here(*r.synack);
  const rh_flow_state& st = rec.flow_state ? *rec.flow_state : r.state;
  rec.initiator = orig_side(st, r.first_sender);
  if (st.ts_syn && st.ts_synack && st.ts_synack >= st.ts_syn) rec.rtt_ms = (st.ts_synack - st.ts_syn) / 1e6;
  if (cb_.on_reset) cb_.on_reset(rec);
}

void Timeline::emit_flow(Rec& r, const char* closed_by, const Fresh& fresh) {
  if (fresh.on()) {
    if (const auto& st = fresh.get(); st && (st->ts_syn == r.state.ts_syn || !r.have_state)) {
      r.state = *st;
      r.have_state = true;
    }
  }
  // The packets after the last event; not when called from add(): the table
  // already counts the packet that ends this flow.
  if (r.have_state && fresh.on()) r.zeek.on_final(r.zeek_prev, r.state);
  // A connection only a tracepoint saw (its SYN refused by a firewall here,
  // or carried by an untraced interface) has no packets to summarise.
  if (!cb_.on_flow || r.late || !(r.on_wire || r.have_state)) return;
  const rh_flow_state& st = r.state;
  // The source is Zeek's originator, so the line joins with conn.log's orientation.
  uint8_t o = r.zeek.orig() != RH_SIDE_UNKNOWN ? r.zeek.orig() : orig_side(st, r.first_sender), d = o ^ 1;
  FlowSummary f;
  f.key = r.key;
  f.family = r.key.family;
  f.ifindex = r.ifindex;
  auto fill = [&](Endpoint& e, uint8_t side) {
    std::memcpy(e.ip.data(), side == RH_SIDE_A ? r.key.addr_a : r.key.addr_b, 16);
    e.port = side == RH_SIDE_A ? r.key.port_a : r.key.port_b;
    e.mac = r.mac[side];
    e.bytes = r.zeek.bytes(side, st);
    e.packets = st.packets[side];
  };
  fill(f.source, o);
  fill(f.destination, d);
  f.start_ns = st.ts_syn ? std::min<uint64_t>(st.ts_syn, r.first_ns) : r.first_ns;
  f.end_ns = std::max<uint64_t>(r.last_ns, latest_activity(st));
  if (st.ts_syn && st.ts_synack && st.ts_synack >= st.ts_syn) f.rtt_ms = (st.ts_synack - st.ts_syn) / 1e6;
  f.handshake_seen = st.ts_syn && st.ts_synack;
  f.conn_state = r.zeek.conn_state();
  f.history = r.zeek.history();
  f.app = r.app;
  f.cgroup_id = r.cgroup_id;
  f.first_frame = r.first_frame;
  f.last_frame = r.last_frame;
  f.file = r.file;
  // A memo only when a line already filled one (else the flow line computes its own).
  if (r.memo || r.memo_here.community_id_len) f.memo = shared_memo(r);
  if (closed_by) {
    f.closed_by = closed_by;
  } else {
    // Who tore it down first: the earliest FIN or RST.
    auto first_close = [&](uint8_t s) {
      uint64_t t = UINT64_MAX;
      if (st.ts_fin[s]) t = st.ts_fin[s];
      if (r.first_rst_ns[s])
        t = std::min<uint64_t>(t, r.first_rst_ns[s]);
      else if (st.rst_count[s])
        t = std::min<uint64_t>(t, st.ts_rst[s]);
      return t;
    };
    uint64_t to = first_close(o), td = first_close(d);
    f.closed_by = to == UINT64_MAX && td == UINT64_MAX ? "unknown" : to <= td ? "source" : "destination";
  }
  cb_.on_flow(f);
}

void Timeline::erase(const rh_flow_key& k, bool remember) {
  auto it = flows_.find(k);
  if (it != flows_.end()) erase(it, remember);
}

void Timeline::erase(FlowMap::iterator it, bool remember) {
  Rec& r = it->second;
  this->remember(r.key, Recent{r.last_ns, r.zeek_prev, remember, {}, r.completion});
  lru_.erase(r.lru);
  flows_.erase(it);
}

void Timeline::remember(const rh_flow_key& k, Recent r) {
  if (auto old = recent_.find(k); old != recent_.end()) forget(old);
  while (!recent_order_.empty() && recent_.size() >= std::max<size_t>(opt_.max_flows, 1))
    forget(recent_.find(recent_order_.front()));
  r.order = recent_order_.insert(recent_order_.end(), k);
  recent_.emplace(k, r);
}

void Timeline::forget(std::unordered_map<rh_flow_key, Recent, KeyHash, KeyEq>::iterator it) {
  recent_order_.erase(it->second.order);
  recent_.erase(it);
}

void Timeline::tick(uint64_t now_ns) {
  std::vector<std::pair<rh_flow_key, bool>> done;
  for (auto& [k, r] : flows_) {
    const Fresh fresh(lookup_, k);
    if (r.burst && now_ns - r.burst_last_ns > opt_.burst_ns) flush_burst(r, fresh);
    // The linger runs from the last event: a connection that carries on after
    // a RST (an injected one) stays one flow while its packets keep coming.
    bool is_closed = r.closed_ns && now_ns - std::max(r.closed_ns, r.last_ns) > opt_.close_linger_ns;
    uint64_t last = std::max<uint64_t>(r.last_ns, r.have_state ? latest_activity(r.state) : 0);
    bool idle = now_ns > last && now_ns - last > opt_.idle_timeout_ns;
    if (idle && !is_closed && fresh.on()) {
      // The kernel may have seen data since the last event.
      if (const auto& st = fresh.get(); st && st->ts_syn == r.state.ts_syn) {
        r.state = *st;
        last = std::max<uint64_t>(last, latest_activity(r.state));
        idle = now_ns - last > opt_.idle_timeout_ns;
      }
    }
    bool attempt = !is_closed && r.zeek.attempt_over(now_ns);
    if (is_closed || idle || attempt) {
      flush_burst(r, fresh);
      emit_flow(r, is_closed ? nullptr : "timeout", fresh);
      done.emplace_back(k, !attempt);  // an attempt's next packets start a new flow at once
    }
  }
  for (auto& [k, remember] : done) erase(k, remember);
  for (auto it = recent_.begin(); it != recent_.end();) {
    auto next = std::next(it);
    if (now_ns - it->second.last_ns > kRecentKeepNs) forget(it);
    it = next;
  }
}

void Timeline::finish(uint64_t now_ns) {
  tick(now_ns);
  for (auto& [k, r] : flows_) {
    const Fresh fresh(lookup_, k);
    flush_burst(r, fresh);
    emit_flow(r, r.closed_ns ? nullptr : "trace_end", fresh);
  }
  flows_.clear();
  lru_.clear();
}

}  // namespace rsthop::flow
