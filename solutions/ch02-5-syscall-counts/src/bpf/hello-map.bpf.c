// SPDX-License-Identifier: GPL-2.0
// Exercise 2.5 (Learning eBPF §2.3): adapt hello-map further so that the hash key is the
// syscall, giving system-wide counts per syscall. Check with
// `cargo learn check ch02-5-syscall-counts`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

static void increment(u64 key)
{
	u64 counter = 0;
	u64 *p = bpf_map_lookup_elem(&counter_table, &key);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &key, &counter, BPF_ANY);
}

static u64 current_uid(void)
{
	return bpf_get_current_uid_gid() & 0xFFFFFFFF;
}

// Every syscall enters through the sys_enter raw tracepoint; args[1] is its number.
SEC("raw_tp/sys_enter")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	increment(ctx->args[1]);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
