// The flow timeline: events from either road in, per-connection summaries and
// reset records out.  Pure logic over the ABI event (no libbpf, no I/O), so it
// runs the same for live capture and capture files and is unit-testable.
//
// Contract: add() takes events in roughly time order; tick(now) emits what is
// due (reset bursts whose window closed, flows closed for `close_linger_ns` or
// idle for `idle_timeout_ns`); finish(now) emits everything left.  Memory is
// bounded by `max_flows`: past it the stalest flow is emitted early and counted.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/huge_arena.h"
#include "flow/completion.h"
#include "flow/model.h"
#include "flow/zeek_conn.h"

namespace rsthop::flow {

struct KeyHash {
  size_t operator()(const rh_flow_key& k) const noexcept;
};
struct KeyEq {
  bool operator()(const rh_flow_key& a, const rh_flow_key& b) const noexcept;
};

class Timeline {
 public:
  struct Options {
    uint64_t idle_timeout_ns = 300'000'000'000ULL;  // Zeek's tcp_inactivity_timeout
    uint64_t close_linger_ns = 1'000'000'000ULL;    // wait for the last ACK / retransmitted FINs
    uint64_t burst_ns = 500'000'000ULL;             // RSTs from one sender this close form one record
    size_t max_flows = 65536;
  };
  struct Callbacks {
    std::function<void(const FlowSummary&)> on_flow;
    std::function<void(const ResetRecord&)> on_reset;
  };
  // Refreshes a flow's counters at the end (the kernel table has the last ACKs).
  using StateLookup = std::function<std::optional<rh_flow_state>(const rh_flow_key&)>;

  // Called with each packet once its flow state is complete, before the
  // timeline acts on it, and the flow's memo when the flow already has a
  // record (null for its first packet): a packet line computes the flow's
  // Community ID once for every later line of the flow (FlowMemo).
  using Seen = std::function<void(const Packet&, FlowMemo*)>;

  Timeline(Options opt, Callbacks cb, StateLookup lookup = {});

  // Completes p's flow state in place from what the flow's earlier events
  // delivered (FlowCompletion, kept in the flow's entry: one lookup per event),
  // hands it to `seen`, then adds it.
  void add(Packet& p, const Seen& seen = {});
  // The same for a packet the caller keeps as it is (a copy is completed).
  void add(const Packet& p);
  void tick(uint64_t now_ns);
  void finish(uint64_t now_ns);

  size_t active_flows() const { return flows_.size(); }
  uint64_t evicted() const { return evicted_; }
  // Summarised tuples still remembered (late packets, state carried to a reuse):
  // at most max_flows, the oldest forgotten first.
  size_t remembered() const { return recent_.size(); }

 private:
  // A reset flow's burst in the timeline's pool (~700 bytes; the ResetRecord
  // is built when the burst is emitted, on the stack: flush_burst()).
  struct PoolDelete {
    std::pmr::memory_resource* pool;  // no initializer: Rec stays default-constructible inside Timeline
    void operator()(ResetBurst* p) const { std::pmr::polymorphic_allocator<ResetBurst>(pool).delete_object(p); }
  };
  using PooledBurst = std::unique_ptr<ResetBurst, PoolDelete>;
  struct Rec {
    rh_flow_key key{};
    uint32_t ifindex = 0;
    rh_flow_state state{};
    bool have_state = false;
    bool on_wire = false;  // an XDP / tc / pcap hook saw one of its packets
    uint8_t first_sender = RH_SIDE_UNKNOWN;
    uint64_t first_ns = 0, last_ns = 0, closed_ns = 0;
    uint64_t first_frame = 0, last_frame = 0;  // capture files only
    std::string file;
    std::optional<std::array<uint8_t, 6>> mac[2];
    std::optional<EventHead> synack, syn;
    std::optional<PacketMark> first_payload[2], first_fin[2];  // per side
    uint64_t first_rst_ns[2] = {0, 0};
    AppHint app;
    uint64_t cgroup_id = 0;     // from the flow's tracepoint events
    ZeekConn zeek;              // conn_state and history, packet by packet
    rh_flow_state zeek_prev{};  // the state copy ZeekConn saw last
    bool late = false;          // RSTs of a flow already summarised: reset lines only
    PooledBurst burst;          // most flows never see one: keep Rec small
    uint64_t burst_last_ns = 0;
    // The burst's latest wire RST and whether it was counted: the same RST seen
    // next at another hook is a copy, not a second RST.
    struct WireRst {
      uint8_t hook;
      uint32_t seq, ack;
      uint16_t ip_id;
      bool counted;
    };
    std::optional<WireRst> burst_last_wire;
    std::list<rh_flow_key>::iterator lru;
    FlowCompletion completion;  // the once-set fields of the flow's connection
    // The flow's memo: in place until a reset record or the summary needs it
    // shared (most flows never have one), then `memo` (shared_memo()).
    FlowMemo memo_here;
    std::shared_ptr<FlowMemo> memo;
  };
  // The records and their reset bursts live in a pool of their own: at ~1.3 KB
  // a record is past glibc's per-thread cache (1,032 bytes), so malloc would take
  // its slow path; the pool hands back the blocks of summarised flows,
  // and its memory is bounded by the most flows held at once (max_flows).  The
  // pool's chunks come from 2 MiB regions advised for transparent huge pages
  // (HugePageArena): records read in hash order cost a TLB miss each on 4 KiB
  // pages, and a growing table a page fault per 4 KiB.  The arena keeps the
  // bucket arrays a rehash replaced (less than the last one together): only
  // flows_ passes large blocks through the pool, and its buckets only grow.
  using FlowMap = std::pmr::unordered_map<rh_flow_key, Rec, KeyHash, KeyEq>;
#if defined(__SANITIZE_ADDRESS__)
  static constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  static constexpr bool kSanitized = true;
#else
  static constexpr bool kSanitized = false;
#endif
#else
  static constexpr bool kSanitized = false;
#endif

  // The flow's record: `it` when it holds one, else a new one (the stalest evicted when full).
  Rec& rec_for(const Packet& p, FlowMap::iterator it);
  void record(Rec& r, const Packet& p);
  static const std::shared_ptr<FlowMemo>& shared_memo(Rec& r);
  void on_reset_event(Rec& r, const Packet& p);
  // The kernel's copy of one flow's counters (the StateLookup, a syscall
  // live), read at most once however many of the flow's records one tick
  // emits: a reset record and the flow's summary due in the same tick share
  // one read.  off(): no read at all (from add(), whose packet the table
  // already counts).
  class Fresh {
   public:
    Fresh(const StateLookup& lookup, const rh_flow_key& key) : lookup_(lookup ? &lookup : nullptr), key_(&key) {}
    static Fresh off() { return Fresh(); }
    bool on() const { return lookup_ != nullptr; }
    // The copy (nullopt when the kernel has none); the first call reads it.
    const std::optional<rh_flow_state>& get() const {
      if (!read_) {
        value_ = (*lookup_)(*key_);
        read_ = true;
      }
      return value_;
    }

   private:
    Fresh() = default;
    const StateLookup* lookup_ = nullptr;
    const rh_flow_key* key_ = nullptr;
    mutable std::optional<rh_flow_state> value_;
    mutable bool read_ = false;
  };
  void flush_burst(Rec& r, const Fresh& fresh);
  void emit_flow(Rec& r, const char* closed_by, const Fresh& fresh);
  void erase(const rh_flow_key& k, bool remember = true);
  void erase(FlowMap::iterator it, bool remember = true);

  Options opt_;
  Callbacks cb_;
  StateLookup lookup_;
  HugePageArena arena_;                                   // the pool's chunks, in huge pages: before pool_
  std::pmr::unsynchronized_pool_resource pool_{&arena_};  // before flows_: it outlives the records
  // Where records and bursts live: the pool, or in an AddressSanitizer build
  // (the fuzzers) the heap, a block each, so a use after free inside one is
  // caught (the pool hands a freed block out again unpoisoned).
  std::pmr::memory_resource* mem_ = kSanitized ? std::pmr::new_delete_resource() : &pool_;
  FlowMap flows_{mem_};
  std::list<rh_flow_key> lru_;  // front = most recently active
  // Recently summarised flows: late ACKs and retransmits must not start a new
  // one (drop), and a later flow of the tuple counts from their last state copy.
  struct Recent {
    uint64_t last_ns;
    rh_flow_state state;
    bool drop;
    std::list<rh_flow_key>::iterator order;
    FlowCompletion completion;  // late packets and a continuation are still completed
  };
  using RecentMap = std::unordered_map<rh_flow_key, Recent, KeyHash, KeyEq>;
  // `known`: recent_'s entry for ev's tuple (or end()), as add() found it when the tuple had no record.
  bool end_before(const rh_event& ev, FlowMap::iterator& it, RecentMap::iterator known, const FlowCompletion& done,
                  std::optional<rh_flow_state>& carried, bool& late);
  void remember(const rh_flow_key& k, Recent r);
  void forget(RecentMap::iterator it);
  RecentMap recent_;
  std::list<rh_flow_key> recent_order_;  // front = summarised first
  uint64_t evicted_ = 0;
  Packet copy_;  // add(const Packet&)'s completed copy
};

}  // namespace rsthop::flow
