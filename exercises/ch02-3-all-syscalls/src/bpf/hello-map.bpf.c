// SPDX-License-Identifier: GPL-2.0
// Exercise 2.3 (Learning eBPF §2.3): count all syscalls per user ID by attaching hello-map to
// the sys_enter raw tracepoint. Check with `cargo learn check ch02-3-all-syscalls`.
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

// TODO (exercise 2.3): count every syscall, not only execve: attach to the sys_enter raw
// tracepoint instead (SEC("raw_tp/sys_enter"), whose context is
// struct bpf_raw_tracepoint_args *).
SEC("tp/syscalls/sys_enter_execve")
int hello(void *ctx)
{
	increment(current_uid());
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
