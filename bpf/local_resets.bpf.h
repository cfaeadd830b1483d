/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tp_btf half of rsthop.bpf.c: tcp_send_reset / tcp_receive_reset mark
 * resets this host's own stack sent or accepted, and inet_sock_set_state
 * caches the tuple of closing sockets (for resets sent once the socket has
 * let go of its addresses).  Included at the end of rsthop.bpf.c, whose maps, config
 * and helpers (counters__get, filter__match, ringbuf__submit) it uses: one
 * object, two files.
 */
#ifndef RSTHOP_LOCAL_RESETS_BPF_H
#define RSTHOP_LOCAL_RESETS_BPF_H

#include "flow_key.h"

/* Tracepoints fire for every namespace; "this host" is the tracer's own. */
static __always_inline int netns__ours(const struct net *net)
{
	return cfg_netns_ino == 0 || (net && net->ns.inum == cfg_netns_ino);
}

/* Local tuple of a socket; returns 0 when the socket is not TCP over IPv4/IPv6. */
static __always_inline int sk__tuple(const struct sock *sk, struct rh_sk_tuple *t)
{
	__u16 family = sk->__sk_common.skc_family;
	__u8 daddr[16];

	if (family == RH_AF_INET) {
		__u32 s = sk->__sk_common.skc_rcv_saddr, d = sk->__sk_common.skc_daddr;

		rh_addr_v4mapped(t->saddr, (const __u8 *)&s);
		rh_addr_v4mapped(daddr, (const __u8 *)&d);
		t->family = 4;
	} else if (family == RH_AF_INET6) {
		BPF_CORE_READ_INTO(&t->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		t->family = 6;
	} else {
		return 0;
	}
	t->sport = sk->__sk_common.skc_num;
	/*
	 * An abort (close with unread data, SO_LINGER 0) moves the socket to
	 * TCP_CLOSE, which releases the port (skc_num = 0) before both the
	 * state tracepoint and the reset fire; inet_sport keeps it until the
	 * socket is reused.
	 */
	if (!t->sport)
		t->sport = rh_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	t->dport = rh_ntohs(sk->__sk_common.skc_dport);
	rh_flow_key_make(&t->key, t->family, t->saddr, t->sport, daddr, t->dport);
	return 1;
}

/* Tuple of the segment a socket-less reset answers, reversed (as the RST travels). */
static __always_inline int skb__reply_tuple(const struct sk_buff *skb, struct rh_sk_tuple *t)
{
	const unsigned char *head = skb->head;
	__u16 nh = skb->network_header, th = skb->transport_header;
	__u8 ip[40], tcp[4];
	__u8 daddr[16];

	if (bpf_probe_read_kernel(ip, 20, head + nh) || bpf_probe_read_kernel(tcp, 4, head + th))
		return 0;
	if ((ip[0] >> 4) == 4) {
		rh_addr_v4mapped(t->saddr, ip + 16);
		rh_addr_v4mapped(daddr, ip + 12);
		t->family = 4;
	} else if ((ip[0] >> 4) == 6) {
		if (bpf_probe_read_kernel(ip, 40, head + nh))
			return 0;
		__builtin_memcpy(t->saddr, ip + 24, 16);
		__builtin_memcpy(daddr, ip + 8, 16);
		t->family = 6;
	} else {
		return 0;
	}
	t->sport = rh_ntohs(*(__u16 *)(tcp + 2));
	t->dport = rh_ntohs(*(__u16 *)tcp);
	rh_flow_key_make(&t->key, t->family, t->saddr, t->sport, daddr, t->dport);
	return 1;
}

/*
 * The cgroup v2 id (kernfs node id, the directory's inode number) of the
 * cgroup the socket's creator was in; 0 when the kernel has no socket cgroup
 * data.  A few pointer reads, on resets only.
 */
static __always_inline __u64 sk__cgroup_id(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data))
		return 0;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline void local__event(const struct rh_sk_tuple *t, int kind, int hook, __u16 reason, __u64 cgroup)
{
	struct rh_counters *cnt = counters__get();
	struct rh_flow_state *st;
	struct rh_record *rec;
	struct rh_event *ev;
	int a_is_src;

	if (!cnt)
		return;
	/* t->saddr is this host's address: orient the tuple as the RST travels. */
	a_is_src = rh_addr_cmp(t->saddr, t->key.addr_a) == 0 && t->sport == t->key.port_a;
	if (!filter__match(t->key.addr_a, t->key.addr_b, t->key.port_a, t->key.port_b)) {
		cnt->c[RH_C_FILTERED]++;
		return;
	}
	cnt->c[RH_C_LOCAL_RESETS]++;
	rec = bpf_ringbuf_reserve(&events, RH_REC_SIZE_BASE, 0);
	if (!rec) {
		cnt->c[RH_C_LOST_RINGBUF]++;
		return;
	}
	ev = (struct rh_event *)rec; /* the header, at the same offsets */
	__builtin_memset(ev, 0, RH_REC_HEAD_SIZE);
	ev->ts_ns = bpf_ktime_get_ns();
	ev->kind = kind;
	ev->hook = hook;
	ev->family = t->family;
	ev->reason = reason;
	rh_event_set_cgroup_id(ev, cgroup);
	if (kind == RH_EV_LOCAL_RST_SEND) {
		__builtin_memcpy(ev->saddr, t->saddr, 16);
		__builtin_memcpy(ev->daddr, a_is_src ? t->key.addr_b : t->key.addr_a, 16);
		ev->sport = t->sport;
		ev->dport = t->dport;
		ev->side = a_is_src ? RH_SIDE_A : RH_SIDE_B;
	} else {
		__builtin_memcpy(ev->daddr, t->saddr, 16);
		__builtin_memcpy(ev->saddr, a_is_src ? t->key.addr_b : t->key.addr_a, 16);
		ev->sport = t->dport;
		ev->dport = t->sport;
		ev->side = a_is_src ? RH_SIDE_B : RH_SIDE_A;
	}
	st = rh_host_flow_find(NULL, &t->key);
	if (st) {
		ev->flow_flags = RH_FLOW_STATE;
		flow__sum(rec, st);
	}
	cnt->c[RH_C_EVENTS]++;
	ringbuf__submit(rec, cnt);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rh_sock_state, const struct sock *sk, int oldstate, int newstate)
{
	struct rh_sk_tuple t = {};
	__u64 id = (__u64)sk;

	if (newstate != RH_TCP_CLOSE || sk->sk_protocol != RH_IPPROTO_TCP || !netns__ours(sk->__sk_common.skc_net.net))
		return 0;
	if (sk__tuple(sk, &t) && t.sport)
		bpf_map_update_elem(&closing, &id, &t, BPF_ANY);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rh_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	struct rh_sk_tuple t = {};
	__u64 cgroup = 0;
	__u16 reason = 0;
	int ok;

	if (cfg_has_rst_reason)
		reason = (__u16)ctx[2];
	if (sk) {
		if (!netns__ours(sk->__sk_common.skc_net.net))
			return 0;
		ok = sk__tuple(sk, &t);
		cgroup = sk__cgroup_id(sk);
		if (ok && !t.sport) {
			/* Aborted sockets have released their port: use the cached tuple. */
			__u64 id = (__u64)sk;
			struct rh_sk_tuple *cached = bpf_map_lookup_elem(&closing, &id);

			if (cached)
				__builtin_memcpy(&t, cached, sizeof(t));
		}
	} else if (skb) {
		if (!skb->dev || !netns__ours(skb->dev->nd_net.net))
			return 0;
		ok = skb__reply_tuple(skb, &t);
	} else {
		ok = 0;
	}
	if (ok)
		local__event(&t, RH_EV_LOCAL_RST_SEND, RH_HOOK_TP_SEND_RESET, reason, cgroup);
	return 0;
}

/*
 * The socket's state rides in `reason` (see abi.h): a RST accepted in
 * SYN_SENT answered this socket's SYN, whether or not that SYN left.
 */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rh_receive_reset, struct sock *sk)
{
	struct rh_sk_tuple t = {};

	if (sk && netns__ours(sk->__sk_common.skc_net.net) && sk__tuple(sk, &t))
		local__event(&t, RH_EV_LOCAL_RST_RECV, RH_HOOK_TP_RECV_RESET, sk->__sk_common.skc_state,
			     sk__cgroup_id(sk));
	return 0;
}

#endif /* RSTHOP_LOCAL_RESETS_BPF_H */
