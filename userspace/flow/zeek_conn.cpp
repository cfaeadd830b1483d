#include "flow/zeek_conn.h"

#include <algorithm>
#include <cctype>

namespace rsthop::flow {

namespace {

// History bits, as Zeek's TCP_Endpoint::HIST_* (one set per role).
constexpr uint32_t kHistSyn = 0x1, kHistFin = 0x2, kHistRst = 0x4, kHistFinRst = 0x8, kHistData = 0x10, kHistAck = 0x20,
                   kHistMulti = 0x40;

// Zeek's likely_server_ports come from the analyzers a site loads; this is the
// usual set's shape: the well-known range and the common high service ports.
bool likely_server_port(uint16_t p) {
  switch (p) {
    case 1080:
    case 1433:
    case 1521:
    case 3128:
    case 3306:
    case 3389:
    case 5060:
    case 5222:
    case 5432:
    case 5672:
    case 6379:
    case 6667:
    case 8000:
    case 8080:
    case 8443:
    case 8888:
    case 9200:
    case 27017:
      return true;
    default:
      return p < 1024;
  }
}

}  // namespace

void ZeekConn::on_event(const rh_event& ev, const rh_flow_state& before) {
  uint8_t side = ev.side & 1;
  if (ev.kind == RH_EV_ICMP || ev.kind == RH_EV_LOCAL_RST_SEND || ev.kind == RH_EV_LOCAL_RST_RECV ||
      ev.kind == RH_EV_FRAME)
    return;  // not a TCP segment of this flow as seen on the wire
  sport_[side] = ev.sport;
  sport_[side ^ 1] = ev.dport;
  infer(before, ev.flow, side, ev.kind);
  packet(Seg{side, ev.tcp_flags, ev.seq, ev.payload_len, true, ev.ts_ns});
  if (!start_seq_[side] || (ev.tcp_flags & RH_TCP_SYN))
    start_seq_[side] = (ev.tcp_flags & RH_TCP_SYN) ? ev.seq : ev.seq - 1;
  last_side_ = side;
  bytes_[0] = ev.flow.bytes[0];
  bytes_[1] = ev.flow.bytes[1];
}

void ZeekConn::on_final(const rh_flow_state& before, const rh_flow_state& after) {
  infer(before, after, RH_SIDE_UNKNOWN, 0);
  bytes_[0] = after.bytes[0];
  bytes_[1] = after.bytes[1];
}

uint64_t ZeekConn::bytes(uint8_t side, const rh_flow_state& st) const {
  side &= 1;
  if (!start_seq_[side]) return 0;  // no event from this side: it sent no payload (each first payload is one)
  uint32_t start = *start_seq_[side];
  bool fin = st.history[side] & RH_TCP_FIN;
  // seq_next excludes the FIN octet; Zeek's last_seq includes it.
  uint32_t last = (st.seq_next[side] ? st.seq_next[side] : start + 1) + (fin ? 1 : 0);
  uint32_t span = last - start;
  if (st.history[side ^ 1] & RH_TCP_ACK) {
    uint32_t acked = st.ack_last[side ^ 1] - start;
    // An ACK past what the side was seen sending: data the capture missed.  An
    // ACK behind the start (an old ACK, or a bogus one) says nothing.
    if (acked > span && acked < (1u << 31)) span = acked;
  }
  uint64_t size = span;
  // Sequence numbers wrap every 4 GiB; the payload count (retransmissions
  // included, so never below the data really sent) says how many times.
  if (st.bytes[side] > size) size += (st.bytes[side] - size) & ~uint64_t{0xffffffff};
  if (size) size--;         // the SYN octet (a partial endpoint's start is one before its first seq)
  if (fin && size) size--;  // the FIN octet
  return size;
}

// Packets of one gap between two events (or after the last one), from the
// difference of two state copies.  Control packets whose events were lost
// (ring buffer full) come back from their timestamps: the first SYN, SYN-ACK,
// FIN of a side, a side's RSTs.  Then per side its first pure ACK, its first
// data packet, or (neither new) one packet standing for the rest, which moves
// the state machine but writes no letter.  Timed packets go in time order; a
// pure ACK has no time: it goes just before its side's first data packet when
// that is in the same gap (a handshake's last ACK, then the request), else
// first, the side that did not send the previous event answering first.
void ZeekConn::infer(const rh_flow_state& before, const rh_flow_state& after, uint8_t ev_side, uint8_t ev_kind) {
  struct Timed {
    uint64_t ts;
    int rank;  // among equal times: the pure ACK first
    Seg seg;
  };
  Timed v[12];
  int n = 0;
  for (uint8_t k = 0; k < 2; k++) {
    uint8_t s = last_side_ == RH_SIDE_UNKNOWN ? k : (last_side_ ^ 1 ^ k);
    int64_t more = int64_t(after.packets[s]) - int64_t(before.packets[s]) - (s == ev_side ? 1 : 0);
    if (more <= 0) continue;
    const bool mine = s == ev_side;
    auto put = [&](uint64_t ts, int rank, Seg seg) {
      if (more-- > 0) v[n++] = Timed{ts, rank, seg};
    };
    if (after.ts_syn && !before.ts_syn && after.initiator == s && !(mine && ev_kind == RH_EV_SYN))
      put(after.ts_syn, 1, Seg{s, RH_TCP_SYN, after.syn_seq, 0, true, after.ts_syn});
    if (after.ts_synack && !before.ts_synack && after.initiator == (s ^ 1) && !(mine && ev_kind == RH_EV_SYNACK))
      put(after.ts_synack, 1, Seg{s, RH_TCP_SYN | RH_TCP_ACK, 0, 0, true, after.ts_synack});
    if (after.ts_fin[s] && !before.ts_fin[s] && !(mine && ev_kind == RH_EV_FIN))
      put(after.ts_fin[s], 1, Seg{s, RH_TCP_FIN | RH_TCP_ACK, 0, 0, true, after.ts_fin[s]});
    int64_t rsts = int64_t(after.rst_count[s]) - before.rst_count[s] - (mine && ev_kind == RH_EV_RST ? 1 : 0);
    if (rsts > 0) put(after.ts_rst[s], 1, Seg{s, RH_TCP_RST | RH_TCP_ACK, 0, 0, true, after.ts_rst[s]});
    bool new_ack = ((after.pure_ack >> s) & 1) && !((before.pure_ack >> s) & 1);
    bool new_data = after.ts_first_payload[s] && !before.ts_first_payload[s] && !(mine && ev_kind == RH_EV_PAYLOAD);
    uint64_t data_ts = after.ts_first_payload[s];
    if (continuation_ && !new_data && !new_ack) {
      // A guess: the bytes came in data packets (timed by the last PSH) and the
      // rest of the packets were ACKs after them.
      uint64_t grew = after.bytes[s] - before.bytes[s];
      new_data = after.bytes[s] > before.bytes[s] && !(mine && ev_kind == RH_EV_PAYLOAD);
      data_ts = after.ts_last_payload[s];
      if (more > (new_data ? 1 : 0) && grew < uint64_t(more) * 1460) new_ack = true;
    }
    uint64_t front = n ? v[0].ts : 0;
    if (new_ack && continuation_)
      put(data_ts, 2, Seg{s, RH_TCP_ACK, 0, 0, true, 0});
    else if (new_ack)
      put(new_data ? data_ts : front, 0, Seg{s, RH_TCP_ACK, 0, 0, true, 0});
    if (new_data) put(data_ts, 1, Seg{s, RH_TCP_ACK | RH_TCP_PSH, 0, 1, true, data_ts});
    if (more > 0) put(UINT64_MAX, 3, Seg{s, RH_TCP_ACK, 0, after.bytes[s] > before.bytes[s] ? 1u : 0u, false, 0});
  }
  std::stable_sort(v, v + n,
                   [](const Timed& a, const Timed& b) { return a.ts != b.ts ? a.ts < b.ts : a.rank < b.rank; });
  for (int i = 0; i < n; i++) {
    packet(v[i].seg);
    last_side_ = v[i].seg.side;
  }
}

void ZeekConn::packet(const Seg& s) {
  if (orig_ == RH_SIDE_UNKNOWN) {
    orig_ = s.side;
    // Zeek's TCPAnalyzer::WantConnection: a connection first seen without a
    // bare SYN is flipped when its source port looks like a server's.
    bool bare_syn = (s.flags & (RH_TCP_SYN | RH_TCP_ACK)) == RH_TCP_SYN;
    uint16_t src = sport_[s.side], dst = sport_[s.side ^ 1];
    if (!bare_syn && src && likely_server_port(src)) {
      bool both = dst && likely_server_port(dst);
      if (!both || (!(s.flags & RH_TCP_SYN) && src < dst)) flip();
    }
  }
  if (s.history) update_history(s);
  update_state(s);
}

void ZeekConn::flip() {
  orig_ ^= 1;
  hist_.push_back('^');
}

void ZeekConn::set(uint8_t side, Ep e) {
  prev_[side] = st_[side];
  st_[side] = e;
}

void ZeekConn::add_history(char code, uint8_t side) {
  hist_.push_back(side == orig_ ? code : static_cast<char>(std::tolower(code)));
}

bool ZeekConn::check_history(uint32_t bit, uint8_t side, char code) {
  if ((code == 'A' || code == 'D') && hist_ == "H") {
    // A connection that began with a SYN-ACK is flipped at its first productive packet.
    orig_ ^= 1;
    hist_ = "^h";
  }
  uint32_t& seen = seen_[side == orig_ ? 0 : 1];  // by role: Zeek does not swap them on a flip
  if (!(seen & bit)) {
    seen |= bit;
    add_history(code, side);
    return false;
  }
  return true;
}

void ZeekConn::update_history(const Seg& s) {
  uint8_t f = s.flags;
  int bits = !!(f & RH_TCP_SYN) + !!(f & RH_TCP_FIN) + !!(f & RH_TCP_RST);
  auto repeat = [&](uint32_t bit, char code, std::optional<uint32_t>& last, uint32_t seq) {
    if (check_history(bit, s.side, code) && (!last || *last != seq)) add_history(code, s.side);
    last = seq;
  };
  if (bits > 1) {
    if ((f & RH_TCP_FIN) && (f & RH_TCP_RST))
      check_history(kHistFinRst, s.side, 'I');
    else
      check_history(kHistMulti, s.side, 'Q');
  } else if (bits == 1) {
    if (f & RH_TCP_SYN) repeat(kHistSyn, (f & RH_TCP_ACK) ? 'H' : 'S', last_syn_[s.side], s.seq);
    if (f & RH_TCP_FIN) repeat(kHistFin, 'F', last_fin_[s.side], s.seq + s.len);
    if (f & RH_TCP_RST) repeat(kHistRst, 'R', last_rst_[s.side], s.seq);
  } else if (s.len) {
    check_history(kHistData, s.side, 'D');
  } else if (f & RH_TCP_ACK) {
    check_history(kHistAck, s.side, 'A');
  }
}

// TCPSessionAdapter::UpdateStateMachine, without the weirds and timers.
void ZeekConn::update_state(const Seg& s) {
  const uint8_t me = s.side, peer = me ^ 1;
  const bool syn = s.flags & RH_TCP_SYN, ack = s.flags & RH_TCP_ACK, fin = s.flags & RH_TCP_FIN,
             rst = s.flags & RH_TCP_RST;
  bool is_orig = me == orig_;
  switch (st_[me]) {
    case Ep::inactive:
      if (syn) {
        if (is_orig) {
          set(me, ack ? Ep::synack_sent : Ep::syn_sent);
          attempt_ns_ = s.ts;
        } else {
          if (!ack && st_[peer] == Ep::synack_sent) {
            flip();
            set(peer, Ep::established);
          }
          if (st_[peer] == Ep::syn_sent) set(peer, Ep::established);
          set(me, Ep::established);
        }
      }
      if (fin) set(me, Ep::closed);
      if (rst) set(me, Ep::reset);
      if (st_[me] == Ep::inactive) {
        if (!is_orig && s.len == 0 && st_[orig_] == Ep::syn_sent) {
          // a bare ACK answering a SYN changes nothing
        } else if (ack && st_[peer] == Ep::established) {
          set(me, Ep::established);
        } else {
          set(me, Ep::partial);
        }
      }
      break;
    case Ep::syn_sent:
    case Ep::synack_sent:
      if (fin) set(me, Ep::closed);
      if (rst) set(me, Ep::reset);
      break;
    case Ep::established:
    case Ep::partial:
      if (syn && st_[me] == Ep::partial && st_[peer] == Ep::inactive && !ack) set(me, Ep::syn_sent);
      if (fin && !rst) {
        set(me, Ep::closed);
        if (st_[peer] == Ep::reset && prev_[peer] == Ep::closed) set(peer, Ep::closed);
      }
      if (rst) set(me, Ep::reset);
      break;
    case Ep::closed:
      if (rst && st_[peer] != Ep::closed) set(me, Ep::reset);
      break;
    case Ep::reset:
      break;
  }
}

bool ZeekConn::attempt_over(uint64_t now) const {
  constexpr uint64_t kAttemptDelayNs = 5'000'000'000ULL;  // Zeek's tcp_attempt_delay
  if (orig_ == RH_SIDE_UNKNOWN || !attempt_ns_ || now <= attempt_ns_ + kAttemptDelayNs) return false;
  Ep os = st_[orig_];
  return (os == Ep::syn_sent || os == Ep::synack_sent) && st_[orig_ ^ 1] == Ep::inactive;
}

bool ZeekConn::ended() const {
  return (st_[0] == Ep::closed && st_[1] == Ep::closed) || st_[0] == Ep::reset || st_[1] == Ep::reset;
}

// Zeek's conn_state() (scripts/base/protocols/conn/main.zeek) over the endpoint states.
std::string ZeekConn::conn_state() const {
  if (orig_ == RH_SIDE_UNKNOWN) return "OTH";
  const Ep os = st_[orig_], rs = st_[orig_ ^ 1];
  const bool o_inactive = os == Ep::inactive || os == Ep::partial;
  const bool r_inactive = rs == Ep::inactive || rs == Ep::partial;
  if (rs == Ep::reset) {
    if (os == Ep::syn_sent || os == Ep::synack_sent || (os == Ep::reset && !bytes_[orig_] && !bytes_[orig_ ^ 1]))
      return "REJ";
    return o_inactive ? "RSTRH" : "RSTR";
  }
  if (os == Ep::reset) {
    if (!r_inactive) return "RSTO";
    // /^\^?S[^HAFGIQ]*R.*/: the originator's SYN, then its RST, nothing productive between.
    size_t i = !hist_.empty() && hist_[0] == '^' ? 1 : 0;
    if (i < hist_.size() && hist_[i] == 'S') {
      for (size_t j = i + 1; j < hist_.size(); j++) {
        char c = hist_[j];
        if (c == 'R') return "RSTOS0";
        if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q') break;
      }
    }
    return "OTH";
  }
  if (rs == Ep::closed && os == Ep::closed) return "SF";
  if (os == Ep::closed) return r_inactive ? "SH" : "S2";
  if (rs == Ep::closed) return o_inactive ? "SHR" : "S3";
  if (os == Ep::syn_sent && rs == Ep::inactive) return "S0";
  if (os == Ep::established && rs == Ep::established) return "S1";
  return "OTH";
}

}  // namespace rsthop::flow
