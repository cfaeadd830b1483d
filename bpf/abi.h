/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * rsthop ABI: the layouts shared by the kernel programs (bpf/rsthop.bpf.c)
 * and userspace (userspace/kernel, userspace/flow, userspace/pcap).
 *
 * Rules: fixed-width types only, explicit padding, no pointers.  Unless a
 * field says otherwise, integers are in HOST byte order (the BPF side
 * converts when it parses) and addresses are in NETWORK byte order, always
 * 16 bytes: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).  The C++ side
 * checks sizes and offsets with static_assert (userspace/kernel/abi_check.cpp).
 */
#ifndef RSTHOP_ABI_H
#define RSTHOP_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define RH_ABI_VERSION 2

/* Bounded sizes. */
#define RH_RST_PAYLOAD_MAX   64	  /* RST payload bytes copied into rh_event */
#define RH_DATA_SNAP_MAX     512  /* first-payload bytes copied into rh_data_event */
#define RH_FRAME_SNAP_MAX    256  /* frame bytes copied into rh_frame_event (--pcap-out) */
#define RH_MAX_CIDRS	     16	  /* in-kernel host filter entries */
#define RH_PORT_BITMAP_WORDS 1024 /* 65536 bits */

/*
 * A port as a 16-bit load of its two wire bytes reads on this host: the
 * --port bitmap is indexed by it, so the filter tests a header's ports
 * without a byte swap.  Userspace sets the bits with rh_port_bitmap_set().
 */
static inline __u16 rh_port_wire(__u16 port)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u16)((port >> 8) | (port << 8));
#else
	return port;
#endif
}

static inline void rh_port_bitmap_set(__u64 *bitmap, __u16 port)
{
	__u16 w = rh_port_wire(port);

	bitmap[w >> 6] |= 1ULL << (w & 63);
}

/* Where a packet was seen. */
enum rh_hook {
	RH_HOOK_XDP = 0,
	RH_HOOK_TC_INGRESS = 1,
	RH_HOOK_TC_EGRESS = 2,
	RH_HOOK_TP_SEND_RESET = 3, /* tp_btf/tcp_send_reset: this host sent a RST */
	RH_HOOK_TP_RECV_RESET = 4, /* tp_btf/tcp_receive_reset: a socket here accepted a RST */
	RH_HOOK_PCAP = 5,	   /* a capture file (userspace/pcap); never set by the kernel */
};

/* What an event is about. */
enum rh_event_kind {
	RH_EV_SYN = 1,
	RH_EV_SYNACK = 2,
	RH_EV_FIN = 3,
	RH_EV_RST = 4,
	RH_EV_ICMP = 5,	   /* ICMP/ICMPv6 error quoting a TCP segment */
	RH_EV_PAYLOAD = 6, /* first payload packet of a direction (rh_data_event) */
	RH_EV_LOCAL_RST_SEND = 7,
	RH_EV_LOCAL_RST_RECV = 8,
	RH_EV_FRAME = 9, /* the first bytes of the frame behind the event before it (rh_frame_event) */
};

/* enum tcp_state (include/net/tcp_states.h), as LOCAL_RST_RECV events carry it. */
#define RH_TCP_STATE_SYN_SENT 2

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
#define RH_TCP_FIN 0x01
#define RH_TCP_SYN 0x02
#define RH_TCP_RST 0x04
#define RH_TCP_PSH 0x08
#define RH_TCP_ACK 0x10
#define RH_TCP_URG 0x20
#define RH_TCP_ECE 0x40
#define RH_TCP_CWR 0x80

/* rh_event.opts bits: which TCP options the segment carried. */
#define RH_OPT_MSS	 0x01
#define RH_OPT_WSCALE	 0x02
#define RH_OPT_SACK_PERM 0x04
#define RH_OPT_TIMESTAMP 0x08
#define RH_OPT_SACK	 0x10
#define RH_OPT_OTHER	 0x20
#define RH_OPT_TRUNCATED 0x40 /* option list ended early or was cut by the capture */

/* rh_event.ip_flags bits. */
#define RH_IPF_DF	  0x01
#define RH_IPF_FRAG_FIRST 0x02 /* first fragment (MF set, offset 0) */
#define RH_IPF_VLAN	  0x04 /* frame carried at least one 802.1Q/802.1ad tag */

/* Index of a flow side: the canonical key orders the two endpoints. */
#define RH_SIDE_A	0
#define RH_SIDE_B	1
#define RH_SIDE_UNKNOWN 0xff

/*
 * Canonical flow key: endpoint A is the one with the smaller (address, port)
 * in byte-wise order, so both directions of a connection map to one key.
 */
struct rh_flow_key {
	__u8 addr_a[16]; /* network order */
	__u8 addr_b[16]; /* network order */
	__u16 port_a;	 /* host order */
	__u16 port_b;	 /* host order */
	__u8 family;	 /* 4 or 6 */
	__u8 pad[3];
};

/*
 * The kernel's IPv4 flow table key (map flows4): an IPv4 flow's rh_flow_key
 * without the v4-mapped prefixes and the family, 12 bytes instead of 40, which
 * halves the hash of every lookup (rh_flow_key4_make() in flow_key.h).
 */
struct rh_flow_key4 {
	__u32 addr_a; /* network order: addr_a[12..15] of the rh_flow_key */
	__u32 addr_b;
	__u16 port_a;
	__u16 port_b;
};

/* Per-flow state; arrays are indexed by side (RH_SIDE_A / RH_SIDE_B). */
struct rh_flow_state {
	__u64 ts_syn;	 /* first SYN (CLOCK_MONOTONIC ns) */
	__u64 ts_synack; /* first SYN-ACK */
	__u64 ts_first_payload[2];
	__u64 ts_last_payload[2];
	__u64 ts_fin[2];  /* first FIN sent by each side */
	__u64 ts_rst[2];  /* last RST sent by each side */
	__u64 bytes[2];	  /* TCP payload bytes sent by each side */
	__u32 packets[2]; /* packets sent by each side */
	__u32 rst_count[2];
	__u32 syn_seq;	   /* ISN of the initiator's SYN */
	__u32 seq_next[2]; /* highest seq + payload length seen per side */
	__u32 ack_last[2]; /* last ACK number sent per side */
	__u8 initiator;	   /* side that sent the first SYN, RH_SIDE_UNKNOWN if not seen */
	__u8 history[2];   /* RH_TCP_* flags seen per side, OR-ed */
	__u8 peer_ttl;	   /* responder's SYN-ACK TTL / hop limit (baseline) */
	__u16 peer_ip_id;  /* responder's SYN-ACK IP ID */
	__u16 peer_window; /* responder's SYN-ACK window */
	__u8 peer_mac[6];  /* source MAC of the SYN-ACK as received */
	__u8 init_ttl;	   /* initiator's SYN TTL (baseline at the server side) */
	__u8 pure_ack;	   /* bit (1 << side): that side sent a bare ACK */
	__u16 init_ip_id;
	__u16 init_window;
	__u8 init_mac[6];
	__u8 pad2[2];
};

/*
 * A slot of flow_slots, the IPv4 flows' first table: a plain array indexed
 * by rh_flow_slot_of() (flow_key.h), so a tracked segment finds its flow with
 * a multiply and three compares instead of an LRU-hash lookup.  A new IPv4
 * flow takes its slot; the slot's previous flow moves to flows4 (the LRU
 * table, by the same key), where a flow whose slot is busy also goes.  A flow
 * is in exactly one of the two: readers look in the slot first.  `live` is
 * written with atomics: RH_SLOT_BUSY while a creator rewrites the slot.
 */
struct rh_flow_slot {
	struct rh_flow_key4 key;
	__u32 live; /* RH_SLOT_* */
	struct rh_flow_state st;
};

#define RH_SLOT_EMPTY 0
#define RH_SLOT_LIVE  1
#define RH_SLOT_BUSY  2

/*
 * The flow's state as a ring record carries it (struct rh_record): the
 * counters only the kernel knows, which move with every packet, and the SYN
 * that names the connection (ts_syn, syn_seq: a port reuse starts another).
 * The fields set once per connection (ts_synack, ts_first_payload[],
 * ts_fin[], the SYN / SYN-ACK baselines) and ts_rst[] travel in the event
 * that sets them (RH_FLOW_FIRST) and are completed by the reader from what
 * earlier events of the flow delivered (bpf/record.h, flow::FlowCompletion in
 * the Timeline's flow entry).
 */
struct rh_flow_sum {
	__u64 ts_syn;
	__u64 ts_last_payload[2];
	/* bytes .. ack_last: rh_flow_state's bytes .. ack_last, same layout */
	__u64 bytes[2];
	__u32 packets[2];
	__u32 rst_count[2];
	__u32 syn_seq;
	__u32 seq_next[2];
	__u32 ack_last[2];
	__u8 initiator;
	__u8 history[2];
	__u8 pure_ack;
};

/* rh_flow_state's bytes .. ack_last, which rh_flow_sum carries with the same layout. */
#define RH_FLOW_SUM_COUNTERS                                                                                           \
	(__builtin_offsetof(struct rh_flow_state, initiator) - __builtin_offsetof(struct rh_flow_state, bytes))

/* rh_event.flow_flags bits (set in the record by the kernel). */
#define RH_FLOW_STATE 0x01 /* the record carries its flow's state (rh_flow_sum); else there was none */
/* this event set its kind's once-per-connection fields (first SYN, SYN-ACK, FIN, payload) */
#define RH_FLOW_FIRST 0x02

/*
 * An event as readers see it (decoded from an rh_record by bpf/record.h,
 * then completed by the Timeline's flow::FlowCompletion or the offline Tracker).
 * For ICMP events, saddr/daddr are the outer ICMP packet's (saddr is the
 * router or host that complained) and the inner_* fields hold the quoted
 * TCP segment.  For local-reset events only the tuple, ts, kind, hook, side,
 * reason, the flow copy and the socket's cgroup are set; the tuple is
 * oriented as the RST travels (saddr = this host for SEND).  A local-reset
 * event has no sequence numbers, so seq/ack carry the cgroup v2 id of the
 * socket (low, high 32 bits; 0 when the reset had no socket): read and write
 * it with rh_event_cgroup_id() / rh_event_set_cgroup_id().
 */
struct rh_event {
	/* header */
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;
	__u8 kind;	/* enum rh_event_kind */
	__u8 hook;	/* enum rh_hook */
	__u8 family;	/* 4 or 6 */
	__u8 side;	/* sender's side in the canonical key */
	__u8 saddr[16]; /* network order */
	__u8 daddr[16]; /* network order */
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack;
	__u16 window;
	__u8 tcp_flags;
	__u8 ttl;      /* IPv4 TTL or IPv6 hop limit as received */
	__u16 ip_id;   /* IPv4 identification; 0 for IPv6 */
	__u16 ip_len;  /* IPv4 total length or IPv6 payload length + 40 */
	__u8 ip_flags; /* RH_IPF_* */
	__u8 opts;     /* RH_OPT_* */
	__u8 wscale;
	__u8 vlan_depth;
	__u16 mss;
	__u16 payload_len; /* TCP payload length from the IP header */
	__u32 tsval;
	__u32 tsecr;
	__u8 smac[6];
	__u8 dmac[6];
	__u16 snap_len;	 /* valid bytes in payload[] (or rh_data_event.data[]) */
	__u16 reason;	 /* LOCAL_RST_SEND: enum sk_rst_reason; LOCAL_RST_RECV: the socket's tcp_state; else 0 */
	__u8 flow_flags; /* RH_FLOW_*: what the record said about the flow */
	__u8 pad0[3];
	/* end of the header (RH_REC_HEAD_SIZE bytes), which the ring record shares */
	struct rh_flow_state flow; /* the flow's state after this packet (zero when none) */
	/* RST payload */
	__u8 payload[RH_RST_PAYLOAD_MAX]; /* devices write reasons there */
	/* ICMP errors */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 inner_ttl; /* TTL left in the quoted header (1 for time exceeded) */
	__u8 pad1;
	__u8 inner_saddr[16];
	__u8 inner_daddr[16];
	__u16 inner_sport;
	__u16 inner_dport;
	__u32 inner_seq;
	__u32 pad2;
	/* userspace only */
	struct rh_flow_key key; /* canonical key of the flow */
};

static inline __u64 rh_event_cgroup_id(const struct rh_event *ev)
{
	return ((__u64)ev->ack << 32) | ev->seq;
}

static inline void rh_event_set_cgroup_id(struct rh_event *ev, __u64 id)
{
	ev->seq = (__u32)id;
	ev->ack = (__u32)(id >> 32);
}

#define RH_REC_HEAD_SIZE __builtin_offsetof(struct rh_event, flow)

/* rh_event's ICMP block (icmp_type .. pad2), as the record carries it. */
struct rh_icmp_block {
	__u8 type;
	__u8 code;
	__u8 inner_ttl;
	__u8 pad1;
	__u8 inner_saddr[16];
	__u8 inner_daddr[16];
	__u16 inner_sport;
	__u16 inner_dport;
	__u32 inner_seq;
	__u32 pad2;
};

/*
 * A ring-buffer record.  Records are PREFIXES of this struct, so each kind
 * costs only the bytes it needs (memory traffic is most of an event's cost):
 *   RH_REC_SIZE_BASE         header + flow summary: SYN, SYN-ACK, FIN, RST
 *                            without payload, local resets;
 *   RH_REC_SIZE_RST_PAYLOAD  + payload[]: a RST that carries bytes;
 *   RH_REC_SIZE_ICMP         + the ICMP block: ICMP errors;
 *   rh_data_event            the base prefix followed by the first payload bytes.
 * head[] is rh_event's header (ts_ns .. pad0, the same offsets: writers fill
 * it through a struct rh_event pointer).  `key` is never on the wire:
 * readers derive it from the tuple (the inner tuple for ICMP) with
 * rh_flow_key_make(), see bpf/record.h.  flow is meaningful only when
 * head's flow_flags has RH_FLOW_STATE.
 */
struct rh_record {
	__u8 head[RH_REC_HEAD_SIZE];
	struct rh_flow_sum flow;
	union {
		__u8 payload[RH_RST_PAYLOAD_MAX]; /* RST payload: devices write reasons there */
		struct rh_icmp_block icmp;	  /* ICMP errors */
	} u;
};

#define RH_REC_SIZE_BASE	__builtin_offsetof(struct rh_record, u)
#define RH_REC_SIZE_RST_PAYLOAD (RH_REC_SIZE_BASE + RH_RST_PAYLOAD_MAX)
#define RH_REC_SIZE_ICMP	(RH_REC_SIZE_BASE + sizeof(struct rh_icmp_block))

struct rh_data_event {
	__u8 base[RH_REC_SIZE_BASE]; /* an rh_record prefix */
	__u8 data[RH_DATA_SNAP_MAX];
};

/*
 * RH_EV_FRAME (only when cfg_frames is set, for --pcap-out): submitted right
 * after the event of a packet (SYN, SYN-ACK, FIN, RST, ICMP error, first
 * payload), with the same ts_ns, ifindex and hook.  data[] holds the frame
 * from its first byte (Ethernet for XDP / tc), snap_len of them; wire_len is
 * the frame's whole length.  Not a prefix of rh_event: readers check the kind
 * (same offset as rh_event.kind) first.
 */
struct rh_frame_event {
	__u64 ts_ns;
	__u32 ifindex;
	__u8 kind;	/* RH_EV_FRAME */
	__u8 hook;	/* enum rh_hook */
	__u16 snap_len; /* valid bytes in data[] */
	__u32 wire_len;
	__u32 pad;
	__u8 data[RH_FRAME_SNAP_MAX];
};

/* Per-CPU counters (one array per CPU, indexed by enum rh_counter). */
enum rh_counter {
	RH_C_PACKETS = 0,	/* every packet the programs saw */
	RH_C_TCP,		/* TCP segments parsed */
	RH_C_FILTERED,		/* TCP segments the host/port filter rejected */
	RH_C_NON_TCP,		/* not TCP and not an ICMP error quoting TCP */
	RH_C_EVENTS,		/* events written to the ring buffer */
	RH_C_LOST_RINGBUF,	/* events lost: ring buffer full */
	RH_C_LOST_FLOW_TABLE,	/* flow could not be inserted (table full / no memory) */
	RH_C_FLOW_NEW,		/* flow entries created */
	RH_C_FLOW_MIDSTREAM,	/* flows first seen without a SYN (started before, or evicted) */
	RH_C_TRUNC_L2,		/* truncated Ethernet / VLAN header */
	RH_C_TRUNC_L3,		/* truncated IPv4/IPv6 header or extension chain */
	RH_C_TRUNC_L4,		/* truncated TCP / ICMP header */
	RH_C_MALFORMED_L3,	/* impossible IP header fields (IHL < 5, bad version) */
	RH_C_MALFORMED_L4,	/* impossible TCP data offset */
	RH_C_UNSUPPORTED_ENCAP, /* VLAN nesting too deep, ext header chain too long */
	RH_C_FRAGMENTS,		/* IP fragments (first fragments are still parsed) */
	RH_C_ICMP_ERRORS,	/* ICMP errors quoting TCP */
	RH_C_LOCAL_RESETS,	/* tcp_send_reset / tcp_receive_reset hits */
	RH_C_SNAP_TRUNCATED,	/* payload snapshot shorter than asked (non-linear data) */
	RH_C_MAX,
};

struct rh_counters {
	__u64 c[RH_C_MAX];
};

/*
 * A CIDR of the in-kernel host filter, over the 128-bit (IPv4-mapped) address:
 * a packet address x matches when (x & mask) == addr, byte by byte.  addr is
 * stored already masked; both are in network order.
 */
struct rh_cidr {
	__u8 addr[16];
	__u8 mask[16];
};

#endif /* RSTHOP_ABI_H */
