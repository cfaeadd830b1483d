/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Building flow keys: the canonical rh_flow_key of a packet's tuple (both
 * directions of a connection map to one key, endpoint A the smaller
 * (address, port) in byte-wise order), the sender's side in it, and the
 * conversions between it and the 12-byte IPv4 key of the flows4 table.
 *
 * Contract: pure functions over abi.h types, no BPF helper, compiled both as
 * BPF and in userspace (C or C++) with parse.h's load / copy primitives, so
 * the kernel programs, the offline Tracker and every reader of ring records
 * name a flow alike.  Keys come out fully initialised (padding zeroed): they
 * are hashed and compared as bytes.
 */
#ifndef RSTHOP_FLOW_KEY_H
#define RSTHOP_FLOW_KEY_H

#include "parse.h"

/* A big-endian 64-bit load: the first 8 bytes of an address as an ordered integer. */
RH_INLINE __u64 rh_ld64_be_(const __u8 *a)
{
	__u64 v;

	RH_COPY(&v, a, 8);
	return __builtin_bswap64(v);
}

/* memcmp-like order of two 16-byte addresses, branch-light for the verifier. */
RH_INLINE int rh_addr_cmp(const __u8 *a, const __u8 *b)
{
	__u64 a0 = rh_ld64_be_(a), b0 = rh_ld64_be_(b);
	__u64 a1 = rh_ld64_be_(a + 8), b1 = rh_ld64_be_(b + 8);

	if (a0 != b0)
		return a0 < b0 ? -1 : 1;
	if (a1 != b1)
		return a1 < b1 ? -1 : 1;
	return 0;
}

/*
 * Canonical key for (saddr, sport) -> (daddr, dport).  Returns the sender's
 * side: RH_SIDE_A when the sender is the smaller endpoint.
 */
RH_INLINE __u8 rh_flow_key_make(struct rh_flow_key *k, __u8 family, const __u8 *saddr, __u16 sport, const __u8 *daddr,
				__u16 dport)
{
	int cmp = rh_addr_cmp(saddr, daddr);
	int a_is_src = cmp < 0 || (cmp == 0 && sport <= dport);

	k->family = family;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	if (a_is_src) {
		RH_COPY(k->addr_a, saddr, 16);
		RH_COPY(k->addr_b, daddr, 16);
		k->port_a = sport;
		k->port_b = dport;
		return RH_SIDE_A;
	}
	RH_COPY(k->addr_a, daddr, 16);
	RH_COPY(k->addr_b, saddr, 16);
	k->port_a = dport;
	k->port_b = sport;
	return RH_SIDE_B;
}

/* The flows4 key of an IPv4 flow's key (same endpoints A and B). */
RH_INLINE void rh_flow_key4_make(struct rh_flow_key4 *k4, const struct rh_flow_key *k)
{
	k4->addr_a = RH_LD32(k->addr_a + 12);
	k4->addr_b = RH_LD32(k->addr_b + 12);
	k4->port_a = k->port_a;
	k4->port_b = k->port_b;
}

/*
 * The flows4 key of an IPv4 segment straight from its IP header (`ip4`, the
 * source address at 12, the destination at 16) and its ports; returns the
 * sender's side.  The same key and side as rh_flow_key_make() over the
 * IPv4-mapped addresses, then rh_flow_key4_make() (the mapped prefix is equal,
 * so the order is the last four bytes', big-endian), without building either.
 */
RH_INLINE __u8 rh_flow_key4_of(struct rh_flow_key4 *k4, const __u8 *ip4, __u16 sport, __u16 dport)
{
	__u32 s = RH_LD32(ip4 + 12), d = RH_LD32(ip4 + 16);
	__u32 s_be = rh_ntohl(s), d_be = rh_ntohl(d);

	if (s_be < d_be || (s_be == d_be && sport <= dport)) {
		k4->addr_a = s;
		k4->addr_b = d;
		k4->port_a = sport;
		k4->port_b = dport;
		return RH_SIDE_A;
	}
	k4->addr_a = d;
	k4->addr_b = s;
	k4->port_a = dport;
	k4->port_b = sport;
	return RH_SIDE_B;
}

/*
 * The flow_slots index of an IPv4 flow (abi.h's rh_flow_slot): a
 * multiply-xor hash of the 12-byte key with the load's random seed, mapped
 * onto [0, n) by a multiply (n need not be a power of two).  The kernel and
 * userspace reader (userspace/kernel/flow_tables.cpp) must agree.
 */
RH_INLINE __u32 rh_flow_slot_of(const struct rh_flow_key4 *k4, __u32 n, __u64 seed)
{
	__u64 h = (((__u64)k4->addr_a << 32 | k4->addr_b) ^ seed) * 0x9E3779B97F4A7C15ULL;

	h = (h ^ ((__u64)k4->port_a << 16 | k4->port_b)) * 0x9E3779B97F4A7C15ULL;
	return (__u32)(((h >> 32) * n) >> 32);
}

/* The slot holds this IPv4 flow (a slot being rewritten holds none). */
RH_INLINE int rh_flow_slot_holds(const struct rh_flow_slot *s, const struct rh_flow_key4 *k4)
{
	return s->live == RH_SLOT_LIVE && s->key.addr_a == k4->addr_a && s->key.addr_b == k4->addr_b &&
	       s->key.port_a == k4->port_a && s->key.port_b == k4->port_b;
}

/* The rh_flow_key of a flows4 key (userspace: walking the IPv4 table). */
RH_INLINE void rh_flow_key4_expand(struct rh_flow_key *k, const struct rh_flow_key4 *k4)
{
	rh_addr_v4mapped(k->addr_a, (const __u8 *)&k4->addr_a);
	rh_addr_v4mapped(k->addr_b, (const __u8 *)&k4->addr_b);
	k->port_a = k4->port_a;
	k->port_b = k4->port_b;
	k->family = 4;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

#endif /* RSTHOP_FLOW_KEY_H */
