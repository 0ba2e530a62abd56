// SPDX-License-Identifier: GPL-2.0
// Exercise 2.5, solved: chapter02's hello-map on every syscall, counting per syscall.
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
	u64 syscall_nr;
	u64 counter = 0;
	u64 *p;

	// The syscall's number: the same syscall has different numbers on x86_64 and arm64.
	syscall_nr = ctx->id;
	p = bpf_map_lookup_elem(&counter_table, &syscall_nr);
	if (p != NULL)
		counter = *p;
	counter++;
	bpf_map_update_elem(&counter_table, &syscall_nr, &counter, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
