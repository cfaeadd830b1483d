/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading ring-buffer records (userspace only): a record is a prefix of
 * struct rh_event (see abi.h); rh_record_decode() turns it into a whole
 * rh_event, zero-filled past the prefix, with the canonical key derived
 * from the tuple, so every reader (the capture, tests, benchmarks) decodes
 * alike.
 */
#ifndef RSTHOP_RECORD_H
#define RSTHOP_RECORD_H

#include <string.h>

#include "parse.h"

/*
 * Returns 0 and fills *ev (and, for RH_EV_PAYLOAD, *data / *data_len with the
 * captured bytes inside `rec`), or -1 when the record is malformed (too
 * short for its kind, or an unknown kind).
 */
static inline int rh_record_decode(const void *rec, size_t size, struct rh_event *ev, const __u8 **data,
				   size_t *data_len)
{
	const struct rh_event *r = (const struct rh_event *)rec;
	size_t need, copy;

	*data = 0;
	*data_len = 0;
	if (size < RH_EV_SIZE_BASE)
		return -1;
	switch (r->kind) {
	case RH_EV_PAYLOAD:
		need = sizeof(struct rh_data_event);
		break;
	case RH_EV_ICMP:
		need = RH_EV_SIZE_ICMP;
		break;
	case RH_EV_RST:
		need = r->payload_len ? RH_EV_SIZE_RST_PAYLOAD : RH_EV_SIZE_BASE;
		break;
	case RH_EV_SYN:
	case RH_EV_SYNACK:
	case RH_EV_FIN:
	case RH_EV_LOCAL_RST_SEND:
	case RH_EV_LOCAL_RST_RECV:
		need = RH_EV_SIZE_BASE;
		break;
	default:
		return -1;
	}
	if (size < need)
		return -1;
	copy = r->kind == RH_EV_PAYLOAD ? RH_EV_SIZE_BASE : need;
	memcpy(ev, rec, copy);
	memset((__u8 *)ev + copy, 0, sizeof(*ev) - copy);
	if (r->kind == RH_EV_PAYLOAD) {
		const struct rh_data_event *d = (const struct rh_data_event *)rec;
		size_t n = ev->snap_len < RH_DATA_SNAP_MAX ? ev->snap_len : RH_DATA_SNAP_MAX;

		*data = d->data;
		*data_len = n;
	} else if (ev->snap_len > RH_RST_PAYLOAD_MAX || (r->kind != RH_EV_RST && ev->snap_len)) {
		return -1;
	}
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
