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

// TODO (exercise 2.5): key the counts by syscall number instead of user ID. In a sys_enter
// raw tracepoint, ctx->args[1] holds the syscall number.
// Every syscall enters through the sys_enter raw tracepoint.
SEC("raw_tp/sys_enter")
int hello(struct bpf_raw_tracepoint_args *ctx)
{
	increment(current_uid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
