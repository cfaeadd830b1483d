// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tools/bpfbench --stage: the per-CPU staging prototype of issue 14.  Two XDP
 * programs write the same 184-byte record (the size of rsthop's compact
 * SYN / FIN / RST record) for every packet:
 *   stage_direct: bpf_ringbuf_reserve + fill + submit(BPF_RB_NO_WAKEUP), as
 *                 rsthop does today;
 *   stage_batch:  fill into this CPU's staging slot (an array entry indexed by
 *                 the CPU, so it can hold a bpf_timer), flushed as one ring
 *                 record of cfg_batch records when the batch is full or the
 *                 next event comes cfg_flush_ns after the batch's first; a
 *                 lone event is flushed by a CPU-pinned timer cfg_timer_ns
 *                 after it (armed once per batch, only when cfg_timer_ns).
 *   stage_percpu: the floor of a lock-free per-CPU ring (session 20);
 *   stage_output: filled in a per-CPU scratch, one bpf_ringbuf_output() (session 20).
 * All read the clock once per event, as an event's timestamp does.  Then
 * the lookup pair (lookup40 / lookup12), the floors (floor_clock,
 * floor_counter: one piece of the tracked path alone, session 9) and a
 * direct-mapped array lookup beside them (lookup_direct, session 17).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define STAGE_REC  184
#define STAGE_MAX  32
#define STAGE_CPUS 64

const volatile __u32 cfg_batch = 16;
const volatile __u64 cfg_flush_ns = 100000;
const volatile __u64 cfg_timer_ns = 0;
const volatile __u8 cfg_fill = 1;   /* 0: one 8-byte store instead of the 184-byte fill (decomposition) */
const volatile __u8 cfg_output = 1; /* 0: a full batch is dropped, not copied to the ring (decomposition) */

struct stage_rec {
	__u64 w[STAGE_REC / 8];
};

struct stage_slot {
	struct bpf_timer timer;
	__u64 first_ns;
	__u32 count;
	__u32 armed;
	__u32 inited;
	__u32 spare;
	__u32 hdr; /* the flushed record: hdr (count), pad, then the records */
	__u32 pad;
	struct stage_rec rec[STAGE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} stage_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAGE_CPUS);
	__type(key, __u32);
	__type(value, struct stage_slot);
} stage_slots SEC(".maps");

/* Flushed batches and lost (reserve failed) records, for the benchmark's checks. */
__u64 stage_flushes = 0;
__u64 stage_lost = 0;

static __always_inline void fill(struct stage_rec *r, struct xdp_md *ctx, __u64 now)
{
	__u64 a = ctx->ingress_ifindex, b = ctx->rx_queue_index;

	if (!cfg_fill) {
		r->w[0] = now + b;
		return;
	}

#pragma unroll
	for (int i = 0; i < STAGE_REC / 8; i++)
		r->w[i] = now + a * i + b;
}

static __always_inline void flush(struct stage_slot *s)
{
	__u32 n = s->count;

	if (n == 0)
		return;
	if (n > STAGE_MAX)
		n = STAGE_MAX;
	s->hdr = n;
	if (!cfg_output) {
		s->count = 0;
		return;
	}
	if (bpf_ringbuf_output(&stage_ring, &s->hdr, 8 + (__u64)n * STAGE_REC, BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&stage_lost, n);
	else
		__sync_fetch_and_add(&stage_flushes, 1);
	s->count = 0;
}

static int on_timer(void *map, __u32 *key, struct stage_slot *s)
{
	s->armed = 0;
	flush(s);
	return 0;
}

SEC("xdp")
int stage_direct(struct xdp_md *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	struct stage_rec *r = bpf_ringbuf_reserve(&stage_ring, STAGE_REC, 0);

	if (!r) {
		__sync_fetch_and_add(&stage_lost, 1);
		return 2;
	}
	fill(r, ctx, now);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 2; /* XDP_PASS */
}

SEC("xdp")
int stage_batch(struct xdp_md *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 cpu = bpf_get_smp_processor_id();
	struct stage_slot *s = bpf_map_lookup_elem(&stage_slots, &cpu);
	__u32 n;

	if (!s)
		return 2;
	n = s->count;
	if (n >= STAGE_MAX)
		return 2;
	if (n == 0) {
		s->first_ns = now;
		if (cfg_timer_ns && !s->armed) {
			if (!s->inited) {
				bpf_timer_init(&s->timer, &stage_slots, 1 /* CLOCK_MONOTONIC */);
				bpf_timer_set_callback(&s->timer, on_timer);
				s->inited = 1;
			}
			s->armed = 1;
			bpf_timer_start(&s->timer, cfg_timer_ns, BPF_F_TIMER_CPU_PIN);
		}
	}
	fill(&s->rec[n], ctx, now);
	s->count = ++n;
	if (n >= cfg_batch || now - s->first_ns >= cfg_flush_ns)
		flush(s);
	return 2;
}

/*
 * stage_percpu (session 20): the floor of a lock-free per-CPU ring in an
 * mmapable array: the clock, this CPU's region (the CPU id and the array
 * lookup are inlined), the record filled in place at head, head advanced.
 * No reserve lock, no header, no submit; nothing drains it (head wraps), so
 * this is what such a ring would cost at best.
 */
#define PC_SLOTS 256

struct pc_ring {
	__u64 head;
	__u64 pad[7];
	struct stage_rec rec[PC_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAGE_CPUS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pc_ring);
} pc_rings SEC(".maps");

SEC("xdp")
int stage_percpu(struct xdp_md *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 cpu = bpf_get_smp_processor_id();
	struct pc_ring *r = bpf_map_lookup_elem(&pc_rings, &cpu);
	__u64 h;

	if (!r)
		return 2;
	h = r->head;
	fill(&r->rec[h & (PC_SLOTS - 1)], ctx, now);
	asm volatile("" ::: "memory");
	r->head = h + 1;
	return 2;
}

/*
 * stage_output (session 20): the record filled in this CPU's scratch value
 * (a per-CPU array, its lookup inlined) and copied into the ring by one
 * bpf_ringbuf_output() call, instead of a reserve and a submit call.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stage_rec);
} out_scratch SEC(".maps");

SEC("xdp")
int stage_output(struct xdp_md *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	struct stage_rec *r = bpf_map_lookup_elem(&out_scratch, &zero);

	if (!r)
		return 2;
	fill(r, ctx, now);
	if (bpf_ringbuf_output(&stage_ring, r, STAGE_REC, BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&stage_lost, 1);
	return 2;
}

/*
 * The flow lookup's key size (issue 14, tc data): one LRU-hash lookup per
 * packet with rsthop's 40-byte rh_flow_key layout, or with a 12-byte IPv4
 * key (addresses, ports), the entry inserted by userspace beforehand.  The
 * key is built from ctx fields so it is not a constant.
 */
struct key40 {
	__u32 w[10];
};
struct key12 {
	__u32 w[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct key40);
	__type(value, __u64[20]);
} lru40 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct key12);
	__type(value, __u64[20]);
} lru12 SEC(".maps");

__u64 lookup_hits = 0;

SEC("xdp")
int lookup40(struct xdp_md *ctx)
{
	struct key40 k = {};
	__u64 *v;

	k.w[2] = 0xffff0000 | ctx->rx_queue_index;
	k.w[3] = 0x0100000a;
	k.w[6] = 0xffff0000;
	k.w[7] = 0x0200000a;
	k.w[8] = (443 << 16) | 40000;
	k.w[9] = 4;
	v = bpf_map_lookup_elem(&lru40, &k);
	if (v)
		v[1]++;
	return 2;
}

SEC("xdp")
int lookup12(struct xdp_md *ctx)
{
	struct key12 k;
	__u64 *v;

	k.w[0] = 0x0100000a | ctx->rx_queue_index;
	k.w[1] = 0x0200000a;
	k.w[2] = (443 << 16) | 40000;
	v = bpf_map_lookup_elem(&lru12, &k);
	if (v)
		v[1]++;
	return 2;
}

/*
 * The direct-mapped alternative (session 17, tc data): the flow found in a
 * plain array, its slot chosen by a multiply-xor hash of the 12-byte key and
 * the key compared, instead of an LRU-hash lookup.  The verifier inlines an
 * array lookup; what is left is the hash, the compare and the stores.  The
 * floor of a table that would need a fallback for colliding flows and an
 * eviction rule of its own (not built: see docs/BENCHMARKS.md, session 17).
 */
#define DIRECT_SLOTS 65536

struct direct_slot {
	struct key12 key;
	__u32 pad;
	__u64 v[20];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DIRECT_SLOTS);
	__type(key, __u32);
	__type(value, struct direct_slot);
} direct12 SEC(".maps");

__u64 direct_misses = 0;

static __always_inline __u32 direct_index(const struct key12 *k)
{
	__u64 h = ((__u64)k->w[0] << 32 | k->w[1]) * 0x9E3779B97F4A7C15ULL;

	h = (h ^ k->w[2]) * 0x9E3779B97F4A7C15ULL;
	return (__u32)(h >> 48) & (DIRECT_SLOTS - 1);
}

SEC("xdp")
int lookup_direct(struct xdp_md *ctx)
{
	struct key12 k;
	struct direct_slot *s;
	__u32 idx;

	k.w[0] = 0x0100000a | ctx->rx_queue_index;
	k.w[1] = 0x0200000a;
	k.w[2] = (443 << 16) | 40000;
	idx = direct_index(&k);
	s = bpf_map_lookup_elem(&direct12, &idx);
	if (!s)
		return 2;
	if (s->key.w[0] != k.w[0] || s->key.w[1] != k.w[1] || s->key.w[2] != k.w[2]) {
		__sync_fetch_and_add(&direct_misses, 1);
		return 2;
	}
	s->v[1]++;
	return 2;
}

/*
 * Floors of the kernel rows (session 9): one piece of rsthop's tracked path
 * alone, over the empty program.  floor_clock reads the clock as a PSH
 * segment does (bpf_ktime_get_ns) and keeps it; floor_counter bumps a
 * per-CPU counter as every rsthop packet does (counters, twice per IP packet).
 */
__u64 floor_last_ns = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[32]);
} floor_counters SEC(".maps");

SEC("xdp")
int floor_clock(struct xdp_md *ctx)
{
	floor_last_ns = bpf_ktime_get_ns();
	return 2;
}

SEC("xdp")
int floor_counter(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&floor_counters, &zero);

	if (c)
		c[1]++;
	return 2;
}
