/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading ring-buffer records (userspace only): a record is a prefix of
 * struct rh_record (see abi.h); rh_record_decode() turns it into a whole
 * rh_event, zero-filled past what the record holds, with the canonical key
 * derived from the tuple and the flow state expanded from the record's
 * summary and from the event itself, so every reader (the capture, tests,
 * benchmarks) decodes alike.  The fields an earlier event of the flow
 * delivered are zero here: the Timeline's flow::FlowCompletion (or the
 * offline Tracker, from its own table) completes them.
 */
#ifndef RSTHOP_RECORD_H
#define RSTHOP_RECORD_H

#include <string.h>

#include "parse.h"
#include "flow_key.h"

/*
 * The flow state a record tells (ev's header already filled): the summary's
 * counters, ts_rst[] of a RST's sender, and the once-per-connection fields
 * of the event that set them (RH_FLOW_FIRST); everything else zero.
 */
static inline void rh_flow_expand(struct rh_event *ev, const struct rh_flow_sum *s)
{
	struct rh_flow_state *st = &ev->flow;
	__u8 side = ev->side & 1;

	memset(st, 0, sizeof(*st));
	if (!(ev->flow_flags & RH_FLOW_STATE))
		return;
	st->ts_syn = s->ts_syn;
	st->ts_last_payload[0] = s->ts_last_payload[0];
	st->ts_last_payload[1] = s->ts_last_payload[1];
	memcpy(st->bytes, s->bytes, RH_FLOW_SUM_COUNTERS);
	st->initiator = s->initiator;
	st->history[0] = s->history[0];
	st->history[1] = s->history[1];
	st->pure_ack = s->pure_ack;
	if (ev->kind == RH_EV_RST)
		st->ts_rst[side] = ev->ts_ns;
	if (!(ev->flow_flags & RH_FLOW_FIRST))
		return;
	switch (ev->kind) {
	case RH_EV_SYN: /* rh_track_baseline() of the first SYN */
		st->init_ttl = ev->ttl;
		st->init_ip_id = ev->ip_id;
		st->init_window = ev->window;
		memcpy(st->init_mac, ev->smac, 6);
		break;
	case RH_EV_SYNACK:
		st->ts_synack = ev->ts_ns;
		st->peer_ttl = ev->ttl;
		st->peer_ip_id = ev->ip_id;
		st->peer_window = ev->window;
		memcpy(st->peer_mac, ev->smac, 6);
		break;
	case RH_EV_FIN:
		st->ts_fin[side] = ev->ts_ns;
		break;
	case RH_EV_PAYLOAD:
		st->ts_first_payload[side] = ev->ts_ns;
		break;
	default:
		break;
	}
}

/*
 * Returns 0 and fills *ev (and, for RH_EV_PAYLOAD, *data / *data_len with the
 * captured bytes inside `rec`), or -1 when the record is malformed (too
 * short for its kind, or an unknown kind).
 */
static inline int rh_record_decode(const void *rec, size_t size, struct rh_event *ev, const __u8 **data,
				   size_t *data_len)
{
	const struct rh_event *r = (const struct rh_event *)rec; /* the header, at the same offsets */
	const struct rh_record *full = (const struct rh_record *)rec;
	size_t need;

	*data = 0;
	*data_len = 0;
	if (size < RH_REC_SIZE_BASE)
		return -1;
	switch (r->kind) {
	case RH_EV_PAYLOAD:
		need = sizeof(struct rh_data_event);
		break;
	case RH_EV_ICMP:
		need = RH_REC_SIZE_ICMP;
		break;
	case RH_EV_RST:
		need = r->payload_len ? RH_REC_SIZE_RST_PAYLOAD : RH_REC_SIZE_BASE;
		break;
	case RH_EV_SYN:
	case RH_EV_SYNACK:
	case RH_EV_FIN:
	case RH_EV_LOCAL_RST_SEND:
	case RH_EV_LOCAL_RST_RECV:
		need = RH_REC_SIZE_BASE;
		break;
	default:
		return -1;
	}
	if (size < need)
		return -1;
	memcpy(ev, rec, RH_REC_HEAD_SIZE);
	memset((__u8 *)ev + RH_REC_HEAD_SIZE, 0, sizeof(*ev) - RH_REC_HEAD_SIZE);
	if (r->kind == RH_EV_PAYLOAD) {
		const struct rh_data_event *d = (const struct rh_data_event *)rec;
		size_t n = ev->snap_len < RH_DATA_SNAP_MAX ? ev->snap_len : RH_DATA_SNAP_MAX;

		*data = d->data;
		*data_len = n;
	} else if (ev->snap_len > RH_RST_PAYLOAD_MAX || (r->kind != RH_EV_RST && ev->snap_len)) {
		return -1;
	}
	if (need == RH_REC_SIZE_RST_PAYLOAD)
		memcpy(ev->payload, full->u.payload, RH_RST_PAYLOAD_MAX);
	else if (r->kind == RH_EV_ICMP)
		memcpy(&ev->icmp_type, &full->u.icmp, sizeof(full->u.icmp));
	rh_flow_expand(ev, &full->flow);
	if (ev->kind == RH_EV_ICMP)
		rh_flow_key_make(&ev->key, ev->family, ev->inner_saddr, ev->inner_sport, ev->inner_daddr,
				 ev->inner_dport);
	else
		rh_flow_key_make(&ev->key, ev->family, ev->saddr, ev->sport, ev->daddr, ev->dport);
	return 0;
}

/* The record's kind (the same offset in rh_event and rh_frame_event), or -1 when too short. */
static inline int rh_record_kind(const void *rec, size_t size)
{
	if (size < __builtin_offsetof(struct rh_event, kind) + 1)
		return -1;
	return ((const struct rh_event *)rec)->kind;
}

/*
 * An RH_EV_FRAME record (--pcap-out): returns 0 and points *fe at it (inside
 * `rec`, *data_len its valid bytes), or -1 when it is malformed.
 */
static inline int rh_frame_decode(const void *rec, size_t size, const struct rh_frame_event **fe, size_t *data_len)
{
	const struct rh_frame_event *f = (const struct rh_frame_event *)rec;

	*fe = 0;
	*data_len = 0;
	if (size < sizeof(struct rh_frame_event) || f->kind != RH_EV_FRAME || f->snap_len > RH_FRAME_SNAP_MAX ||
	    f->snap_len > f->wire_len)
		return -1;
	*fe = f;
	*data_len = f->snap_len;
	return 0;
}

#endif /* RSTHOP_RECORD_H */
