/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Bounded cursor parsers for the headers rsthop reads: Ethernet, 802.1Q /
 * 802.1ad, IPv4 (with options), IPv6 (with a bounded extension-header
 * chain), TCP (with options) and ICMP / ICMPv6 errors with their quote.
 *
 * Plain C that compiles both as BPF (with vmlinux.h) and in userspace (C or
 * C++), so offline analysis and fuzzing run the code the kernel runs.  Every
 * rh_parse_*() checks bounds before each read, advances the cursor and returns
 * >= 0 on success or -RH_C_<cause> (an enum rh_counter) on failure, so the
 * caller can count the loss by cause.  Nothing here depends on a BPF helper.
 */
#ifndef RSTHOP_PARSE_H
#define RSTHOP_PARSE_H

#include "abi.h"

#ifndef RH_VLAN_MAX_DEPTH
#define RH_VLAN_MAX_DEPTH 2 /* QinQ */
#endif
#ifndef RH_IPV6_EXT_MAX
#define RH_IPV6_EXT_MAX 6
#endif
#ifndef RH_TCP_OPT_MAX
#define RH_TCP_OPT_MAX 16 /* option entries walked */
#endif

#ifdef __bpf__
#define RH_INLINE static __always_inline
/* Packet loads need no alignment on the architectures BPF JITs run on. */
#define RH_LD16(p)	 (*(const __u16 *)(p))
#define RH_LD32(p)	 (*(const __u32 *)(p))
#define RH_COPY(d, s, n) __builtin_memcpy((d), (s), (n))
#else
#include <string.h>
#define RH_INLINE	 static inline
RH_INLINE __u16 rh_ld16_(const void *p)
{
	__u16 v;
	memcpy(&v, p, 2);
	return v;
}
RH_INLINE __u32 rh_ld32_(const void *p)
{
	__u32 v;
	memcpy(&v, p, 4);
	return v;
}
#define RH_LD16(p)	 rh_ld16_(p)
#define RH_LD32(p)	 rh_ld32_(p)
#define RH_COPY(d, s, n) memcpy((d), (s), (n))
#endif

/* Both targets are little-endian (bpfel, x86_64/arm64 hosts). */
#define rh_ntohs(x) ((__u16)__builtin_bswap16(x))
#define rh_ntohl(x) ((__u32)__builtin_bswap32(x))
#define rh_htons(x) ((__u16)__builtin_bswap16(x))

#define RH_ETH_P_IP	  0x0800
#define RH_ETH_P_IPV6	  0x86DD
#define RH_ETH_P_8021Q	  0x8100
#define RH_ETH_P_8021AD	  0x88A8
#define RH_IPPROTO_TCP	  6
#define RH_IPPROTO_ICMP	  1
#define RH_IPPROTO_ICMPV6 58

struct rh_cursor {
	const __u8 *pos;
	const __u8 *end;
};

/* What the parsers found.  Pointers point into the frame. */
struct rh_pkt {
	const __u8 *l2;	 /* Ethernet header, or NULL for frames that start at L3 */
	const __u8 *tcp; /* TCP header (set by rh_parse_tcp_ports) */
	const __u8 *l3;	 /* IP header: rh_pkt_addrs() builds saddr / daddr from it */
	__u8 saddr[16];	 /* network order, IPv4-mapped for IPv4 (after rh_pkt_addrs) */
	__u8 daddr[16];
	__u8 family; /* 4 or 6 */
	__u8 l4proto;
	__u8 ttl;
	__u8 ip_flags; /* RH_IPF_* */
	__u8 vlan_depth;
	__u8 tcp_flags;
	__u16 ip_id;
	__u16 ip_len; /* IPv4 total length; IPv6 payload length + 40 */
	__u16 l4_len; /* bytes from the L4 header to the end of the IP payload */
	__u16 sport;
	__u16 dport;
	__u16 window;
	__u16 tcp_hlen;	   /* TCP header length in bytes */
	__u16 payload_len; /* TCP payload length according to the IP header */
	__u32 seq;
	__u32 ack;
	__u32 l4_off; /* offset of the L4 header from the frame start */
};

/* TCP options summary. */
struct rh_tcp_opts {
	__u16 mss;
	__u8 wscale;
	__u8 opts; /* RH_OPT_* */
	__u32 tsval;
	__u32 tsecr;
};

/* The TCP segment an ICMP error quotes. */
struct rh_icmp_quote {
	/* Addresses first and 8-aligned: filter__cidr_match() loads them as __u64,
	 * and the verifier rejects misaligned stack loads. */
	__u8 saddr[16] __attribute__((aligned(8)));
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u8 type;
	__u8 code;
	__u8 ttl; /* TTL / hop limit left in the quoted header */
	__u8 family;
};

RH_INLINE void rh_addr_v4mapped(__u8 *dst, const __u8 *src4)
{
	__u32 v = RH_LD32(src4);
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	RH_COPY(dst + 12, &v, 4);
}

RH_INLINE int rh_addr_is_v4mapped(const __u8 *a)
{
	return RH_LD32(a) == 0 && RH_LD32(a + 4) == 0 && RH_LD16(a + 8) == 0 && a[10] == 0xff && a[11] == 0xff;
}

/*
 * Ethernet with up to RH_VLAN_MAX_DEPTH 802.1Q / 802.1ad tags.
 * Returns the inner EtherType (host order).
 */
RH_INLINE int rh_parse_eth(struct rh_cursor *c, struct rh_pkt *p)
{
	const __u8 *h = c->pos;
	__u16 proto;
	int i;

	if (h + 14 > c->end)
		return -RH_C_TRUNC_L2;
	p->l2 = h;
	p->vlan_depth = 0;
	proto = rh_ntohs(RH_LD16(h + 12));
	h += 14;
#ifdef __bpf__
#pragma unroll
#endif
	for (i = 0; i < RH_VLAN_MAX_DEPTH; i++) {
		if (proto != RH_ETH_P_8021Q && proto != RH_ETH_P_8021AD)
			break;
		if (h + 4 > c->end)
			return -RH_C_TRUNC_L2;
		proto = rh_ntohs(RH_LD16(h + 2));
		h += 4;
		p->vlan_depth++;
	}
	if (proto == RH_ETH_P_8021Q || proto == RH_ETH_P_8021AD)
		return -RH_C_UNSUPPORTED_ENCAP;
	c->pos = h;
	return proto;
}

/*
 * IPv4 with options.  Returns the protocol, or -RH_C_FRAGMENTS for a
 * non-first fragment.  The addresses are left to rh_pkt_addrs().
 */
RH_INLINE int rh_parse_ipv4(struct rh_cursor *c, struct rh_pkt *p)
{
	const __u8 *h = c->pos;
	__u32 ihl;
	__u16 frag;

	if (h + 20 > c->end)
		return -RH_C_TRUNC_L3;
	if ((h[0] >> 4) != 4)
		return -RH_C_MALFORMED_L3;
	ihl = (__u32)(h[0] & 0x0f) * 4;
	if (ihl < 20)
		return -RH_C_MALFORMED_L3;
	if (h + ihl > c->end)
		return -RH_C_TRUNC_L3;
	p->family = 4;
	p->ttl = h[8];
	p->l4proto = h[9];
	p->ip_id = rh_ntohs(RH_LD16(h + 4));
	p->ip_len = rh_ntohs(RH_LD16(h + 2));
	/* A TSO / GRO super-frame may say 0: the frame then says how long it is. */
	if (!p->ip_len)
		p->ip_len = c->end - h > 0xffff ? 0xffff : (__u16)(c->end - h);
	frag = rh_ntohs(RH_LD16(h + 6));
	if (frag & 0x4000)
		p->ip_flags |= RH_IPF_DF;
	if (frag & 0x1fff)
		return -RH_C_FRAGMENTS;
	if (frag & 0x2000)
		p->ip_flags |= RH_IPF_FRAG_FIRST;
	p->l4_len = p->ip_len > ihl ? (__u16)(p->ip_len - ihl) : 0;
	p->l3 = h;
	c->pos = h + ihl;
	return p->l4proto;
}

/*
 * IPv6 with up to RH_IPV6_EXT_MAX extension headers (hop-by-hop, routing,
 * fragment, destination options, AH).  Returns the upper-layer protocol.
 * The addresses are left to rh_pkt_addrs().
 */
RH_INLINE int rh_parse_ipv6(struct rh_cursor *c, struct rh_pkt *p)
{
	const __u8 *h = c->pos;
	__u32 ext = 0, plen;
	__u8 nh;
	int i;

	if (h + 40 > c->end)
		return -RH_C_TRUNC_L3;
	if ((h[0] >> 4) != 6)
		return -RH_C_MALFORMED_L3;
	p->family = 6;
	p->ip_id = 0;
	p->ttl = h[7];
	plen = rh_ntohs(RH_LD16(h + 4));
	/* ip_len is 16 bits: a payload over 65495 bytes saturates it, l4_len does not wrap. */
	p->ip_len = plen + 40 > 0xffff ? 0xffff : (__u16)(plen + 40);
	p->l3 = h;
	nh = h[6];
	h += 40;
	for (i = 0; i < RH_IPV6_EXT_MAX; i++) {
		__u32 len;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51)
			break;
		if (h + 8 > c->end)
			return -RH_C_TRUNC_L3;
		if (nh == 44) {
			__u16 off = rh_ntohs(RH_LD16(h + 2));

			if (off & 0xfff8)
				return -RH_C_FRAGMENTS;
			if (off & 1)
				p->ip_flags |= RH_IPF_FRAG_FIRST;
			len = 8;
		} else if (nh == 51) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			len = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		if (h + len > c->end)
			return -RH_C_TRUNC_L3;
		h += len;
		ext += len;
	}
	if (nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51)
		return -RH_C_UNSUPPORTED_ENCAP;
	p->l4proto = nh;
	p->l4_len = plen >= ext ? (__u16)(plen - ext) : 0;
	c->pos = h;
	return nh;
}

/*
 * Ethernet (or, when has_l2 is 0, the IP version of a raw IP frame).
 * Returns the EtherType of the IP header at c->pos.
 */
RH_INLINE int rh_parse_l2(struct rh_cursor *c, struct rh_pkt *p, int has_l2)
{
	int proto;

	p->ip_flags = 0;
	p->vlan_depth = 0;
	p->l2 = 0;
	if (!has_l2) {
		if (c->pos + 1 > c->end)
			return -RH_C_TRUNC_L3;
		return (c->pos[0] >> 4) == 6 ? RH_ETH_P_IPV6 : RH_ETH_P_IP;
	}
	proto = rh_parse_eth(c, p);
	if (proto >= 0 && p->vlan_depth)
		p->ip_flags |= RH_IPF_VLAN;
	return proto;
}

/*
 * The IP header at c->pos (EtherType `proto`) up to the L4 header, without
 * the addresses (a packet the port filter rejects never needs them): call
 * rh_pkt_addrs() before reading saddr / daddr.  Returns the L4 protocol.
 */
RH_INLINE int rh_parse_ip(struct rh_cursor *c, struct rh_pkt *p, const __u8 *frame, int proto)
{
	if (proto == RH_ETH_P_IP)
		proto = rh_parse_ipv4(c, p);
	else if (proto == RH_ETH_P_IPV6)
		proto = rh_parse_ipv6(c, p);
	else
		return -RH_C_NON_TCP;
	if (proto < 0)
		return proto;
	p->l4_off = (__u32)(c->pos - frame);
	return proto;
}

/* The addresses of a packet rh_parse_ip() accepted, from its IP header. */
RH_INLINE void rh_pkt_addrs(struct rh_pkt *p)
{
	if (p->family == 4) {
		rh_addr_v4mapped(p->saddr, p->l3 + 12);
		rh_addr_v4mapped(p->daddr, p->l3 + 16);
	} else {
		RH_COPY(p->saddr, p->l3 + 8, 16);
		RH_COPY(p->daddr, p->l3 + 24, 16);
	}
}

/* Ethernet (or raw IP when l2 is 0) up to the L4 header, addresses included.  Returns the L4 protocol. */
RH_INLINE int rh_parse_l3(struct rh_cursor *c, struct rh_pkt *p, const __u8 *frame, int has_l2)
{
	int proto = rh_parse_l2(c, p, has_l2);

	if (proto < 0)
		return proto;
	proto = rh_parse_ip(c, p, frame, proto);
	if (proto >= 0)
		rh_pkt_addrs(p);
	return proto;
}

/*
 * The fixed TCP header's bounds and ports, all a port filter needs; the
 * other fields are left to rh_parse_tcp_rest().
 */
RH_INLINE int rh_parse_tcp_ports(struct rh_cursor *c, struct rh_pkt *p)
{
	const __u8 *h = c->pos;
	__u32 hlen;

	if (h + 20 > c->end)
		return -RH_C_TRUNC_L4;
	hlen = (__u32)(h[12] >> 4) * 4;
	if (hlen < 20)
		return -RH_C_MALFORMED_L4;
	if (h + hlen > c->end)
		return -RH_C_TRUNC_L4;
	p->tcp = h;
	p->sport = rh_ntohs(RH_LD16(h));
	p->dport = rh_ntohs(RH_LD16(h + 2));
	p->tcp_hlen = (__u16)hlen;
	c->pos = h + hlen;
	return 0;
}

/* The rest of a TCP header rh_parse_tcp_ports() accepted. */
RH_INLINE void rh_parse_tcp_rest(struct rh_pkt *p)
{
	const __u8 *h = p->tcp;

	p->seq = rh_ntohl(RH_LD32(h + 4));
	p->ack = rh_ntohl(RH_LD32(h + 8));
	p->tcp_flags = h[13];
	p->window = rh_ntohs(RH_LD16(h + 14));
	p->payload_len = p->l4_len > p->tcp_hlen ? (__u16)(p->l4_len - p->tcp_hlen) : 0;
}

/* The fixed TCP header; options are left for rh_parse_tcp_opts. */
RH_INLINE int rh_parse_tcp(struct rh_cursor *c, struct rh_pkt *p)
{
	int r = rh_parse_tcp_ports(c, p);

	if (r == 0)
		rh_parse_tcp_rest(p);
	return r;
}

/* The option bytes of a TCP header, copied out of the frame. */
struct rh_tcp_optbuf {
	__u8 b[40] __attribute__((aligned(8))); /* bpf/rsthop.bpf.c's pkt__copy() stores whole words */
	__u32 len;				/* valid bytes in b (header length - 20, cut to what was captured) */
	__u32 cut;				/* nonzero when the capture ended inside the options */
};

/*
 * Walk TCP options.  In BPF this is a global function, verified once on its
 * own, so the option loop does not multiply the states of its callers.
 * Returns the number of options seen.
 */
#ifdef __bpf__
__attribute__((noinline)) int
#else
RH_INLINE int
#endif
rh_parse_tcp_optbuf(const struct rh_tcp_optbuf *ob, struct rh_tcp_opts *o)
{
	__u32 off = 0, len;
	int i, n = 0;

	if (!o || !ob)
		return 0;
	len = ob->len;
	o->mss = 0;
	o->wscale = 0;
	o->opts = ob->cut ? RH_OPT_TRUNCATED : 0;
	o->tsval = 0;
	o->tsecr = 0;
	if (len > 40)
		len = 40;
	for (i = 0; i < RH_TCP_OPT_MAX; i++) {
		__u8 kind, olen;

		if (off >= len || off >= 40)
			break;
		kind = ob->b[off];
		if (kind == 0)
			break;
		n++;
		if (kind == 1) {
			off++;
			continue;
		}
		if (off + 1 >= len || off >= 39) {
			o->opts |= RH_OPT_TRUNCATED;
			break;
		}
		olen = ob->b[off + 1];
		if (olen < 2 || off + olen > len) {
			o->opts |= RH_OPT_TRUNCATED;
			break;
		}
		if (kind == 2 && olen == 4 && off <= 36) {
			o->opts |= RH_OPT_MSS;
			o->mss = (__u16)((ob->b[off + 2] << 8) | ob->b[off + 3]);
		} else if (kind == 3 && olen == 3 && off <= 37) {
			o->opts |= RH_OPT_WSCALE;
			o->wscale = ob->b[off + 2];
		} else if (kind == 4 && olen == 2) {
			o->opts |= RH_OPT_SACK_PERM;
		} else if (kind == 5) {
			o->opts |= RH_OPT_SACK;
		} else if (kind == 8 && olen == 10 && off <= 30) {
			o->opts |= RH_OPT_TIMESTAMP;
			o->tsval = ((__u32)ob->b[off + 2] << 24) | ((__u32)ob->b[off + 3] << 16) |
				   ((__u32)ob->b[off + 4] << 8) | ob->b[off + 5];
			o->tsecr = ((__u32)ob->b[off + 6] << 24) | ((__u32)ob->b[off + 7] << 16) |
				   ((__u32)ob->b[off + 8] << 8) | ob->b[off + 9];
		} else {
			o->opts |= RH_OPT_OTHER;
		}
		off += olen;
	}
	return n;
}

#ifndef __bpf__
/* Userspace convenience: options of a parsed segment, straight from the frame. */
RH_INLINE void rh_parse_tcp_opts(const struct rh_pkt *p, const __u8 *end, struct rh_tcp_opts *o)
{
	struct rh_tcp_optbuf ob;
	const __u8 *from = p->tcp + 20;
	__u32 want = p->tcp_hlen > 20 ? (__u32)p->tcp_hlen - 20 : 0;
	__u32 have = end > from ? (__u32)(end - from) : 0;

	if (want > 40)
		want = 40;
	ob.len = want < have ? want : have;
	ob.cut = ob.len < want;
	memcpy(ob.b, from, ob.len);
	rh_parse_tcp_optbuf(&ob, o);
}
#endif

/*
 * An ICMP (type 3, 11) or ICMPv6 (type 1, 3) error quoting a TCP segment.
 * Returns 1 when q was filled, 0 when this ICMP message is not such an error,
 * or a negative cause.
 */
RH_INLINE int rh_parse_icmp_quote(struct rh_cursor *c, const struct rh_pkt *p, struct rh_icmp_quote *q)
{
	const __u8 *h = c->pos;
	const __u8 *in;
	__u8 proto;

	if (h + 8 > c->end)
		return -RH_C_TRUNC_L4;
	q->type = h[0];
	q->code = h[1];
	in = h + 8;
	if (p->family == 4) {
		__u32 ihl;

		if (q->type != 3 && q->type != 11)
			return 0;
		if (in + 20 > c->end)
			return -RH_C_TRUNC_L4;
		if ((in[0] >> 4) != 4)
			return -RH_C_MALFORMED_L4;
		ihl = (__u32)(in[0] & 0x0f) * 4;
		if (ihl < 20)
			return -RH_C_MALFORMED_L4;
		if (in + ihl > c->end)
			return -RH_C_TRUNC_L4;
		proto = in[9];
		q->family = 4;
		q->ttl = in[8];
		rh_addr_v4mapped(q->saddr, in + 12);
		rh_addr_v4mapped(q->daddr, in + 16);
		in += ihl;
	} else {
		if (q->type != 1 && q->type != 3)
			return 0;
		if (in + 40 > c->end)
			return -RH_C_TRUNC_L4;
		if ((in[0] >> 4) != 6)
			return -RH_C_MALFORMED_L4;
		proto = in[6];
		q->family = 6;
		q->ttl = in[7];
		RH_COPY(q->saddr, in + 8, 16);
		RH_COPY(q->daddr, in + 24, 16);
		in += 40;
	}
	if (proto != RH_IPPROTO_TCP)
		return 0;
	/* RFC 792 guarantees 8 bytes of the quoted datagram: ports and seq. */
	if (in + 8 > c->end)
		return -RH_C_TRUNC_L4;
	q->sport = rh_ntohs(RH_LD16(in));
	q->dport = rh_ntohs(RH_LD16(in + 2));
	q->seq = rh_ntohl(RH_LD32(in + 4));
	return 1;
}

#endif /* RSTHOP_PARSE_H */
