// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Baselines for tools/bpfbench: programs that do nothing, so that
 * BPF_PROG_TEST_RUN's own per-packet cost can be subtracted from rsthop's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_xdp_empty(struct xdp_md *ctx)
{
	return 2; /* XDP_PASS */
}

SEC("tc")
int bench_tc_empty(struct __sk_buff *skb)
{
	return 0; /* TC_ACT_OK */
}
