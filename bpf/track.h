/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Per-flow state machine: what one TCP segment does to its flow's state and
 * which event (if any) it deserves.  Pure C over struct rh_flow_state, shared
 * by the kernel programs and by userspace (offline analysis keeps its own
 * table and calls the same function), so both roads decide alike.
 */
#ifndef RSTHOP_TRACK_H
#define RSTHOP_TRACK_H

#include "parse.h"

RH_INLINE void rh_flow_reset(struct rh_flow_state *st)
{
	__builtin_memset(st, 0, sizeof(*st));
	st->initiator = RH_SIDE_UNKNOWN;
}

/*
 * True when the segment needs a timestamp (the caller reads the clock
 * lazily): control segments, and payload that ends a write (PSH) or may be a
 * direction's first.  Bulk segments without PSH are counted but not timed,
 * so a bulk transfer never reads the clock; ts_last_payload[] is therefore
 * the time of the last PSH segment, which is what a RST answers.
 */
RH_INLINE int rh_track_needs_clock(const struct rh_flow_state *st, const struct rh_pkt *p, __u8 side)
{
	if (p->tcp_flags & (RH_TCP_SYN | RH_TCP_FIN | RH_TCP_RST | RH_TCP_PSH))
		return 1;
	return p->payload_len && !st->ts_first_payload[side & 1];
}

RH_INLINE void rh_track_baseline(const struct rh_pkt *p, __u8 *ttl, __u16 *ip_id, __u16 *window, __u8 *mac)
{
	*ttl = p->ttl;
	*ip_id = p->ip_id;
	*window = p->window;
	if (p->l2)
		RH_COPY(mac, p->l2 + 6, 6);
}

/*
 * Update st with segment p sent by `side` (now: CLOCK_MONOTONIC ns when
 * rh_track_needs_clock() said so, else 0; segs: segments the packet stands
 * for, >1 for GSO).  Returns the enum rh_event_kind to emit, or 0.
 */
RH_INLINE int rh_track(struct rh_flow_state *st, const struct rh_pkt *p, __u8 side, __u64 now, __u32 segs)
{
	__u8 f = p->tcp_flags;

	/*
	 * A new SYN on a known tuple starts a new connection: another ISN than
	 * the SYN seen before, or any SYN on an entry first seen mid-stream.
	 */
	if ((f & (RH_TCP_SYN | RH_TCP_ACK)) == RH_TCP_SYN &&
	    (st->ts_syn ? st->syn_seq != p->seq : (st->packets[0] | st->packets[1]) != 0))
		rh_flow_reset(st);

	st->packets[side & 1] += segs;
	st->history[side & 1] |= f;
	if (f & RH_TCP_ACK) {
		st->ack_last[side & 1] = p->ack;
		if (!(f & (RH_TCP_SYN | RH_TCP_FIN | RH_TCP_RST)) && !p->payload_len)
			st->pure_ack |= (__u8)(1 << (side & 1));
	}
	/*
	 * A RST's payload (an RFC 5961 challenge text, a diagnostic payload, a
	 * censor's message) is not stream data: counting it would make the peer
	 * look like it answered, move seq_next past the RST's own seq and add a
	 * 'd' to the history.
	 */
	if (p->payload_len && !(f & RH_TCP_RST)) {
		__u32 end = p->seq + p->payload_len;

		st->bytes[side & 1] += p->payload_len;
		if (now)
			st->ts_last_payload[side & 1] = now;
		if (!st->seq_next[side & 1] || (__s32)(end - st->seq_next[side & 1]) > 0)
			st->seq_next[side & 1] = end;
	}

	if (!(f & (RH_TCP_SYN | RH_TCP_FIN | RH_TCP_RST))) {
		if (!p->payload_len || st->ts_first_payload[side & 1])
			return 0;
		st->ts_first_payload[side & 1] = now;
		/*
		 * Mid-stream flows too: a connection that only carries data (no
		 * SYN, FIN or RST ever) would otherwise leave no event behind and
		 * get no flow line.  Readers take no request line or ClientHello
		 * from a mid-stream flow's bytes (ts_syn and ts_synack are 0).
		 */
		return RH_EV_PAYLOAD;
	}
	if (f & RH_TCP_RST) {
		st->rst_count[side & 1]++;
		st->ts_rst[side & 1] = now;
		return RH_EV_RST;
	}
	if (f & RH_TCP_SYN) {
		if (f & RH_TCP_ACK) {
			if (!st->ts_synack) {
				st->ts_synack = now;
				if (st->initiator == RH_SIDE_UNKNOWN)
					st->initiator = (side & 1) ^ 1;
				rh_track_baseline(p, &st->peer_ttl, &st->peer_ip_id, &st->peer_window, st->peer_mac);
			}
			return RH_EV_SYNACK;
		}
		if (!st->ts_syn) {
			st->ts_syn = now;
			st->syn_seq = p->seq;
			st->initiator = side & 1;
			st->seq_next[side & 1] = p->seq + 1;
			rh_track_baseline(p, &st->init_ttl, &st->init_ip_id, &st->init_window, st->init_mac);
		}
		return RH_EV_SYN;
	}
	if (!st->ts_fin[side & 1])
		st->ts_fin[side & 1] = now;
	return RH_EV_FIN;
}

/*
 * True when the event rh_track() just returned for `kind` set that kind's
 * once-per-connection fields (the first SYN, SYN-ACK, FIN of a side, first
 * payload of a side): its record then says so (RH_FLOW_FIRST) and readers
 * take those fields from the event itself (bpf/record.h).
 */
RH_INLINE int rh_track_first(const struct rh_flow_state *st, int kind, __u8 side, __u64 now)
{
	if (kind == RH_EV_SYN)
		return st->ts_syn == now;
	if (kind == RH_EV_SYNACK)
		return st->ts_synack == now;
	if (kind == RH_EV_FIN)
		return st->ts_fin[side & 1] == now;
	return kind == RH_EV_PAYLOAD;
}

#endif /* RSTHOP_TRACK_H */
