// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * rsthop kernel capture: XDP (ingress), tc (ingress, egress) and tp_btf
 * (tcp_send_reset, tcp_receive_reset) programs that keep per-flow TCP state
 * and stream control-packet events into a ring buffer.
 *
 * Contract: every path returns XDP_PASS / TC_ACT_OK (a tracer never alters
 * traffic) and every loss is counted in `counters`.  Fast path: packets the
 * filter rejects cost a parse and a bitmap test; data segments of a tracked
 * flow cost one flow lookup and a few stores (no event, the clock only when
 * they carry payload).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "abi.h"
#include "parse.h"
#include "track.h"

#define RH_XDP_PASS 2
#define RH_TC_ACT_OK 0
#define RH_AF_INET 2
#define RH_AF_INET6 10
#define RH_TCP_CLOSE 7

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace between open and load. */
const volatile __u8 cfg_filter_ports = 0;
const volatile __u8 cfg_filter_hosts = 0;
const volatile __u32 cfg_n_cidrs = 0;
const volatile struct rh_cidr cfg_cidrs[RH_MAX_CIDRS] = {};
const volatile __u64 cfg_port_bitmap[RH_PORT_BITMAP_WORDS] = {};
const volatile __u64 cfg_wakeup_bytes = 1 << 20; /* wake the consumer once this much is queued */
const volatile __u8 cfg_has_rst_reason = 1;      /* tcp_send_reset has its 3rd argument */
const volatile __u32 cfg_netns_ino = 0;          /* tracepoints: only this netns (0: all) */
const volatile __u8 cfg_frames = 0;              /* --pcap-out: an rh_frame_event after each packet event */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rh_flow_key);
	__type(value, struct rh_flow_state);
} flows SEC(".maps");

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

static __always_inline void counters__inc(struct rh_counters *cnt, int idx)
{
	if (idx >= 0 && idx < RH_C_MAX)
		cnt->c[idx]++;
}

static __always_inline int filter__cidr_match(const __u8 *a)
{
	__u64 a0 = *(const __u64 *)a, a1 = *(const __u64 *)(a + 8);
	__u32 i;

	for (i = 0; i < RH_MAX_CIDRS; i++) {
		if (i >= cfg_n_cidrs)
			break;
		if ((a0 & *(const volatile __u64 *)cfg_cidrs[i].mask) == *(const volatile __u64 *)cfg_cidrs[i].addr &&
		    (a1 & *(const volatile __u64 *)(cfg_cidrs[i].mask + 8)) ==
			    *(const volatile __u64 *)(cfg_cidrs[i].addr + 8))
			return 1;
	}
	return 0;
}

static __always_inline int filter__port(__u16 port)
{
	return (cfg_port_bitmap[(port >> 6) & (RH_PORT_BITMAP_WORDS - 1)] >> (port & 63)) & 1;
}

/* True when the tuple passes the user's --host / --port filter. */
static __always_inline int filter__match(const __u8 *saddr, const __u8 *daddr, __u16 sport, __u16 dport)
{
	if (cfg_filter_ports && !filter__port(sport) && !filter__port(dport))
		return 0;
	if (cfg_filter_hosts && !filter__cidr_match(saddr) && !filter__cidr_match(daddr))
		return 0;
	return 1;
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

static __always_inline void event__fill_tuple(struct rh_event *ev, const struct rh_pkt *p)
{
	__builtin_memcpy(ev->saddr, p->saddr, 16);
	__builtin_memcpy(ev->daddr, p->daddr, 16);
	ev->family = p->family;
	ev->ttl = p->ttl;
	ev->ip_id = p->ip_id;
	ev->ip_len = p->ip_len;
	ev->ip_flags = p->ip_flags;
	ev->vlan_depth = p->vlan_depth;
	if (p->l2) {
		__builtin_memcpy(ev->dmac, p->l2, 6);
		__builtin_memcpy(ev->smac, p->l2 + 6, 6);
	} else {
		__builtin_memset(ev->dmac, 0, 6);
		__builtin_memset(ev->smac, 0, 6);
	}
}

static __always_inline long payload__load(void *ctx, int hook, __u32 off, void *dst, __u32 n)
{
	if (hook == RH_HOOK_XDP)
		return bpf_xdp_load_bytes(ctx, off, dst, n);
	return bpf_skb_load_bytes(ctx, off, dst, n);
}

/* Copy up to `max` payload bytes at `off` into dst; returns the count copied. */
static __always_inline __u32 payload__copy(void *ctx, int hook, __u32 off, __u32 avail, __u32 want, void *dst,
					   __u32 max)
{
	__u32 n = want < avail ? want : avail;

	if (n > max)
		n = max;
	if (n == 0)
		return 0;
	if (payload__load(ctx, hook, off, dst, n))
		return 0;
	return n;
}

/*
 * --pcap-out: the first bytes of the frame behind the event just submitted
 * (same ts, ifindex, hook).  Only called when cfg_frames is set.
 */
static __always_inline void frame__event(void *ctx, int hook, __u32 ifindex, __u32 frame_len, __u64 now,
					 struct rh_counters *cnt)
{
	struct rh_frame_event *fe = bpf_ringbuf_reserve(&events, sizeof(struct rh_frame_event), 0);
	__u64 n;

	if (!fe) {
		cnt->c[RH_C_LOST_RINGBUF]++;
		return;
	}
	fe->ts_ns = now;
	fe->ifindex = ifindex;
	fe->kind = RH_EV_FRAME;
	fe->hook = hook;
	fe->wire_len = frame_len;
	fe->pad = 0;
	/* Clamped in a 64-bit register right before the copy, so the verifier sees the bound. */
	n = frame_len;
	asm volatile("if %0 <= %1 goto +1; %0 = %1" : "+r"(n) : "i"(RH_FRAME_SNAP_MAX));
	if (n == 0 || payload__load(ctx, hook, 0, fe->data, n))
		n = 0;
	fe->snap_len = n;
	ringbuf__submit(fe, cnt);
}

/* Copy the option bytes out of the packet and walk them. */
static __always_inline void tcp__options(void *ctx, int hook, const struct rh_pkt *p, struct rh_tcp_opts *o)
{
	struct rh_tcp_optbuf ob;
	__u32 n = p->tcp_hlen > 20 ? p->tcp_hlen - 20 : 0;

	if (!n) {
		/* Most RSTs and data segments carry no options: skip the copy and the call. */
		o->mss = 0;
		o->wscale = 0;
		o->opts = 0;
		o->tsval = 0;
		o->tsecr = 0;
		return;
	}
	ob.cut = 0;
	ob.len = 0;
	if (n > 40)
		n = 40;
	if (!payload__load(ctx, hook, p->l4_off + 20, ob.b, n))
		ob.len = n;
	rh_parse_tcp_optbuf(&ob, o);
}

/* The header and flow copy every TCP event starts with (RH_EV_SIZE_BASE bytes). */
static __always_inline void tcp__fill(void *ctx, int hook, __u32 ifindex, struct rh_event *ev,
				      const struct rh_pkt *p, const struct rh_flow_state *st, __u8 side, int kind,
				      __u64 now)
{
	struct rh_tcp_opts o;

	ev->ts_ns = now;
	ev->ifindex = ifindex;
	ev->kind = kind;
	ev->hook = hook;
	ev->side = side;
	event__fill_tuple(ev, p);
	ev->sport = p->sport;
	ev->dport = p->dport;
	ev->seq = p->seq;
	ev->ack = p->ack;
	ev->window = p->window;
	ev->tcp_flags = p->tcp_flags;
	ev->payload_len = p->payload_len;
	tcp__options(ctx, hook, p, &o);
	ev->opts = o.opts;
	ev->mss = o.mss;
	ev->wscale = o.wscale;
	ev->tsval = o.tsval;
	ev->tsecr = o.tsecr;
	ev->reason = 0;
	ev->snap_len = 0;
	__builtin_memcpy(&ev->flow, st, sizeof(*st));
}

/*
 * One record per event, sized for its kind (see abi.h): most events are the
 * base prefix; a RST with payload adds its first bytes; a first payload is
 * an rh_data_event.  Each size has its own straight path so the verifier
 * knows every write stays inside its record.
 */
static __always_inline void tcp__event(void *ctx, int hook, __u32 ifindex, __u32 frame_len,
				       const struct rh_pkt *p, const struct rh_flow_state *st, __u8 side, int kind,
				       __u64 now, struct rh_counters *cnt)
{
	__u32 off = p->l4_off + p->tcp_hlen;
	__u32 avail = frame_len > off ? frame_len - off : 0;
	struct rh_event *ev;

	if (kind == RH_EV_PAYLOAD) {
		struct rh_data_event *dev = bpf_ringbuf_reserve(&events, sizeof(struct rh_data_event), 0);
		__u32 n;

		if (!dev) {
			cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		ev = (struct rh_event *)dev;
		tcp__fill(ctx, hook, ifindex, ev, p, st, side, kind, now);
		n = payload__copy(ctx, hook, off, avail, p->payload_len, dev->data, RH_DATA_SNAP_MAX);
		ev->snap_len = n;
		if (n < p->payload_len && n < RH_DATA_SNAP_MAX)
			cnt->c[RH_C_SNAP_TRUNCATED]++;
	} else if (kind == RH_EV_RST && p->payload_len) {
		ev = bpf_ringbuf_reserve(&events, RH_EV_SIZE_RST_PAYLOAD, 0);
		if (!ev) {
			cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		tcp__fill(ctx, hook, ifindex, ev, p, st, side, kind, now);
		ev->snap_len = payload__copy(ctx, hook, off, avail, p->payload_len, ev->payload, RH_RST_PAYLOAD_MAX);
	} else {
		ev = bpf_ringbuf_reserve(&events, RH_EV_SIZE_BASE, 0);
		if (!ev) {
			cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		tcp__fill(ctx, hook, ifindex, ev, p, st, side, kind, now);
	}
	cnt->c[RH_C_EVENTS]++;
	ringbuf__submit(ev, cnt);
	if (cfg_frames)
		frame__event(ctx, hook, ifindex, frame_len, now, cnt);
}

static __always_inline void icmp__event(void *ctx, int hook, __u32 ifindex, __u32 frame_len, const struct rh_pkt *p,
					const struct rh_icmp_quote *q, struct rh_counters *cnt)
{
	struct rh_flow_state *st;
	struct rh_event *ev;
	struct rh_flow_key k;
	__u64 now;
	__u8 side;

	side = rh_flow_key_make(&k, q->family, q->saddr, q->sport, q->daddr, q->dport);
	ev = bpf_ringbuf_reserve(&events, RH_EV_SIZE_ICMP, 0);
	if (!ev) {
		cnt->c[RH_C_LOST_RINGBUF]++;
		return;
	}
	now = bpf_ktime_get_ns();
	ev->ts_ns = now;
	ev->ifindex = ifindex;
	ev->kind = RH_EV_ICMP;
	ev->hook = hook;
	ev->side = side; /* side of the quoted segment's sender */
	event__fill_tuple(ev, p);
	ev->sport = 0;
	ev->dport = 0;
	ev->seq = 0;
	ev->ack = 0;
	ev->window = 0;
	ev->tcp_flags = 0;
	ev->payload_len = 0;
	ev->opts = 0;
	ev->mss = 0;
	ev->wscale = 0;
	ev->tsval = 0;
	ev->tsecr = 0;
	ev->reason = 0;
	ev->snap_len = 0;
	ev->icmp_type = q->type;
	ev->icmp_code = q->code;
	ev->inner_ttl = q->ttl;
	__builtin_memcpy(ev->inner_saddr, q->saddr, 16);
	__builtin_memcpy(ev->inner_daddr, q->daddr, 16);
	ev->inner_sport = q->sport;
	ev->inner_dport = q->dport;
	ev->inner_seq = q->seq;
	st = bpf_map_lookup_elem(&flows, &k);
	if (st)
		__builtin_memcpy(&ev->flow, st, sizeof(*st));
	else
		__builtin_memset(&ev->flow, 0, sizeof(ev->flow));
	cnt->c[RH_C_ICMP_ERRORS]++;
	cnt->c[RH_C_EVENTS]++;
	ringbuf__submit(ev, cnt);
	if (cfg_frames)
		frame__event(ctx, hook, ifindex, frame_len, now, cnt);
}

static __always_inline struct rh_flow_state *flow__get(const struct rh_flow_key *k, const struct rh_pkt *p,
						       struct rh_counters *cnt)
{
	struct rh_flow_state *st = bpf_map_lookup_elem(&flows, k);
	struct rh_flow_state init;

	if (st)
		return st;
	rh_flow_reset(&init);
	if (bpf_map_update_elem(&flows, k, &init, BPF_NOEXIST) && bpf_map_lookup_elem(&flows, k) == NULL) {
		cnt->c[RH_C_LOST_FLOW_TABLE]++;
		return NULL;
	}
	cnt->c[RH_C_FLOW_NEW]++;
	if (!(p->tcp_flags & RH_TCP_SYN))
		cnt->c[RH_C_FLOW_MIDSTREAM]++;
	return bpf_map_lookup_elem(&flows, k);
}

/* Shared body of the XDP and tc programs; hook is a compile-time constant. */
static __always_inline void rh_handle(void *ctx, const __u8 *data, const __u8 *data_end, __u32 ifindex,
				      __u32 frame_len, __u32 segs, const int hook)
{
	struct rh_cursor c = { .pos = data, .end = data_end };
	struct rh_counters *cnt = counters__get();
	struct rh_flow_state *st;
	struct rh_flow_key k;
	struct rh_pkt p;
	__u64 now = 0;
	int r, kind;
	__u8 side;

	if (!cnt)
		return;
	cnt->c[RH_C_PACKETS]++;
	r = rh_parse_l3(&c, &p, data, 1);
	if (r < 0) {
		counters__inc(cnt, -r);
		return;
	}
	if (r == RH_IPPROTO_ICMP || r == RH_IPPROTO_ICMPV6) {
		struct rh_icmp_quote q;

		if ((r == RH_IPPROTO_ICMP) != (p.family == 4)) {
			cnt->c[RH_C_NON_TCP]++;
			return;
		}
		r = rh_parse_icmp_quote(&c, &p, &q);
		if (r < 0) {
			counters__inc(cnt, -r);
			return;
		}
		if (r == 0) {
			cnt->c[RH_C_NON_TCP]++;
			return;
		}
		if (!filter__match(q.saddr, q.daddr, q.sport, q.dport)) {
			cnt->c[RH_C_FILTERED]++;
			return;
		}
		icmp__event(ctx, hook, ifindex, frame_len, &p, &q, cnt);
		return;
	}
	if (r != RH_IPPROTO_TCP) {
		cnt->c[RH_C_NON_TCP]++;
		return;
	}
	if (p.ip_flags & RH_IPF_FRAG_FIRST)
		cnt->c[RH_C_FRAGMENTS]++;
	r = rh_parse_tcp(&c, &p);
	if (r < 0) {
		counters__inc(cnt, -r);
		return;
	}
	cnt->c[RH_C_TCP]++;
	if (!filter__match(p.saddr, p.daddr, p.sport, p.dport)) {
		cnt->c[RH_C_FILTERED]++;
		return;
	}
	side = rh_flow_key_make(&k, p.family, p.saddr, p.sport, p.daddr, p.dport);
	st = flow__get(&k, &p, cnt);
	if (!st)
		return;
	if (rh_track_needs_clock(st, &p, side))
		now = bpf_ktime_get_ns();
	kind = rh_track(st, &p, side, now, segs);
	if (kind)
		tcp__event(ctx, hook, ifindex, frame_len, &p, st, side, kind, now, cnt);
}

SEC("xdp")
int rh_xdp(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *data_end = (const __u8 *)(long)ctx->data_end;

	rh_handle(ctx, data, data_end, ctx->ingress_ifindex, (__u32)(data_end - data), 1, RH_HOOK_XDP);
	return RH_XDP_PASS;
}

static __always_inline void rh_handle_skb(struct __sk_buff *skb, const int hook)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *data_end = (const __u8 *)(long)skb->data_end;
	__u32 segs = skb->gso_segs ? skb->gso_segs : 1;

	rh_handle(skb, data, data_end, skb->ifindex, skb->len, segs, hook);
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
