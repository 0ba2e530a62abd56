// SPDX-License-Identifier: GPL-2.0
// Exercise 2.5 (Learning eBPF, chapter 2's exercises): adapt hello-map further so that the hash key
// is the syscall, giving system-wide counts per syscall. Check with `cargo learn check
// ch02-5-syscall-counts`.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

// counter_table, increment() and current_uid(), as in chapter02's hello-map.
#include "counter_table.h"

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
