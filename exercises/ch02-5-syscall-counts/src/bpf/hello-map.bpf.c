// SPDX-License-Identifier: GPL-2.0
// Exercise 2.5: chapter02's hello-map on every syscall, counting per syscall.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// BCC's BPF_HASH(counter_table), with its default u64 key and value.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);
	__type(value, u64);
} counter_table SEC(".maps");

// Every syscall passes through the raw_syscalls/sys_enter tracepoint. Its context holds the
// fields listed in /sys/kernel/tracing/events/raw_syscalls/sys_enter/format.
SEC("tp/raw_syscalls/sys_enter")
int hello(struct trace_event_raw_sys_enter *ctx)
{
	u64 uid;
	u64 counter = 0;
	u64 *p;

	// TODO (exercise 2.5): count per syscall instead of per user, so that the map holds one
	// entry for each syscall made on the machine.
	// The lower 32 bits hold the user ID, the upper 32 bits the group ID.
	uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	p = bpf_map_lookup_elem(&counter_table, &uid);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &uid, &counter, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
