// Classifying a reset from a remote sender, in three steps the engine runs in
// order: the signal table (each signal: the facts -> one Evidence or
// nothing), the decision (evidence -> origin, hop, confidence) and the
// summary (-> the sentence).  Pure functions of RemoteFacts, each testable
// on its own; Engine::classify builds the facts from a flow::ResetRecord.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attribution/verdict.h"
#include "bpf/abi.h"
#include "flow/model.h"

namespace rsthop::attribution {

// A set of TTLs in 32 bytes: filled, copied and tested without the heap,
// walked in ascending order (std::set<uint8_t>'s order).
class TtlSet {
 public:
  TtlSet() = default;
  TtlSet(std::initializer_list<uint8_t> ttls) {
    for (uint8_t t : ttls) insert(t);
  }
  void insert(uint8_t t) { bits_[t >> 6] |= uint64_t{1} << (t & 63); }
  bool contains(uint8_t t) const { return (bits_[t >> 6] >> (t & 63)) & 1; }
  size_t size() const {
    size_t n = 0;
    for (uint64_t w : bits_) n += static_cast<size_t>(std::popcount(w));
    return n;
  }
  bool empty() const { return size() == 0; }
  // Exactly one TTL (size() == 1, without counting).
  bool single() const {
    int words = 0;
    for (uint64_t w : bits_) {
      if (!w) continue;
      if (++words > 1 || (w & (w - 1))) return false;
    }
    return words == 1;
  }
  // Calls f(ttl) for each TTL, smallest first.
  template <typename F>
  void each(F&& f) const {
    for (size_t w = 0; w < bits_.size(); w++)
      for (uint64_t b = bits_[w]; b; b &= b - 1) f(static_cast<uint8_t>(w * 64 + std::countr_zero(b)));
  }
  // The smallest TTL (0 for an empty set).
  uint8_t front() const {
    for (size_t w = 0; w < bits_.size(); w++)
      if (bits_[w]) return static_cast<uint8_t>(w * 64 + std::countr_zero(bits_[w]));
    return 0;
  }

 private:
  std::array<uint64_t, 4> bits_{};
};

// What one reset and its flow tell, already reduced to the sender's view.
struct RemoteFacts {
  rh_event rst{};                            // the burst's first RST
  rh_flow_state st{};                        // the flow when the RST was seen
  std::optional<rh_flow_state> state_after;  // the flow when the record was emitted
  uint8_t sender = 0, receiver = 1;          // sides of the canonical key
  bool receiver_is_init = true;              // the RST's receiver opened the connection
  bool receiver_local = false;               // the RST's receiver is a socket on this host
  bool local_events = true;                  // tcp_send_reset / tcp_receive_reset are traced
  bool local_receive = false;                // a socket here accepted the RST
  std::optional<double> rtt_ms;
  int rst_hop = 0;                       // hop of the RST's sender from its TTL
  std::optional<flow::EventHead> base;   // the peer's own handshake packet (SYN or SYN-ACK), unless made here
  const char* base_name = "SYN-ACK";     // "SYN" or "SYN-ACK"
  std::optional<int> endpoint_hop;       // hop of the peer: from `base`, else from other connections
  bool endpoint_hop_remembered = false;  // endpoint_hop came from other connections
  uint32_t peer_next = 0;                // the peer's next sequence number, 0 when unknown
  // The hop this address answered other ports from: the engine's memory,
  // lent (not copied) for one classify(); none when it answered none yet.
  const std::map<uint16_t, int>* port_hops = nullptr;
  Fingerprint fingerprint;
  std::optional<std::array<uint8_t, 6>> l2_mac;
  std::string l2_vendor;
  std::optional<RstDiagnostic> diagnostic;
  std::string payload_text;
  std::optional<flow::PacketMark> answered;  // the receiver's request the RST answers
  std::optional<flow::PacketMark> fin;       // the sender's FIN before the RST
  // Across connections (the engine's memory of this address): the TTLs its
  // RSTs came with, and those of its SYN-ACKs.
  TtlSet rst_ttls_seen, synack_ttls_seen;
};

// The signals, in the order their evidence is listed.
std::optional<Evidence> hop_memory_signal(const RemoteFacts& f);
std::optional<Evidence> hop_distance_signal(const RemoteFacts& f);
std::optional<Evidence> initial_ttl_signal(const RemoteFacts& f);
std::optional<Evidence> race_signal(const RemoteFacts& f);
std::optional<Evidence> burst_ttl_signal(const RemoteFacts& f);
std::optional<Evidence> seq_signal(const RemoteFacts& f);
std::optional<Evidence> seq_change_signal(const RemoteFacts& f);
std::optional<Evidence> timing_signal(const RemoteFacts& f);
std::optional<Evidence> window_signal(const RemoteFacts& f);
std::optional<Evidence> ip_df_signal(const RemoteFacts& f);
std::optional<Evidence> ip_id_signal(const RemoteFacts& f);
std::optional<Evidence> l2_source_signal(const RemoteFacts& f);
std::optional<Evidence> l2_vendor_signal(const RemoteFacts& f);
std::optional<Evidence> payload_signal(const RemoteFacts& f);
std::optional<Evidence> stack_response_signal(const RemoteFacts& f);
std::optional<Evidence> port_distance_signal(const RemoteFacts& f);
// The address's RSTs carry a TTL that changes from connection to connection
// while its SYN-ACKs keep one: a TTL chosen per connection tells no distance.
std::optional<Evidence> ttl_varies_signal(const RemoteFacts& f);
// The RST copies fields of the request it answers (IP ID + 1, its window).
std::optional<Evidence> copied_fields_signal(const RemoteFacts& f);
// A FIN carrying data came from the RST's sender just before it: an answer
// (a blockpage, a redirect) sent with the RST, by the same device when the
// RST is not the peer's.
std::optional<Evidence> injected_answer_signal(const RemoteFacts& f);

using Signal = std::optional<Evidence> (*)(const RemoteFacts&);
inline constexpr std::array<Signal, 19> kRemoteSignals = {
    hop_memory_signal,      hop_distance_signal,   initial_ttl_signal,  race_signal,
    burst_ttl_signal,       ttl_varies_signal,     seq_signal,          seq_change_signal,
    timing_signal,          window_signal,         ip_df_signal,        ip_id_signal,
    copied_fields_signal,   l2_source_signal,      l2_vendor_signal,    payload_signal,
    injected_answer_signal, stack_response_signal, port_distance_signal};

// Every signal of the table that fired, in table order.
std::vector<Evidence> remote_evidence(const RemoteFacts& f);

struct Decision {
  Origin origin = Origin::unknown;
  std::optional<int> hop;  // the sender's hop; none when its TTL is forged
  double confidence = 0;
  bool conflicting = false;      // one signal clearly says "the peer", others "someone else"
  bool proxy = false;            // port_distance fired: an intercepting proxy answers this port
  bool ttl_forged = false;       // a middlebox's RST from the peer's distance or beyond: its TTL tells nothing
  std::vector<int> senders;      // two TTLs in one burst: the hop of each sender, nearest first
  bool injected_answer = false;  // a FIN with an answer came with the RST (a blockpage)
  std::string why;               // the strongest positive evidence, as "signal: observed, expected ..."
};
// A middlebox needs a strong signal (one an endpoint's own RST cannot
// produce); conflicting evidence lowers confidence rather than accusing.
Decision decide(const RemoteFacts& f, const std::vector<Evidence>& evidence);
std::string remote_summary(const RemoteFacts& f, const Decision& d, Stage stage);

// The hops of the distinct TTLs of a burst, nearest first (one per sender).
std::vector<int> sender_hops(const RemoteFacts& f);

// Shared wording.
std::string endpoint_str(const uint8_t* addr, uint16_t port);
// Appends endpoint_str()'s text to `out`, without a temporary.
void append_endpoint(std::string& out, const uint8_t* addr, uint16_t port);
const char* stage_phrase(Stage stage);

}  // namespace rsthop::attribution
