// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rsthop kernel capture: XDP (ingress), tc (ingress, egress) and tp_btf
 * (tcp_send_reset, tcp_receive_reset) programs that keep per-flow TCP state
 * and stream control-packet events into a ring buffer.
 *
 * Contract: every path returns XDP_PASS / TC_ACT_OK (a tracer never alters
 * traffic) and every loss is counted in `counters`.  Fast path: packets the
 * filter rejects cost a parse and a bitmap test (with --port, a clean IPv4
 * frame's before the global call); data segments of a tracked
 * flow cost one flow lookup and a few stores (no event, the clock only when
 * they carry payload).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "abi.h"
#include "parse.h"
#include "flow_key.h"
#include "track.h"

#define RH_XDP_PASS  2
#define RH_TC_ACT_OK 0
#define RH_AF_INET   2
#define RH_AF_INET6  10
#define RH_TCP_CLOSE 7

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace between open and load. */
const volatile __u8 cfg_filter_ports = 0;
const volatile __u8 cfg_filter_hosts = 0;
const volatile __u32 cfg_n_cidrs = 0;
const volatile struct rh_cidr cfg_cidrs[RH_MAX_CIDRS] = {};
const volatile __u64 cfg_port_bitmap[RH_PORT_BITMAP_WORDS] = {};
const volatile __u64 cfg_wakeup_bytes = 1 << 20; /* wake the consumer once this much is queued */
const volatile __u8 cfg_has_rst_reason = 1;	 /* tcp_send_reset has its 3rd argument */
const volatile __u32 cfg_netns_ino = 0;		 /* tracepoints: only this netns (0: all) */
const volatile __u8 cfg_frames = 0;		 /* --pcap-out: an rh_frame_event after each packet event */
const volatile __u32 cfg_flow_slots = 65536;	 /* flow_slots' max_entries */
const volatile __u64 cfg_slot_seed = 0;		 /* rh_flow_slot_of()'s seed, random per load */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rh_flow_key);
	__type(value, struct rh_flow_state);
} flows SEC(".maps");

/* IPv4 flows, by the 12-byte key (abi.h): `flows` holds the IPv6 ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rh_flow_key4);
	__type(value, struct rh_flow_state);
} flows4 SEC(".maps");

/* IPv4 flows' first table (abi.h's rh_flow_slot): flows4 holds those whose slot another flow took. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct rh_flow_slot);
} flow_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rh_counters);
} counters SEC(".maps");

/* Tuples of sockets entering TCP_CLOSE, for resets sent after the port is released. */
struct rh_sk_tuple {
	struct rh_flow_key key;
	__u8 saddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct rh_sk_tuple);
} closing SEC(".maps");

static __always_inline struct rh_counters *counters__get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

/*
 * Submit without a wakeup: the consumer polls every 100 ms anyway.  Every
 * 32nd event on a CPU looks at how much is queued and wakes the consumer once
 * that passes cfg_wakeup_bytes, so a burst is drained early without paying a
 * wakeup (or a look at the consumer's cache line) per event.
 */
static __always_inline void ringbuf__submit(void *rec, struct rh_counters *cnt)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if ((cnt->c[RH_C_EVENTS] & 31) == 0 && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

/*
 * Everything past the Ethernet header, as global functions: the verifier
 * checks each once, on its own, with the IP header at an unknown offset,
 * instead of once for every VLAN depth (each leaves the packet pointers at
 * another constant offset, so none of those paths prune each other).  One
 * per context type, as the helpers that read the frame differ.
 */
int rh_ip_xdp(struct xdp_md *ctx, __u32 l3_off, int proto, __u32 vlan_depth, __u32 frame_len);
int rh_ip_skb(struct __sk_buff *skb, __u32 l3_off, int proto, __u32 vlan_depth, int hook);

/* f->hook is a compile-time constant in every caller. */
#define RH_HOST_IP(f, c, p, data, proto)                                                                               \
	((f)->hook == RH_HOOK_XDP ? rh_ip_xdp((struct xdp_md *)(f)->ctx, (__u32)((c)->pos - (data)), (proto),          \
					      (p)->vlan_depth, (f)->frame_len)                                         \
				  : rh_ip_skb((struct __sk_buff *)(f)->ctx, (__u32)((c)->pos - (data)), (proto),       \
					      (p)->vlan_depth, (f)->hook))

/* The event glue (bpf/events.h) reads the filter straight from rodata, and names IPv4 flows by rh_flow_key4. */
#define RH_CFG(f, name) (cfg_##name)
#define RH_HOST_FLOW4	1
#include "events.h"

/* The filter for callers without a frame (local_resets.bpf.h). */
static __always_inline int filter__match(const __u8 *saddr, const __u8 *daddr, __u16 sport, __u16 dport)
{
	return filter__pass(NULL, saddr, daddr, sport, dport);
}

/* The most bytes pkt__copy() takes: a RST's payload (RH_RST_PAYLOAD_MAX), TCP options (40). */
#define RH_PKT_COPY_MAX 64

/*
 * n <= RH_PKT_COPY_MAX bytes at `off` straight from the linear packet data, in
 * 8-byte words and a 4/2/1-byte tail (whole-word loads: a memcpy would be
 * byte by byte on BPF; `dst` is 8-byte aligned, as the verifier wants of
 * the stack); -1 when they are not all between data
 * and end (the caller then takes the helper, which reaches paged data too).
 * A helper call costs ~20-27 ns per RST on a host whose kernel returns go
 * through a return thunk (docs/BENCHMARKS.md, session 20); this costs ~1.
 */
static __always_inline long pkt__copy(const __u8 *data, const __u8 *end, __u32 off, __u8 *dst, __u32 n)
{
	const __u8 *src;
	__u32 i;

	/* The verifier bounds a packet pointer's offset plus its constant part by 0xffff. */
	if (off > 0x7fff || n > RH_PKT_COPY_MAX)
		return -1;
	src = data + off;
#pragma unroll
	for (i = 0; i < RH_PKT_COPY_MAX / 8; i++) {
		if (n < 8)
			break;
		if (src + 8 > end)
			return -1;
		*(__u64 *)dst = *(const __u64 *)src;
		src += 8;
		dst += 8;
		n -= 8;
	}
	if (n & 4) {
		if (src + 4 > end)
			return -1;
		*(__u32 *)dst = *(const __u32 *)src;
		src += 4;
		dst += 4;
	}
	if (n & 2) {
		if (src + 2 > end)
			return -1;
		*(__u16 *)dst = *(const __u16 *)src;
		src += 2;
		dst += 2;
	}
	if (n & 1) {
		if (src + 1 > end)
			return -1;
		*dst = *src;
	}
	return 0;
}

/* events.h host hooks.  f->hook is a compile-time constant in every caller. */
static __always_inline long rh_host_load(const struct rh_frame *f, __u32 off, void *dst, __u32 n)
{
	if (f->hook == RH_HOOK_XDP) {
		const struct xdp_md *x = f->ctx;

		if (n <= RH_PKT_COPY_MAX &&
		    !pkt__copy((const __u8 *)(long)x->data, (const __u8 *)(long)x->data_end, off, dst, n))
			return 0;
		return bpf_xdp_load_bytes(f->ctx, off, dst, n);
	} else {
		const struct __sk_buff *skb = f->ctx;

		if (n <= RH_PKT_COPY_MAX &&
		    !pkt__copy((const __u8 *)(long)skb->data, (const __u8 *)(long)skb->data_end, off, dst, n))
			return 0;
	}
	return bpf_skb_load_bytes(f->ctx, off, dst, n);
}

static __always_inline __u64 rh_host_now(const struct rh_frame *f)
{
	return bpf_ktime_get_ns();
}

static __always_inline void *rh_host_reserve(const struct rh_frame *f, __u32 size)
{
	return bpf_ringbuf_reserve(&events, size, 0);
}

/*
 * --pcap-out: the first bytes of the frame behind the event just submitted
 * (same ts, ifindex, hook).  Only called when cfg_frames is set.
 */
static __always_inline void frame__event(const struct rh_frame *f, __u64 now)
{
	struct rh_frame_event *fe = bpf_ringbuf_reserve(&events, sizeof(struct rh_frame_event), 0);
	__u64 n;

	if (!fe) {
		f->cnt->c[RH_C_LOST_RINGBUF]++;
		return;
	}
	fe->ts_ns = now;
	fe->ifindex = f->ifindex;
	fe->kind = RH_EV_FRAME;
	fe->hook = f->hook;
	fe->wire_len = f->frame_len;
	fe->pad = 0;
	/* Clamped in a 64-bit register right before the copy, so the verifier sees the bound. */
	n = f->frame_len;
	asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(n) : "i"(RH_FRAME_SNAP_MAX));
	if (n == 0 || rh_host_load(f, 0, fe->data, n))
		n = 0;
	fe->snap_len = n;
	ringbuf__submit(fe, f->cnt);
}

static __always_inline void rh_host_submit(const struct rh_frame *f, void *rec, __u64 now)
{
	ringbuf__submit(rec, f->cnt);
	if (cfg_frames)
		frame__event(f, now);
}

/* The IPv4 flow's slot in flow_slots (NULL only if the index is out of range, which it never is). */
static __always_inline struct rh_flow_slot *slot__of(const struct rh_flow_key4 *k4)
{
	__u32 idx = rh_flow_slot_of(k4, cfg_flow_slots, cfg_slot_seed);

	return bpf_map_lookup_elem(&flow_slots, &idx);
}

/* An IPv4 flow's state: its slot, else flows4, else NULL. */
static __always_inline struct rh_flow_state *flow__find4(const struct rh_flow_slot *s, const struct rh_flow_key4 *k4)
{
	if (s && rh_flow_slot_holds(s, k4))
		return (struct rh_flow_state *)&s->st;
	return bpf_map_lookup_elem(&flows4, k4);
}

static __always_inline struct rh_flow_state *rh_host_flow_find(const struct rh_frame *f, const struct rh_flow_key *k)
{
	struct rh_flow_key4 k4;

	if (k->family != 4)
		return bpf_map_lookup_elem(&flows, k);
	rh_flow_key4_make(&k4, k);
	return flow__find4(slot__of(&k4), &k4);
}

/* A new flow's state (rh_flow_reset()), in rodata: not 150 bytes of the callers' stack. */
static const struct rh_flow_state flow_init = {.initiator = RH_SIDE_UNKNOWN};

/* A new flow, counted (and as mid-stream when its first segment is no SYN). */
static __always_inline void flow__count_new(const struct rh_frame *f, const struct rh_pkt *p)
{
	f->cnt->c[RH_C_FLOW_NEW]++;
	if (!(p->tcp_flags & RH_TCP_SYN))
		f->cnt->c[RH_C_FLOW_MIDSTREAM]++;
}

/*
 * A new flow's entry in `map` at `key` (rh_host_flow_get*() missed it): inserted,
 * counted, looked up again.  Inlined with a constant map, so each table's
 * lookups stay the verifier's inlined ones.
 */
static __always_inline struct rh_flow_state *flow__create(const struct rh_frame *f, const struct rh_pkt *p, void *map,
							  const void *key)
{
	long err = bpf_map_update_elem(map, key, (const void *)&flow_init, BPF_NOEXIST);

	if (err && bpf_map_lookup_elem(map, key) == NULL) {
		f->cnt->c[RH_C_LOST_FLOW_TABLE]++;
		return NULL;
	}
	flow__count_new(f, p);
	return bpf_map_lookup_elem(map, key);
}

/* RH_HOST_FLOW4: events.h gives IPv4 segments' flows by their 12-byte key, so this sees IPv6 keys only. */
static __always_inline struct rh_flow_state *rh_host_flow_get(const struct rh_frame *f, const struct rh_flow_key *k,
							      const struct rh_pkt *p)
{
	struct rh_flow_state *st = bpf_map_lookup_elem(&flows, k);

	return st ? st : flow__create(f, p, &flows, k);
}

/*
 * A new IPv4 flow takes its slot: the slot is locked (live -> BUSY by a
 * compare-and-swap, so two creators never write one slot), its flow, if
 * any, moves to flows4, and the new flow is written and published (LIVE).
 * A slot another creator holds leaves the new flow to flows4.  A reader on
 * another CPU that found the old flow just before may still update it in
 * place: as with a recycled LRU entry, that update is lost.
 */
static __always_inline struct rh_flow_state *flow__create4(const struct rh_frame *f, const struct rh_pkt *p,
							   struct rh_flow_slot *s, const struct rh_flow_key4 *k4)
{
	__u32 live;

	if (!s)
		return flow__create(f, p, &flows4, k4);
	live = s->live;
	if (live == RH_SLOT_BUSY || __sync_val_compare_and_swap(&s->live, live, RH_SLOT_BUSY) != live)
		return flow__create(f, p, &flows4, k4);
	if (live == RH_SLOT_LIVE && bpf_map_update_elem(&flows4, &s->key, &s->st, BPF_ANY))
		f->cnt->c[RH_C_LOST_FLOW_TABLE]++; /* the slot's old flow could not move */
	/* The key after the state: clang 14's BPF backend dropped key stores placed before this copy. */
	__builtin_memcpy(&s->st, &flow_init, sizeof(flow_init));
	s->key = *k4;
	__sync_lock_test_and_set(&s->live, RH_SLOT_LIVE);
	flow__count_new(f, p);
	return &s->st;
}

static __always_inline struct rh_flow_state *rh_host_flow_get4(const struct rh_frame *f, const struct rh_flow_key4 *k4,
							       const struct rh_pkt *p)
{
	struct rh_flow_slot *s = slot__of(k4);
	struct rh_flow_state *st = flow__find4(s, k4);

	return st ? st : flow__create4(f, p, s, k4);
}

/*
 * The frame as the global functions see it.  In a tc function the hook is
 * an argument: 2 - (hook & 1) keeps it a TC hook (1 or 2) in the verifier's
 * eyes, so rh_host_load()'s XDP branch is known dead.
 */
static __always_inline int frame__xdp(struct rh_frame *f, struct xdp_md *ctx, __u32 frame_len)
{
	f->ctx = ctx;
	f->cnt = counters__get();
	f->filter = NULL;
	f->ifindex = ctx->ingress_ifindex;
	f->frame_len = frame_len; /* from the caller's pointers: here clang would spill a truncated packet pointer */
	f->segs = 1;
	f->hook = RH_HOOK_XDP;
	f->has_l2 = 1;
	return f->cnt != NULL;
}

static __always_inline int frame__skb(struct rh_frame *f, struct __sk_buff *skb, int hook)
{
	__u32 segs = skb->gso_segs;

	f->ctx = skb;
	f->cnt = counters__get();
	f->filter = NULL;
	f->ifindex = skb->ifindex;
	f->frame_len = skb->len;
	f->segs = segs ? segs : 1;
	f->hook = 2 - (hook & 1); /* RH_HOOK_TC_INGRESS (1) or RH_HOOK_TC_EGRESS (2) */
	f->has_l2 = 1;
	return f->cnt != NULL;
}

/* The frame from l3_off on, with the L2 facts the caller parsed. */
static __always_inline void ip__glue(struct rh_frame *f, const __u8 *data, const __u8 *end, __u32 l3_off, int proto,
				     __u32 vlan_depth)
{
	struct rh_cursor c;
	struct rh_pkt p;

	/* Ethernet and at most RH_VLAN_MAX_DEPTH tags: the bounds the verifier needs. */
	if (l3_off < 14 || l3_off > 14 + 4 * RH_VLAN_MAX_DEPTH || data + 14 > end)
		return;
	p.l2 = data;
	p.vlan_depth = vlan_depth;
	p.ip_flags = vlan_depth ? RH_IPF_VLAN : 0;
	c.pos = data + l3_off;
	c.end = end;
	rh_glue_ip(f, &c, &p, data, proto);
}

__attribute__((noinline)) int rh_ip_xdp(struct xdp_md *ctx, __u32 l3_off, int proto, __u32 vlan_depth, __u32 frame_len)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	struct rh_frame f;

	if (frame__xdp(&f, ctx, frame_len))
		ip__glue(&f, data, end, l3_off, proto, vlan_depth);
	return 0;
}

__attribute__((noinline)) int rh_ip_skb(struct __sk_buff *skb, __u32 l3_off, int proto, __u32 vlan_depth, int hook)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *end = (const __u8 *)(long)skb->data_end;
	struct rh_frame f;

	if (frame__skb(&f, skb, hook))
		ip__glue(&f, data, end, l3_off, proto, vlan_depth);
	return 0;
}

/*
 * The --port filter's rejection of the common frame (untagged IPv4 without
 * IP options, not a fragment, the whole TCP header in the linear data: the
 * fixed offsets let two loads and one compare test the EtherType, version
 * and IHL), decided inline before
 * the global call: counts what rh_glue_frame() would for it (PACKETS, TCP,
 * FILTERED) and returns 1.  Any other frame returns 0 and takes the full path,
 * which counts its own causes (a first fragment, a truncated header...).
 */
static __always_inline int ports__reject_early(struct rh_counters *cnt, const __u8 *data, const __u8 *end)
{
	const __u8 *tcp = data + 34;
	__u32 hlen;

	if (!cfg_filter_ports || tcp + 20 > end)
		return 0;
	/* EtherType IPv4 and version 4 / IHL 5 in one load; then TCP, not a fragment */
	if ((*(const __u32 *)(data + 12) & 0x0000ffff) != 0x0008 || data[14] != 0x45 || data[23] != RH_IPPROTO_TCP ||
	    (RH_LD16(data + 20) & rh_htons(0x3fff)))
		return 0;
	hlen = (__u32)(tcp[12] >> 4) * 4;
	if (hlen < 20 || 34 + hlen > (__u32)(end - data))
		return 0;
	if (filter__port(NULL, RH_LD16(tcp)) || filter__port(NULL, RH_LD16(tcp + 2)))
		return 0;
	cnt->c[RH_C_PACKETS]++;
	cnt->c[RH_C_TCP]++;
	cnt->c[RH_C_FILTERED]++;
	return 1;
}

/*
 * The Ethernet header, inline in each program; the rest, with the frame
 * fields it needs (ifindex, GSO segments, the skb's length), in rh_ip_*().
 */
static __always_inline void rh_handle(void *ctx, const __u8 *data, const __u8 *data_end, __u32 frame_len,
				      const int hook)
{
	struct rh_counters *cnt = counters__get();
	struct rh_frame f = {
		.ctx = ctx,
		.cnt = cnt,
		.frame_len = frame_len,
		.hook = hook,
		.has_l2 = 1,
	};

	if (!cnt || ports__reject_early(cnt, data, data_end))
		return;
	rh_glue_frame(&f, data, data_end);
}

SEC("xdp")
int rh_xdp(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *data_end = (const __u8 *)(long)ctx->data_end;

	rh_handle(ctx, data, data_end, (__u32)(data_end - data), RH_HOOK_XDP);
	return RH_XDP_PASS;
}

static __always_inline void rh_handle_skb(struct __sk_buff *skb, const int hook)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *data_end = (const __u8 *)(long)skb->data_end;

	rh_handle(skb, data, data_end, 0, hook);
}

SEC("tc")
int rh_tc_ingress(struct __sk_buff *skb)
{
	rh_handle_skb(skb, RH_HOOK_TC_INGRESS);
	return RH_TC_ACT_OK;
}

SEC("tc")
int rh_tc_egress(struct __sk_buff *skb)
{
	rh_handle_skb(skb, RH_HOOK_TC_EGRESS);
	return RH_TC_ACT_OK;
}

/* The tp_btf programs that mark resets this host's own stack sent or accepted. */
#include "local_resets.bpf.h"
