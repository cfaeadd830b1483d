// Zeek's conn.log view of one connection (conn_state, history, who is the
// originator), rebuilt from the events rsthop sees so its flow lines can be
// joined with Zeek's.  A port of Zeek's TCP endpoint state machine
// (TCPSessionAdapter::UpdateStateMachine) and history rules (update_history,
// TCP_Endpoint::CheckHistory), fed packet by packet in arrival order.
//
// Events exist only for SYN, SYN-ACK, FIN, RST and a direction's first payload;
// the other packets (pure ACKs, more data) are inferred from the flow-state copy
// every event carries: between two events, a side whose packet count grew more
// than its events sent packets without control flags, a newly set pure_ack bit
// is its first pure ACK ('A') and a newly set ts_first_payload its first data
// packet ('D').  So letters come in packet order except among packets of one
// gap between two events, which are ordered by a rule (see infer()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bpf/abi.h"

namespace rsthop::flow {

class ZeekConn {
 public:
  // The flow goes on a connection already summarised (Zeek removed it: an
  // expired attempt, or after its close delay): the state copies' first-ACK and
  // first-data marks are the old connection's, so growth stands for them.
  void continuation() { continuation_ = true; }
  // One event (its tcp_flags, seq, payload_len, side and the state copy after it).
  // `before` is the state copy of the flow's previous event (zeroed for the first).
  void on_event(const rh_event& ev, const rh_flow_state& before);
  // The flow's last known state (the kernel table at the end): packets after the last event.
  void on_final(const rh_flow_state& before, const rh_flow_state& after);

  std::string conn_state() const;
  // Both sides closed by FINs, or either reset: a new SYN on the tuple is a new connection.
  bool ended() const;
  // Zeek's AttemptTimer: `now` is past tcp_attempt_delay (5 s) after the
  // originator's SYN, still unanswered (the responder sent nothing).
  bool attempt_over(uint64_t now) const;
  const std::string& history() const { return hist_; }
  // Zeek's orig_bytes / resp_bytes for `side` (TCP_Endpoint::Size()): the
  // sequence space the side covered, max(highest seq reached, highest ACK from
  // the peer) minus its start, less the SYN and FIN octets, so retransmitted
  // and duplicated segments count once and data missed by the capture but
  // acknowledged counts.  `st` is the flow's latest state.  Start: the ISN of
  // the side's SYN or SYN-ACK, else its first event's seq - 1 (Zeek's partial
  // endpoint).  Wraps of the 32-bit sequence space are counted from the
  // side's payload byte count.
  uint64_t bytes(uint8_t side, const rh_flow_state& st) const;
  // Canonical side Zeek calls the originator (RH_SIDE_UNKNOWN before any packet).
  uint8_t orig() const { return orig_; }

 private:
  enum class Ep : uint8_t { inactive, partial, syn_sent, synack_sent, established, closed, reset };
  struct Seg {
    uint8_t side;
    uint8_t flags;
    uint32_t seq;
    uint32_t len;
    bool history;  // false: an inferred packet standing for several, state only
    uint64_t ts;
  };
  void packet(const Seg& s);
  void infer(const rh_flow_state& before, const rh_flow_state& after, uint8_t ev_side, uint8_t ev_kind);
  void update_state(const Seg& s);
  void update_history(const Seg& s);
  bool check_history(uint32_t bit, uint8_t side, char code);
  void add_history(char code, uint8_t side);
  void set(uint8_t side, Ep e);
  void flip();

  Ep st_[2] = {Ep::inactive, Ep::inactive};
  Ep prev_[2] = {Ep::inactive, Ep::inactive};
  uint8_t orig_ = RH_SIDE_UNKNOWN;
  uint8_t last_side_ = RH_SIDE_UNKNOWN;  // sender of the latest packet fed
  uint16_t sport_[2] = {0, 0};           // each side's port, from the events
  std::string hist_;
  uint32_t seen_[2] = {0, 0};  // history bits seen, per role (0: originator)
  std::optional<uint32_t> last_syn_[2], last_fin_[2], last_rst_[2];
  uint64_t bytes_[2] = {0, 0};
  std::optional<uint32_t> start_seq_[2];  // see bytes()
  uint64_t attempt_ns_ = 0;
  bool continuation_ = false;  // when the originator's SYN put it in syn_sent
};

}  // namespace rsthop::flow
