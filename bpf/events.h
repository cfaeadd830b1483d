/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event-building glue: which parsed packets become which ring records, the
 * --host / --port filter, the record fills and the counters.  Plain C over
 * abi.h / parse.h / track.h types, shared by the kernel programs
 * (bpf/rsthop.bpf.c) and the offline road (userspace/pcap/tracker.cpp), so
 * both build the very same records.
 *
 * The few operations that differ per road are host hooks: the includer
 * defines them (after including this header) for its context:
 *   rh_host_load()      copy frame bytes at an offset (0 on success);
 *   rh_host_now()       the clock (bpf_ktime_get_ns / the capture timestamp);
 *   rh_host_reserve()   room for one record of `size` bytes, or NULL (lost);
 *   rh_host_submit()    hand the record over (BPF: then the --pcap-out frame);
 *   rh_host_flow_get()  the flow's state, created on first sight, or NULL;
 *   rh_host_flow_find() the flow's state if the table has it, or NULL.
 * and may define, before including it, RH_HOST_IP(f, c, p, data, proto):
 * how rh_glue_frame() hands a frame on past its L2 header (default: straight
 * to rh_glue_ip(); BPF: to a global function, verified once instead of once
 * per VLAN depth), and RH_HOST_FLOW4: the includer keeps IPv4 flows by their
 * 12-byte key and defines
 *   rh_host_flow_get4() as rh_host_flow_get() for an IPv4 segment's rh_flow_key4
 *                       (built straight from its IP header; rh_host_flow_get()
 *                       then sees IPv6 keys only), and an IPv4 segment's
 *                       16-byte addresses are built only when it emits an event.
 * The filter is read through RH_CFG(f, name): the kernel maps it onto its
 * rodata (cfg_<name>), userspace onto f->filter.  Sizes passed to
 * rh_host_reserve() are compile-time constants, as bpf_ringbuf_reserve needs.
 */
#ifndef RSTHOP_EVENTS_H
#define RSTHOP_EVENTS_H

#include "parse.h"
#include "flow_key.h"
#include "track.h"

/* The --host / --port filter as userspace holds it (same meaning as the kernel's cfg_* rodata). */
struct rh_filter_cfg {
	__u8 filter_ports; /* nonzero: a port of either side must be in port_bitmap */
	__u8 filter_hosts; /* nonzero: an address of either side must be in cidrs[0..n_cidrs) */
	__u8 pad[2];
	__u32 n_cidrs;
	struct rh_cidr cidrs[RH_MAX_CIDRS];
	__u64 port_bitmap[RH_PORT_BITMAP_WORDS];
};

/* One frame being handled: where it was seen, and the host's context. */
struct rh_frame {
	void *ctx;			    /* BPF: xdp_md / __sk_buff; userspace: the road's own state */
	struct rh_counters *cnt;	    /* never NULL */
	const struct rh_filter_cfg *filter; /* userspace only (see RH_CFG) */
	__u32 ifindex;
	__u32 frame_len; /* bytes rh_host_load() can reach */
	__u32 segs;	 /* GSO segments the frame stands for */
	int hook;	 /* enum rh_hook; a compile-time constant in BPF */
	int has_l2;	 /* the frame starts at an Ethernet header */
};

#ifndef RH_CFG
#define RH_CFG(f, name) ((f)->filter->name)
#endif
#ifndef RH_HOST_IP
#define RH_HOST_IP(f, c, p, data, proto) rh_glue_ip(f, c, p, data, proto)
#endif

#ifdef __bpf__
#define RH_CFG_LD64(p) (*(const volatile __u64 *)(p))
#define RH_LD64(p)     (*(const __u64 *)(p))
#else
RH_INLINE __u64 rh_ld64_(const void *p)
{
	__u64 v;
	memcpy(&v, p, 8);
	return v;
}
#define RH_CFG_LD64(p) rh_ld64_((const void *)(p))
#define RH_LD64(p)     rh_ld64_(p)
#endif

/* Host hooks: defined by the includer. */
RH_INLINE long rh_host_load(const struct rh_frame *f, __u32 off, void *dst, __u32 n);
RH_INLINE __u64 rh_host_now(const struct rh_frame *f);
RH_INLINE void *rh_host_reserve(const struct rh_frame *f, __u32 size);
RH_INLINE void rh_host_submit(const struct rh_frame *f, void *rec, __u64 now);
RH_INLINE struct rh_flow_state *rh_host_flow_get(const struct rh_frame *f, const struct rh_flow_key *k,
						 const struct rh_pkt *p);
RH_INLINE struct rh_flow_state *rh_host_flow_find(const struct rh_frame *f, const struct rh_flow_key *k);
#ifdef RH_HOST_FLOW4
RH_INLINE struct rh_flow_state *rh_host_flow_get4(const struct rh_frame *f, const struct rh_flow_key4 *k4,
						  const struct rh_pkt *p);
#endif

RH_INLINE void counters__inc(struct rh_counters *cnt, int idx)
{
	if (idx >= 0 && idx < RH_C_MAX)
		cnt->c[idx]++;
}

RH_INLINE int filter__cidr_match(const struct rh_frame *f, const __u8 *a)
{
	__u64 a0 = RH_LD64(a), a1 = RH_LD64(a + 8);
	__u32 i;

	for (i = 0; i < RH_MAX_CIDRS; i++) {
		if (i >= RH_CFG(f, n_cidrs))
			break;
		if ((a0 & RH_CFG_LD64(RH_CFG(f, cidrs)[i].mask)) == RH_CFG_LD64(RH_CFG(f, cidrs)[i].addr) &&
		    (a1 & RH_CFG_LD64(RH_CFG(f, cidrs)[i].mask + 8)) == RH_CFG_LD64(RH_CFG(f, cidrs)[i].addr + 8))
			return 1;
	}
	return 0;
}

/* `wire`: the port as loaded from the header, rh_port_wire() of its value. */
RH_INLINE int filter__port(const struct rh_frame *f, __u16 wire)
{
	return (RH_CFG(f, port_bitmap)[(wire >> 6) & (RH_PORT_BITMAP_WORDS - 1)] >> (wire & 63)) & 1;
}

/* The --port half of the filter, for ports in host order: true when it passes. */
RH_INLINE int filter__ports(const struct rh_frame *f, __u16 sport, __u16 dport)
{
	return !RH_CFG(f, filter_ports) || filter__port(f, rh_port_wire(sport)) || filter__port(f, rh_port_wire(dport));
}

/* The --host half of the filter: true when it passes. */
RH_INLINE int filter__hosts(const struct rh_frame *f, const __u8 *saddr, const __u8 *daddr)
{
	return !RH_CFG(f, filter_hosts) || filter__cidr_match(f, saddr) || filter__cidr_match(f, daddr);
}

/* True when the tuple passes the user's --host / --port filter. */
RH_INLINE int filter__pass(const struct rh_frame *f, const __u8 *saddr, const __u8 *daddr, __u16 sport, __u16 dport)
{
	return filter__ports(f, sport, dport) && filter__hosts(f, saddr, daddr);
}

RH_INLINE void event__fill_tuple(struct rh_event *ev, const struct rh_pkt *p)
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

/* The header fields every packet event starts with. */
RH_INLINE void event__fill_header(const struct rh_frame *f, struct rh_event *ev, int kind, __u8 side, __u64 now)
{
	ev->ts_ns = now;
	ev->ifindex = f->ifindex;
	ev->kind = kind;
	ev->hook = f->hook;
	ev->side = side;
	ev->reason = 0;
	ev->snap_len = 0;
}

/* Copy up to `max` payload bytes at `off` into dst; returns the count copied. */
RH_INLINE __u32 payload__copy(const struct rh_frame *f, __u32 off, __u32 avail, __u32 want, void *dst, __u32 max)
{
	__u32 n = want < avail ? want : avail;

	if (n > max)
		n = max;
	if (n == 0)
		return 0;
	if (rh_host_load(f, off, dst, n))
		return 0;
	return n;
}

/* Copy the option bytes out of the packet and walk them. */
RH_INLINE void tcp__options(const struct rh_frame *f, const struct rh_pkt *p, struct rh_tcp_opts *o)
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
	if (!rh_host_load(f, p->l4_off + 20, ob.b, n))
		ob.len = n;
	rh_parse_tcp_optbuf(&ob, o);
}

/* The flow summary a record carries (see rh_flow_sum in abi.h). */
RH_INLINE void flow__sum(struct rh_record *rec, const struct rh_flow_state *st)
{
	struct rh_flow_sum *s = &rec->flow;

	s->ts_syn = st->ts_syn;
	s->ts_last_payload[0] = st->ts_last_payload[0];
	s->ts_last_payload[1] = st->ts_last_payload[1];
	__builtin_memcpy(s->bytes, st->bytes, RH_FLOW_SUM_COUNTERS);
	s->initiator = st->initiator;
	s->history[0] = st->history[0];
	s->history[1] = st->history[1];
	s->pure_ack = st->pure_ack;
}

/* The header and flow summary every TCP event starts with (RH_REC_SIZE_BASE bytes). */
RH_INLINE void tcp__fill(const struct rh_frame *f, struct rh_record *rec, const struct rh_pkt *p,
			 const struct rh_flow_state *st, __u8 side, int kind, __u64 now)
{
	struct rh_event *ev = (struct rh_event *)rec; /* the header, at the same offsets */
	struct rh_tcp_opts o;

	event__fill_header(f, ev, kind, side, now);
	event__fill_tuple(ev, p);
	ev->sport = p->sport;
	ev->dport = p->dport;
	ev->seq = p->seq;
	ev->ack = p->ack;
	ev->window = p->window;
	ev->tcp_flags = p->tcp_flags;
	ev->payload_len = p->payload_len;
	tcp__options(f, p, &o);
	ev->opts = o.opts;
	ev->mss = o.mss;
	ev->wscale = o.wscale;
	ev->tsval = o.tsval;
	ev->tsecr = o.tsecr;
	ev->flow_flags = RH_FLOW_STATE | (rh_track_first(st, kind, side, now) ? RH_FLOW_FIRST : 0);
	flow__sum(rec, st);
}

/* Counted as an event, then handed over. */
RH_INLINE void event__submit(const struct rh_frame *f, void *rec, __u64 now)
{
	f->cnt->c[RH_C_EVENTS]++;
	rh_host_submit(f, rec, now);
}

/*
 * One record per event, sized for its kind (see abi.h): most events are the
 * base prefix; a RST with payload adds its first bytes; a first payload is
 * an rh_data_event.  Each size has its own straight path so the verifier
 * knows every write stays inside its record; the submit is shared.
 */
RH_INLINE void tcp__event(const struct rh_frame *f, const struct rh_pkt *p, const struct rh_flow_state *st, __u8 side,
			  int kind, __u64 now)
{
	__u32 off = p->l4_off + p->tcp_hlen;
	__u32 avail = f->frame_len > off ? f->frame_len - off : 0;
	struct rh_record *rec;

	if (kind == RH_EV_PAYLOAD) {
		struct rh_data_event *dev = (struct rh_data_event *)rh_host_reserve(f, sizeof(struct rh_data_event));
		__u32 n;

		if (!dev) {
			f->cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		rec = (struct rh_record *)dev;
		tcp__fill(f, rec, p, st, side, kind, now);
		n = payload__copy(f, off, avail, p->payload_len, dev->data, RH_DATA_SNAP_MAX);
		((struct rh_event *)rec)->snap_len = n;
		if (n < p->payload_len && n < RH_DATA_SNAP_MAX)
			f->cnt->c[RH_C_SNAP_TRUNCATED]++;
	} else if (kind == RH_EV_RST && p->payload_len) {
		rec = (struct rh_record *)rh_host_reserve(f, RH_REC_SIZE_RST_PAYLOAD);
		if (!rec) {
			f->cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		tcp__fill(f, rec, p, st, side, kind, now);
		((struct rh_event *)rec)->snap_len =
			payload__copy(f, off, avail, p->payload_len, rec->u.payload, RH_RST_PAYLOAD_MAX);
	} else {
		rec = (struct rh_record *)rh_host_reserve(f, RH_REC_SIZE_BASE);
		if (!rec) {
			f->cnt->c[RH_C_LOST_RINGBUF]++;
			return;
		}
		tcp__fill(f, rec, p, st, side, kind, now);
	}
	event__submit(f, rec, now);
}

/* The TCP fields of an ICMP error event are zero; the quote goes in the ICMP block. */
RH_INLINE void icmp__fill_quote(struct rh_record *rec, const struct rh_icmp_quote *q)
{
	struct rh_event *ev = (struct rh_event *)rec;

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
	rec->u.icmp.type = q->type;
	rec->u.icmp.code = q->code;
	rec->u.icmp.inner_ttl = q->ttl;
	__builtin_memcpy(rec->u.icmp.inner_saddr, q->saddr, 16);
	__builtin_memcpy(rec->u.icmp.inner_daddr, q->daddr, 16);
	rec->u.icmp.inner_sport = q->sport;
	rec->u.icmp.inner_dport = q->dport;
	rec->u.icmp.inner_seq = q->seq;
}

/* An ICMP error quoting a TCP segment; the quoted flow's state when the table knows it. */
RH_INLINE void icmp__event(const struct rh_frame *f, const struct rh_pkt *p, const struct rh_icmp_quote *q)
{
	struct rh_flow_state *st;
	struct rh_record *rec;
	struct rh_event *ev;
	struct rh_flow_key k;
	__u64 now;
	__u8 side;

	side = rh_flow_key_make(&k, q->family, q->saddr, q->sport, q->daddr, q->dport);
	rec = (struct rh_record *)rh_host_reserve(f, RH_REC_SIZE_ICMP);
	if (!rec) {
		f->cnt->c[RH_C_LOST_RINGBUF]++;
		return;
	}
	ev = (struct rh_event *)rec;
	now = rh_host_now(f);
	event__fill_header(f, ev, RH_EV_ICMP, side, now); /* side of the quoted segment's sender */
	event__fill_tuple(ev, p);
	icmp__fill_quote(rec, q);
	st = rh_host_flow_find(f, &k);
	ev->flow_flags = st ? RH_FLOW_STATE : 0; /* without a state the summary is left unwritten, and unread */
	if (st)
		flow__sum(rec, st);
	f->cnt->c[RH_C_ICMP_ERRORS]++;
	event__submit(f, rec, now);
}

/*
 * A segment's flow state, created on first sight, and the sender's side.
 * Builds p's addresses, except for IPv4 under RH_HOST_FLOW4 (rh_glue_tcp()
 * builds those for an event only).
 */
RH_INLINE struct rh_flow_state *flow__of(const struct rh_frame *f, struct rh_pkt *p, __u8 *side)
{
	struct rh_flow_key k;

#ifdef RH_HOST_FLOW4
	if (p->family == 4) {
		struct rh_flow_key4 k4;

		*side = rh_flow_key4_of(&k4, p->l3, p->sport, p->dport);
		return rh_host_flow_get4(f, &k4, p);
	}
#endif
	rh_pkt_addrs(p);
	*side = rh_flow_key_make(&k, p->family, p->saddr, p->sport, p->daddr, p->dport);
	return rh_host_flow_get(f, &k, p);
}

/* A parsed TCP segment that passed the filter: track its flow, emit what the state machine asks for. */
RH_INLINE void rh_glue_tcp(const struct rh_frame *f, struct rh_pkt *p)
{
	struct rh_flow_state *st;
	__u64 now = 0;
	int kind;
	__u8 side;

	st = flow__of(f, p, &side);
	if (!st)
		return;
	if (rh_track_needs_clock(st, p, side))
		now = rh_host_now(f);
	kind = rh_track(st, p, side, now, f->segs);
	if (!kind)
		return;
#ifdef RH_HOST_FLOW4
	if (p->family == 4)
		rh_pkt_addrs(p);
#endif
	tcp__event(f, p, st, side, kind, now);
}

/*
 * A frame from its IP header on (c->pos, EtherType `proto`; p holds what
 * rh_parse_l2() found): parse, count, filter, track, emit.
 */
RH_INLINE void rh_glue_ip(const struct rh_frame *f, struct rh_cursor *c, struct rh_pkt *p, const __u8 *data, int proto)
{
	struct rh_counters *cnt = f->cnt;
	int r;

	r = rh_parse_ip(c, p, data, proto);
	if (r < 0) {
		counters__inc(cnt, -r);
		return;
	}
	if (r == RH_IPPROTO_ICMP || r == RH_IPPROTO_ICMPV6) {
		struct rh_icmp_quote q;

		if ((r == RH_IPPROTO_ICMP) != (p->family == 4)) {
			cnt->c[RH_C_NON_TCP]++;
			return;
		}
		r = rh_parse_icmp_quote(c, p, &q);
		if (r < 0) {
			counters__inc(cnt, -r);
			return;
		}
		if (r == 0) {
			cnt->c[RH_C_NON_TCP]++;
			return;
		}
		if (!filter__pass(f, q.saddr, q.daddr, q.sport, q.dport)) {
			cnt->c[RH_C_FILTERED]++;
			return;
		}
		rh_pkt_addrs(p);
		icmp__event(f, p, &q);
		return;
	}
	if (r != RH_IPPROTO_TCP) {
		cnt->c[RH_C_NON_TCP]++;
		return;
	}
	if (p->ip_flags & RH_IPF_FRAG_FIRST)
		cnt->c[RH_C_FRAGMENTS]++;
	r = rh_parse_tcp_ports(c, p);
	if (r < 0) {
		counters__inc(cnt, -r);
		return;
	}
	cnt->c[RH_C_TCP]++;
	/* Ports first; the addresses are built for the host filter only when it is set (else by rh_glue_tcp()). */
	if (!filter__ports(f, p->sport, p->dport)) {
		cnt->c[RH_C_FILTERED]++;
		return;
	}
	if (RH_CFG(f, filter_hosts)) {
		rh_pkt_addrs(p);
		if (!filter__cidr_match(f, p->saddr) && !filter__cidr_match(f, p->daddr)) {
			cnt->c[RH_C_FILTERED]++;
			return;
		}
	}
	rh_parse_tcp_rest(p);
	rh_glue_tcp(f, p);
}

/*
 * Everything a frame does: parse, count, filter, track, emit.  `data` is
 * the frame's first byte (its Ethernet header when f->has_l2) and `end` the
 * end of what can be read directly.  The L2 header is parsed here, the rest
 * behind RH_HOST_IP (BPF: a global function, see rsthop.bpf.c).
 */
RH_INLINE void rh_glue_frame(const struct rh_frame *f, const __u8 *data, const __u8 *end)
{
	struct rh_cursor c = {.pos = data, .end = end};
	struct rh_pkt p;
	int r;

	f->cnt->c[RH_C_PACKETS]++;
	r = rh_parse_l2(&c, &p, f->has_l2);
	if (r < 0) {
		counters__inc(f->cnt, -r);
		return;
	}
	RH_HOST_IP(f, &c, &p, data, r);
}

#endif /* RSTHOP_EVENTS_H */
